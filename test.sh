#!/usr/bin/env bash
# Runs every check: buf lint of protos/ and every test project, against real PostgreSQL and Redis
# that it starts (and installs with apt-get when run as root and missing), and the Helm chart with real Helm,
# promtool and the Kubernetes schemas. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
source scripts/servers.sh

cx_ensure_dotnet
cx_ensure_postgres
cx_ensure_redis
cx_ensure_chromium
command -v npx >/dev/null 2>&1 || cx_apt_install "Node.js (for buf and the chart checks)" npm
# The chart is checked with real Helm, Prometheus' promtool and an offline Kubernetes schema validator (cached).
cx_ensure_helm
cx_ensure_promtool
cx_ensure_manifest_validator

WORK=$(mktemp -d /tmp/cxmesh-test.XXXXXX)
CX_PG_FSYNC=off cx_start_test_servers "$WORK"
export CXMESH_CHROMIUM="$(command -v chromium)"
# Screenshots of every console page (1280 and 390 px wide), kept after the run.
export CXMESH_TEST_ARTEFACTS="$ROOT/test-artefacts"

passed=0
failed=0

cx_log "buf lint protos/"
if (cd protos && npx --yes @bufbuild/buf@1.75.0 lint); then
  passed=$((passed + 1))
else
  echo "FAILED: buf lint" >&2
  failed=$((failed + 1))
fi

cx_log "building"
if ! dotnet build CxMesh.sln -nologo -v quiet -clp:ErrorsOnly; then
  echo "FAILED: build" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi

cx_log "dotnet format --verify-no-changes"
if dotnet format CxMesh.sln --no-restore --verify-no-changes --severity warn; then
  passed=$((passed + 1))
else
  echo "FAILED: dotnet format (run 'dotnet format CxMesh.sln' and commit)" >&2
  failed=$((failed + 1))
fi

cx_log "running tests"
# A test that hangs is stopped after 10 minutes and named (instead of using up CI's time limit).
dotnet test CxMesh.sln --no-build -nologo --logger "trx" --logger "console;verbosity=minimal" --results-directory "$WORK/results" \
  --blame-hang-timeout 10m --blame-hang-dump-type none
test_exit=$?

for trx in "$WORK"/results/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$test_exit" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAILED: dotnet test exited $test_exit without a failed test (a test host crashed?)" >&2
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
