#!/usr/bin/env bash
# Benchmarks PortDashboard against ss, lsof, netstat and cat on the same socket table, and measures the server.
#   bash bench/run.sh [connections ...]      (default: 500 5000 50000 connections = 1k, 10k, 100k sockets)
# Each size: the load generator opens the connections on loopback (spread over processes: the open-file limit is
# 20,000 per process) and churns 1% of the sockets per second (connections/100 connections closed and reopened per
# second, each replacing 2 sockets); then
#   1. the bench times every reader on that table (PortDashboard in process, the others as commands);
#   2. it sizes the hub's messages for that table (an idle tick, deltas of 10 changes, the first message);
#   3. it runs the app (Release, 1 Hz polling) with two hub subscribers, 45 s of warm-up (JIT tiers) then 60 s
#      measured: CPU share, RSS, bytes per delta;
#   4. it runs the published app (1 Hz polling) with a headless chromium on the Connections page and opens 50
#      listeners at random moments of the poll cycle: socket opened → visible, percentiles.
# Then the generator stops (SIGTERM; it stops by itself after 30 min anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(500 5000 50000)
command -v lsof >/dev/null && command -v netstat >/dev/null || {
  [ "$(id -u)" -eq 0 ] && apt-get install -y -qq lsof net-tools iproute2 >/dev/null; }
[ -x /usr/bin/chromium ] || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/PortDashboard.Bench >/dev/null   # builds the app (src/PortDashboard) in Release too
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll
app=src/PortDashboard/bin/Release/net10.0/PortDashboard.dll
# The browser trial needs the published app: an unpublished build outside Development does not serve _content/.
dotnet publish -c Release src/PortDashboard -o bench/.out/app >/dev/null
published=bench/.out/app/PortDashboard.dll
echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB, kernel $(uname -r)"
for n in "${sizes[@]}"; do
  log=$(mktemp)
  dotnet "$gen" --connections "$n" --churn $((n / 100)) --duration 1800 >"$log" 2>&1 &
  gen_pid=$!
  trap 'kill -TERM $gen_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do grep -q '^ready' "$log" && break; sleep 0.5; done
  grep -q '^ready' "$log" || { echo "load generator did not get ready:"; cat "$log"; exit 1; }
  echo; echo "## $n connections, churn $((n / 100))/s ($(grep '^ready' "$log")); $(uptime | sed 's/.*load/load/')"
  extra=(); [ "$n" -ge 50000 ] && extra=(--runs 5 --max-seconds 60)
  echo; dotnet "$bench" times "${extra[@]}"
  echo; dotnet "$bench" wire
  echo; dotnet "$bench" server --app "$app" --seconds 60 --warmup 45
  echo; dotnet "$bench" latency --app "$published" --trials 50
  kill -TERM $gen_pid 2>/dev/null || true; wait $gen_pid 2>/dev/null || true; rm -f "$log"
  trap - EXIT
done
