#!/usr/bin/env bash
# Benchmarks PortDashboard against ss, lsof, netstat and cat on the same socket table.
#   bash bench/run.sh [connections ...]      (default: 500 5000 50000 connections = 1k, 10k, 100k sockets)
# Each size: the load generator opens the connections on loopback (spread over processes: the open-file
# limit is 20,000 per process), the bench times every reader on that table, then the generator stops.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(500 5000 50000)
command -v lsof >/dev/null && command -v netstat >/dev/null || {
  [ "$(id -u)" -eq 0 ] && apt-get install -y -qq lsof net-tools iproute2 >/dev/null; }
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/PortDashboard.Bench >/dev/null
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll
echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for n in "${sizes[@]}"; do
  log=$(mktemp)
  dotnet "$gen" --connections "$n" --duration 900 >"$log" 2>&1 &
  gen_pid=$!
  for _ in $(seq 1 600); do grep -q '^ready' "$log" && break; sleep 0.5; done
  grep -q '^ready' "$log" || { echo "load generator did not get ready:"; cat "$log"; kill $gen_pid; exit 1; }
  echo; echo "## $n connections ($(grep '^ready' "$log"))"
  extra=(); [ "$n" -ge 50000 ] && extra=(--runs 5 --max-seconds 60)
  dotnet "$bench" "${extra[@]}"
  kill -INT $gen_pid 2>/dev/null || true; wait $gen_pid 2>/dev/null || true; rm -f "$log"
done
