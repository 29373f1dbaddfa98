#!/usr/bin/env bash
# What reading other network namespaces costs a poll, at a host table of N connections (2N sockets) with tcp_info.
#   bash bench/netns.sh [host-connections ...] [--namespaces 3] [--per-namespace 500] [--runs 21]
# (default: 5000 50000 host connections = 10k and 100k sockets). Needs root: it makes NS namespaces
# pd-bench-<i>-<pid> (ip netns add, lo up) and runs a load generator inside each (ip netns exec) holding
# --per-namespace connections (2x sockets), one on the host; then `PortDashboard.Bench netns` times the two ways of
# reading a namespace and the steady snapshot with and without the namespaces. Everything stops by itself (the
# generators after 30 min at most) and is stopped and deleted at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=(); namespaces=3; per=500; runs=21
while [ $# -gt 0 ]; do
  case "$1" in
    --namespaces) namespaces=$2; shift 2 ;;
    --per-namespace) per=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) sizes+=("$1"); shift ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(5000 50000)
[ "$(id -u)" -eq 0 ] || { echo "bench/netns.sh needs root (ip netns add, setns)"; exit 1; }
dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
dotnet build -c Release bench/PortDashboard.Bench >/dev/null
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll
# Leftovers of a killed run (their pid is gone).
for ns in $(ip netns list | awk '{print $1}' | grep '^pd-bench-' || true); do
  [ -d "/proc/${ns##*-}" ] || ip netns del "$ns" || true
done
pids=(); names=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ns in "${names[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
wait_ready() { for _ in $(seq 1 600); do grep -q '^ready' "$1" && return 0; sleep 0.5; done; echo "not ready: $(cat "$1")"; exit 1; }
echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for i in $(seq 1 "$namespaces"); do
  ns="pd-bench-$i-$$"; names+=("$ns")
  ip netns add "$ns"; ip -n "$ns" link set lo up
  log=$(mktemp); ip netns exec "$ns" dotnet "$gen" --connections "$per" --churn $((per / 100)) --duration 1800 >"$log" 2>&1 &
  pids+=($!); wait_ready "$log"
done
for n in "${sizes[@]}"; do
  log=$(mktemp)
  dotnet "$gen" --connections "$n" --churn $((n / 100)) --duration 1800 >"$log" 2>&1 &
  host_pid=$!; pids+=("$host_pid"); wait_ready "$log"
  echo; echo "## host: $n connections, churn $((n / 100))/s; $namespaces namespaces of $per connections, churn $((per / 100))/s each; $(uptime | sed 's/.*load/load/')"
  dotnet "$bench" netns --runs "$runs"
  kill -TERM "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true
done
