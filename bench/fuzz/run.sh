#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input, with SharpFuzz + AFL++ (Debian's afl++).
#   bash bench/fuzz/run.sh [execs] [target ...]
# execs: executions per target (default 1000000); targets: procnet netlink procpid filter hub history (default all).
# Builds bench/fuzz/PortDashboard.Fuzz, instruments PortDashboard.Core.dll and PortDashboard.dll with the sharpfuzz
# tool (SharpFuzz.CommandLine), then runs afl-fuzz once per target, one after the other, from the seed corpus in
# bench/fuzz/corpus/<target> until it has made `execs` executions (afl-fuzz -E), and prints executions, crashes and
# hangs per target. Findings are kept in bench/.out/fuzz/<target>/default/{crashes,hangs}; replay one with
#   dotnet bench/.out/fuzz/bin/PortDashboard.Fuzz.dll <target> <file>
# Not run in CI (it takes minutes per target); every crash it found is a regression test in the test projects.
set -euo pipefail
cd "$(dirname "$0")/../.."
execs=${1:-1000000}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(procnet netlink procpid filter hub history)
command -v afl-fuzz >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq afl++ >/dev/null; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null
out=bench/.out/fuzz
bin=$out/bin
rm -rf "$bin"
dotnet build -c Release bench/fuzz/PortDashboard.Fuzz -o "$bin" >/dev/null
for dll in PortDashboard.Core.dll PortDashboard.dll; do sharpfuzz "$bin/$dll" >/dev/null; done
# afl-fuzz: the .NET binary is not AFL-compiled, crash dumps go nowhere, the 2 cores are shared with other work.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
  AFL_NO_UI=1 AFL_FAST_CAL=1 AFL_QUIET=1
export DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=1
echo "# $(date -u +%FT%TZ) $(afl-fuzz -h 2>&1 | grep -m1 -o 'afl-fuzz++[0-9.a-z]*') + SharpFuzz 2.3.0, $(nproc) cores, $execs executions per target"
printf '%-8s %12s %9s %8s %6s %6s %8s\n' target executions seconds execs/s paths crashes hangs
status=0
for t in "${targets[@]}"; do
  rm -rf "${out:?}/$t"
  start=$(date +%s)
  afl-fuzz -i "bench/fuzz/corpus/$t" -o "$out/$t" -E "$execs" -t 5000 -m none -- dotnet "$bin/PortDashboard.Fuzz.dll" "$t" \
    >"$out/$t.log" 2>&1 || { echo "afl-fuzz failed for $t (see $out/$t.log):"; tail -5 "$out/$t.log"; status=1; continue; }
  stats=$out/$t/default/fuzzer_stats
  get() { awk -F' *: *' -v k="$1" '$1==k{print $2}' "$stats"; }
  seconds=$(( $(date +%s) - start ))
  crashes=$(find "$out/$t/default/crashes" -type f -name 'id:*' | wc -l)
  hangs=$(find "$out/$t/default/hangs" -type f -name 'id:*' | wc -l)
  printf '%-8s %12s %9s %8s %6s %6s %8s\n' "$t" "$(get execs_done)" "$seconds" "$(get execs_per_sec)" "$(get corpus_count)" "$crashes" "$hangs"
  [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] || status=1
done
exit $status
