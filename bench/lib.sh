# Shared by bench/soak.sh, bench/stalled.sh and bench/churn.sh (sourced, from the repository root): builds and
# publishes, starts the load generator, runs one bench command, and kills what it started on exit, Ctrl-C or error.
gen=bench/PortDashboard.LoadGenerator/bin/Release/net10.0/PortDashboard.LoadGenerator.dll
bench=bench/PortDashboard.Bench/bin/Release/net10.0/PortDashboard.Bench.dll
app=bench/.out/app/PortDashboard.dll
gen_log=$(mktemp) gen_pid= bench_pid=

cleanup() {
  [ -n "$bench_pid" ] && kill -TERM "$bench_pid" 2>/dev/null || true
  [ -n "$gen_pid" ] && kill -TERM "$gen_pid" 2>/dev/null || true
  [ -n "$bench_pid" ] && wait "$bench_pid" 2>/dev/null || true
  [ -n "$gen_pid" ] && wait "$gen_pid" 2>/dev/null || true
  rm -f "$gen_log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# build_all: the generator, the bench and the published app (an unpublished build outside Development serves no _content/).
build_all() {
  dotnet build -c Release bench/PortDashboard.LoadGenerator >/dev/null
  dotnet build -c Release bench/PortDashboard.Bench >/dev/null
  dotnet publish -c Release src/PortDashboard -o bench/.out/app >/dev/null
}

# start_generator CONNECTIONS CHURN SECONDS: loopback connections (2 sockets each), CHURN closed and reopened per
# second; it stops by itself after SECONDS. Returns once every connection is open.
start_generator() {
  dotnet "$gen" --connections "$1" --churn "$2" --duration "$3" >"$gen_log" 2>&1 &
  gen_pid=$!
  for _ in $(seq 1 1200); do grep -q '^ready' "$gen_log" && break; kill -0 "$gen_pid" 2>/dev/null || break; sleep 0.5; done
  grep -q '^ready' "$gen_log" || { echo "load generator did not get ready:"; cat "$gen_log"; exit 1; }
}

# print_header COMMAND...: the machine, the generator and the load average, and the command that produced the figures.
print_header() {
  echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB, kernel $(uname -r)"
  [ -n "$gen_pid" ] && echo "# load generator $(grep '^ready' "$gen_log") connections; $(uptime | sed 's/.*load/load/')"
  echo "# $*"
  echo
}

# run_bench ARGS...: the bench in the background (so a signal reaches the trap), its exit status returned.
run_bench() {
  dotnet "$bench" "$@" &
  bench_pid=$!
  local status=0
  wait "$bench_pid" || status=$?
  bench_pid=
  return "$status"
}
