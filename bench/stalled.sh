#!/usr/bin/env bash
# Stalled hub clients (issue 13): 1, 10 and 100 hub clients in a separate process that subscribe and are then
# SIGSTOPped, while a healthy client measures its deltas' delay, on a table the load generator churns.
#   bash bench/stalled.sh [--sockets 4000] [--churn 100] [--counts 1,10,100] [--stall-seconds 40] [BENCH OPTIONS...]
# Further options go to `PortDashboard.Bench stalled` (--stalled-filter F, --receive-buffer BYTES, --env K=V,...).
# Figures: docs/benchmarks.md, "Stalled hub clients". Everything stops by itself (the generator after 10 min at most,
# the stalled process under `timeout -s KILL`); the generator and the bench are killed on exit, Ctrl-C or error.
set -euo pipefail
cd "$(dirname "$0")/.."
sockets=4000 churn=100 counts=1,10,100 stall=40 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sockets) sockets=$2 ;; --churn) churn=$2 ;; --counts) counts=$2 ;; --stall-seconds) stall=$2 ;;
    --*) extra+=("$1" "$2") ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
source bench/lib.sh
build_all
start_generator $((sockets / 2)) "$churn" 600
print_header "bash bench/stalled.sh --sockets $sockets --churn $churn --counts $counts --stall-seconds $stall ${extra[*]}"
run_bench stalled --app "$app" --counts "$counts" --stall-seconds "$stall" "${extra[@]}"
