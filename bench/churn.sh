#!/usr/bin/env bash
# Hub connection churn (issue 13): new hub connections at a fixed rate for a minute, each subscribing with a filter,
# taking its first Snapshot and leaving (cleanly, by abort, or right after Subscribe), on a table the load generator
# churns; thread pool, RSS and the gauges back at base.
#   bash bench/churn.sh [--sockets 4000] [--churn 100] [--seconds 60] [--rate 20] [BENCH OPTIONS...]
# Further options go to `PortDashboard.Bench churn` (--max-stay-ms, --env K=V,...). Figures: docs/benchmarks.md,
# "Hub connection churn". The generator stops by itself after 10 min; it and the bench are killed on exit or error.
set -euo pipefail
cd "$(dirname "$0")/.."
sockets=4000 churn=100 seconds=60 rate=20 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sockets) sockets=$2 ;; --churn) churn=$2 ;; --seconds) seconds=$2 ;; --rate) rate=$2 ;;
    --*) extra+=("$1" "$2") ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
source bench/lib.sh
build_all
start_generator $((sockets / 2)) "$churn" 600
print_header "bash bench/churn.sh --sockets $sockets --churn $churn --seconds $seconds --rate $rate ${extra[*]}"
run_bench churn --app "$app" --seconds "$seconds" --rate "$rate" "${extra[@]}"
