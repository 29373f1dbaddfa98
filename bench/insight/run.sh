#!/usr/bin/env bash
# Does recording history (and the rest of insight) slow the snapshot service's tick? Times the tick with insight off
# and on, alternating for several rounds (the machine's other load drifts), while the load generator churns loopback
# connections; prints each run, then every tick of each mode pooled, and checks the history keeps to its row bound.
#   bash bench/insight/run.sh [churn-per-second] [ticks-per-run] [rounds]
#   (default: 500 connections/s, which is about 1,000 socket births/s and as many TIME_WAIT ones; 20 ticks; 4 rounds)
set -euo pipefail
cd "$(dirname "$0")/../.."
churn=${1:-500}; ticks=${2:-20}; rounds=${3:-4}
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/insight/PortDashboard.InsightBench >/dev/null
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/insight/PortDashboard.InsightBench/bin/Release/net10.0/PortDashboard.InsightBench.dll
work=$(mktemp -d)
dotnet "$gen" --connections 2000 --churn "$churn" --duration $(( rounds * 2 * (ticks + 15) + 120 )) >"$work/gen.log" 2>&1 &
gen_pid=$!
trap 'kill -INT $gen_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q '^ready' "$work/gen.log" && break; sleep 0.5; done
grep -q '^ready' "$work/gen.log" || { echo "load generator did not get ready:"; cat "$work/gen.log"; exit 1; }
echo "# $(date -u +%FT%TZ) on $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# load generator: 2000 connections, churn $churn/s; $rounds rounds of $ticks ticks (1 s) per mode"
for round in $(seq 1 "$rounds"); do
  for mode in off on; do
    dotnet "$bench" --insight "$mode" --ticks "$ticks" --history "$work/history.db" --max-rows 200000 >"$work/run.log"
    tail -1 "$work/run.log"
    grep '^tick' "$work/run.log" | awk -v m="$mode" '{ print m, $3 }' >>"$work/ticks"
  done
done
echo "# every tick pooled by mode (ms):"
for mode in off on; do
  grep "^$mode " "$work/ticks" | awk '{ print $2 }' | sort -n | awk -v m="$mode" '
    { v[NR] = $1; s += $1 } END { printf "insight %-3s: %d ticks, mean %.1f, median %.1f, p95 %.1f\n", m, NR, s / NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)] }'
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
