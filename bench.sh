#!/usr/bin/env bash
# ./bench.sh [--compare]: every benchmark of issue #22's table on this machine (best quiet: wall-clock figures), against
# a PostgreSQL and a Redis it starts, each figure beside its anchor measured in the same run. Writes bench/results.md and
# bench/results.json (commit them); with --compare writes bench/compare.md instead and exits 1 when a ratio fell by more
# than 20 % against the committed bench/results.json. Not part of ./test.sh. About 18 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/servers.sh

compare=""
for arg in "$@"; do
  case "$arg" in
    --compare) compare="bench/results.json" ;;
    *) echo "usage: ./bench.sh [--compare]" >&2; exit 64 ;;
  esac
done
if [ -n "$compare" ] && [ ! -f "$compare" ]; then
  echo "--compare needs a committed $compare (run ./bench.sh once and commit bench/)" >&2
  exit 66
fi

cx_ensure_dotnet
cx_ensure_postgres
cx_ensure_redis
command -v redis-benchmark >/dev/null 2>&1 || cx_apt_install "redis-benchmark" redis-tools

export CXMESH_BENCH_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
export CXMESH_BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || true)"
# Durable like production (fsync on): the anchors write to the same Postgres.
WORK=$(mktemp -d /tmp/cxmesh-bench.XXXXXX)
cx_start_test_servers "$WORK"
export CXMESH_BENCH_RESULTS="$WORK/figures.jsonl"

cx_log "building the benchmarks (Release)"
dotnet build -c Release tests/CxMesh.Benchmarks -nologo -v quiet -clp:ErrorsOnly

bench() {
  cx_log "benchmark: $*"
  dotnet run -c Release --no-build --project tests/CxMesh.Benchmarks -- "$@"
}
bench feedback-text 5
bench feedback-stages 50000
bench feedback-ingest 100000 1000 4 running 60
bench feedback-ingest 100000 1000 4 running 0
bench scoring-hot 32 10
bench scoring-batch 32 10
bench scoring-freshness 1000 20
bench scoring-freshness 2000 20
bench scoring-drivers 500
bench journey-ingest 200000 1000 4
bench partner-report 1000000
bench partner-report 1000000 1000

mkdir -p bench
if [ -n "$compare" ]; then
  dotnet run -c Release --no-build --project tests/CxMesh.Benchmarks -- report "$CXMESH_BENCH_RESULTS" bench "$compare"
else
  dotnet run -c Release --no-build --project tests/CxMesh.Benchmarks -- report "$CXMESH_BENCH_RESULTS" bench
fi
