#!/usr/bin/env bash
# bench:files, bench:batch and (with redis-server on PATH) bench:scale on a borrowed many-core
# machine, compact settings, under 10 minutes.
#
# Starts from a bare machine holding this repository's tree and its node_modules (npm ci done
# elsewhere is fine): no PostgreSQL, no Redis, no wrk needed. Both benchmarks run on SQLite (their
# default when BENCH_DATABASE_URL is unset) with the local blob store; Portico, the simulators and
# the clients are separate processes on 127.0.0.1. Node is the pinned devDependency
# (node_modules/.bin/node, Node 24); the system's node is not used.
#
#   bash bench/run-many-core.sh            # prints both tables, then a summary; logs in $OUT_DIR
#
# Environment: OUT_DIR (default bench/results/many-core), BATCH_RUNS (2), FILES_RUNS (1),
# SCALE_RUNS (1; bench:scale needs redis-server: more than one Portico worker needs Redis).
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
OUT_DIR="${OUT_DIR:-bench/results/many-core}"
BATCH_RUNS="${BATCH_RUNS:-2}"
SCALE_RUNS="${SCALE_RUNS:-1}"
FILES_RUNS="${FILES_RUNS:-1}"
mkdir -p "$OUT_DIR"

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  echo "run-many-core: node_modules/.bin/node is missing or older than Node 24 (run npm ci first)" >&2
  exit 2
fi
unset BENCH_DATABASE_URL BENCH_BLOB_STORE   # SQLite and the local blob store: nothing else to install

echo "== machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version)"
status=0

for run in $(seq 1 "$FILES_RUNS"); do
  echo "== bench:files run $run (199 MB upload to two deployments, download, store-only, two at once, 50 MB batch output)"
  BENCH_MAX_S=240 timeout 260 node bench/files.bench.ts 2>&1 | tee "$OUT_DIR/files-$run.txt" || status=1
done

for run in $(seq 1 "$BATCH_RUNS"); do
  echo "== bench:batch run $run (10,000 lines, 50 ms per answer, batch_concurrency 64, SQLite)"
  BENCH_MAX_S=150 timeout 170 node bench/batch.bench.ts 2>&1 | tee "$OUT_DIR/batch-$run.txt" || status=1
done

if command -v redis-server >/dev/null; then
  for run in $(seq 1 "$SCALE_RUNS"); do
    echo "== bench:scale run $run (1, 2, 4, ... workers up to $(nproc); tracing on vs off)"
    BENCH_ROUNDS=1 BENCH_DURATION_S=8 BENCH_WARMUP_S=2 BENCH_MAX_S=200 timeout 220 node bench/scale.bench.ts 2>&1 | tee "$OUT_DIR/scale-$run.txt" || status=1
  done
else
  echo "== bench:scale skipped: redis-server is not installed (more than one worker needs Redis)"
fi

echo
echo "== summary ($(nproc) CPUs)"
grep -h -E "^Portico managed Files|^upload|^download|^[0-9]+ uploads|^batch:|^store only|^-> 2 deployments|Portico idle RSS|Portico peak RSS over all" "$OUT_DIR"/files-*.txt 2>/dev/null | grep -v -E "^(upload|[0-9]+ uploads) .*: .* in .* s, peak" || true
grep -h -E "create -> in_progress|lines per second|peak RSS during|without a batch|during the batch" "$OUT_DIR"/batch-*.txt 2>/dev/null || true
grep -h -A30 "^Scaling" "$OUT_DIR"/scale-*.txt 2>/dev/null || true
exit $status
