#!/usr/bin/env bash
# Does recording history (and the rest of insight) slow the snapshot service's tick? Times the tick with insight off,
# then on, then off and on again, while the load generator churns loopback connections, and checks the history
# database keeps to its row bound.
#   bash bench/insight/run.sh [churn-per-second] [ticks]     (default: 500 connections/s ≈ 1,000+ socket births/s, 60 ticks)
set -euo pipefail
cd "$(dirname "$0")/../.."
churn=${1:-500}; ticks=${2:-60}
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/insight/PortDashboard.InsightBench >/dev/null
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/insight/PortDashboard.InsightBench/bin/Release/net10.0/PortDashboard.InsightBench.dll
db=$(mktemp -d)/history.db
log=$(mktemp)
dotnet "$gen" --connections 2000 --churn "$churn" --duration $(( (ticks + 15) * 4 + 120 )) >"$log" 2>&1 &
gen_pid=$!
trap 'kill -INT $gen_pid 2>/dev/null || true; rm -rf "$(dirname "$db")" "$log"' EXIT
for _ in $(seq 1 600); do grep -q '^ready' "$log" && break; sleep 0.5; done
grep -q '^ready' "$log" || { echo "load generator did not get ready:"; cat "$log"; exit 1; }
echo "# $(date -u +%FT%TZ) on $(nproc) cores, kernel $(uname -r); load: 2000 connections, churn $churn/s; $ticks ticks of 1 s each run"
for mode in off on off on; do
  dotnet "$bench" --insight "$mode" --ticks "$ticks" --history "$db" --max-rows 200000 | tail -1
done
