#!/usr/bin/env bash
# The soak of issue 13: the published app held for minutes on a churning table with hub clients and chromium pages.
#   bash bench/soak.sh [--minutes 10] [--sockets 100000] [--churn 500] [--hub-clients 50] [--pages 5] [--warmup 60]
# The load generator opens sockets/2 loopback connections (spread over processes: the open-file limit is 20,000 per
# process) and closes and reopens --churn of them per second; then `PortDashboard.Bench soak` runs the app at 1 Hz
# polling with the clients and pages open and prints the summary (docs/benchmarks.md, "Soak"). Everything stops by
# itself (the generator after the soak's time + 10 min at most); the generator and the bench are killed on exit,
# Ctrl-C or error (the bench kills the app and the browser it started).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10 sockets=100000 churn=500 hub_clients=50 pages=5 warmup=60
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2 ;; --sockets) sockets=$2 ;; --churn) churn=$2 ;;
    --hub-clients) hub_clients=$2 ;; --pages) pages=$2 ;; --warmup) warmup=$2 ;;
    *) echo "unknown option $1 (expected --minutes, --sockets, --churn, --hub-clients, --pages, --warmup)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x /usr/bin/chromium ] || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
source bench/lib.sh
build_all

# The generator outlives the soak by a margin (app start, warm-up, pages), and stops by itself after it.
start_generator $((sockets / 2)) "$churn" "$(awk -v m="$minutes" -v w="$warmup" 'BEGIN { printf "%d", m * 60 + w + 600 }')"
print_header "bash bench/soak.sh --minutes $minutes --sockets $sockets --churn $churn --hub-clients $hub_clients --pages $pages --warmup $warmup"
run_bench soak --app "$app" --minutes "$minutes" --warmup "$warmup" --hub-clients "$hub_clients" --pages "$pages"
