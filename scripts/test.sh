#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine, runs every test project of
# PortDashboard.sln, and ends with one line "N passed, N failed" summed over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: chromium for the browser tests (a test tool cannot download its own
# browser here), iproute2's ss, the reference the socket readers are checked against, and redis-server, which
# each fleet test fixture starts for itself (never a shared or system one).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ss >/dev/null || missing+=(iproute2)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3) # the socket-holding helper of the live attribution tests
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing ${missing[*]} for the tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "warning: could not install ${missing[*]}; the tests that need them will fail" >&2
  else
    echo "warning: ${missing[*]} missing; run as root or 'sudo apt-get install -y ${missing[*]}'" >&2
  fi
fi

results=TestResults
rm -rf "$results"
# One test project at a time (-m:1): the live-socket, hub-timing and browser tests each want the 2 cores'
# attention more than the run wants to be short.
dotnet test PortDashboard.sln --configuration Release -m:1 \
  --results-directory "$results" --logger "trx" --logger "console;verbosity=normal" "$@"
status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or a test host failed before reporting: never report a red run as green
  echo "dotnet test exited with $status" >&2
fi
# Name every failed test and the first lines of its message, so the closing lines of the log say what broke.
if [ "$failed" -gt 0 ]; then
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    python3 - "$trx" <<'PY' || grep -o 'testName="[^"]*" [^>]*outcome="Failed"' "$trx"
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Failed":
        continue
    message = r.findtext(".//t:Message", default="", namespaces=ns).strip().splitlines()
    print("FAILED", r.get("testName"))
    for line in message[:6]:
        print("   ", line)
PY
  done
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
