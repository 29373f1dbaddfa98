#!/usr/bin/env bash
# The fleet benchmark of issue 12: N agents into one dashboard on this machine.
#   bash bench/fleet.sh [--agents 50] [--sockets 1000] [--churn 2] [--warmup 60] [--seconds 60] [--trials 30]
#                       [--trial-hosts 5] [--start-batch 5] [--deadline-minutes 45] [--agent-env K=V,K=V]
# `PortDashboard.Bench fleet` starts a redis-server of its own (loopback port for the dashboard, a unix socket for the
# agents: a network namespace cannot reach the host's loopback), N hosts (each a network namespace with lo up and a
# PID namespace of its own, holding a load generator (bench/fleet-host-load.py, one thread) of about --sockets sockets
# churning --churn connections a second, and one published agent at 1 Hz), one published dashboard with the fleet on
# loopback and headless chromium on the Connections page of a few hosts (host=NAME); after the warm-up it measures for
# --seconds: each agent's CPU and RSS, the dashboard's, Redis's INFO memory, and socket opened in a namespace → its
# row in chromium. It prints a table with the targets (docs/benchmarks.md, "Fleet (issue 12)").
# Cleanup: the bench stops everything it started by pid and deletes its namespaces, also on Ctrl-C, SIGTERM, failure
# and at its deadline; if it dies without doing so, this script kills what it recorded (pid and start time) and
# deletes the namespaces; a detached watchdog does the same after the deadline + 5 min if this script is gone too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Kills the recorded processes still alive (same pid and start time) and deletes the recorded namespaces.
reap() {
  local state=$1 kind pid start
  if [ -f "$state/pids" ]; then
    while read -r kind pid start; do
      if [ -r "/proc/$pid/stat" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ]; then
        echo "fleet.sh: killing the $kind left running (pid $pid)" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$state/pids"
  fi
  if [ -f "$state/namespaces" ]; then
    while read -r ns; do
      [ -e "/run/netns/$ns" ] && { echo "fleet.sh: deleting namespace $ns" >&2; ip netns del "$ns" 2>/dev/null || true; }
    done <"$state/namespaces"
  fi
  rm -rf "$state"
}

if [ "${1:-}" = "--reap" ]; then # the watchdog: bash bench/fleet.sh --reap STATE --after SECONDS
  state=$2 after=$4 sleeper=
  trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$after" & sleeper=$!
  wait "$sleeper"
  reap "$state"
  exit 0
fi

pass=() deadline=45
while [ $# -gt 0 ]; do
  case "$1" in
    --agents|--sockets|--churn|--warmup|--seconds|--trials|--trial-hosts|--start-batch|--agent-env) pass+=("$1" "$2") ;;
    --deadline-minutes) deadline=$2 ;;
    *) echo "unknown option $1 (expected --agents, --sockets, --churn, --warmup, --seconds, --trials, --trial-hosts, --start-batch, --agent-env, --deadline-minutes)" >&2; exit 2 ;;
  esac
  shift 2
done
[ "$(id -u)" -eq 0 ] || { echo "fleet.sh needs root: it creates network namespaces (ip netns add)" >&2; exit 2; }
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
[ -x /usr/bin/python3 ] || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
dotnet build -c Release bench/PortDashboard.Bench >/dev/null
dotnet publish -c Release src/PortDashboard -o bench/.out/app >/dev/null
gen=bench/fleet-host-load.py # one light process per host (50 .NET generators starved the agents being measured)
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll

state=$(mktemp -d /tmp/pd-fleet-bench-XXXXXX)
setsid bash "$0" --reap "$state" --after $((deadline * 60 + 300)) </dev/null >/dev/null 2>&1 &
watchdog=$! bench_pid=
cleanup() {
  if [ -n "$bench_pid" ]; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  reap "$state"
  kill -TERM "$watchdog" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB, kernel $(uname -r)"
echo "# bash bench/fleet.sh ${pass[*]}"
echo
dotnet "$bench" fleet --app bench/.out/app/PortDashboard.dll --generator "$gen" --state "$state" \
  --deadline-minutes "$deadline" "${pass[@]}" &
bench_pid=$!
status=0; wait "$bench_pid" || status=$?
bench_pid=
exit "$status"
