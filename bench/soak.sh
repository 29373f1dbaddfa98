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
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/PortDashboard.Bench >/dev/null
dotnet publish -c Release src/PortDashboard -o bench/.out/app >/dev/null
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll

log=$(mktemp) gen_pid= bench_pid=
cleanup() {
  [ -n "$bench_pid" ] && kill -TERM "$bench_pid" 2>/dev/null || true
  [ -n "$gen_pid" ] && kill -TERM "$gen_pid" 2>/dev/null || true
  [ -n "$bench_pid" ] && wait "$bench_pid" 2>/dev/null || true
  [ -n "$gen_pid" ] && wait "$gen_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The generator outlives the soak by a margin (app start, warm-up, pages), and stops by itself after it.
gen_seconds=$(awk -v m="$minutes" -v w="$warmup" 'BEGIN { printf "%d", m * 60 + w + 600 }')
dotnet "$gen" --connections $((sockets / 2)) --churn "$churn" --duration "$gen_seconds" >"$log" 2>&1 &
gen_pid=$!
for _ in $(seq 1 1200); do grep -q '^ready' "$log" && break; kill -0 "$gen_pid" 2>/dev/null || break; sleep 0.5; done
grep -q '^ready' "$log" || { echo "load generator did not get ready:"; cat "$log"; exit 1; }
echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB, kernel $(uname -r)"
echo "# load generator $(grep '^ready' "$log") connections, churn $churn/s; $(uptime | sed 's/.*load/load/')"
echo "# bash bench/soak.sh --minutes $minutes --sockets $sockets --churn $churn --hub-clients $hub_clients --pages $pages --warmup $warmup"
echo
dotnet "$bench" soak --app bench/.out/app/PortDashboard.dll --minutes "$minutes" --warmup "$warmup" \
  --hub-clients "$hub_clients" --pages "$pages" &
bench_pid=$!
status=0; wait "$bench_pid" || status=$?
bench_pid=
exit "$status"
