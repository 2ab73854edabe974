#!/bin/sh
# Benchmark of the concept model against its PyTorch peer (bench/peers/concept_peer.py).
#
#   bench/concept/run.sh [RUNS] [SECONDS]      (defaults: 5 runs of 2 s per configuration)
#
# Builds a Release tree in build-bench/, then for the default point (d=64, L=16, batch 64), L=64
# and d=128 runs the C bench and the peer alternately RUNS times each and reports median training
# steps/s and their ratio; then the whole default task (2000 steps, evaluation every 20 steps) the
# same way; then OpenBLAS dgemm GFLOP/s on the step's largest shape and on 512^3, against the
# GFLOP/s of a training step. One thread each (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)).
# Writes the table to bench/RESULTS-concept.md.
set -eu
RUNS=${1:-5}
SECS=${2:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${ICLSWEEP_PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build-bench" --target concept_bench -j2 >/dev/null
BIN="$ROOT/build-bench/tests/concept_bench"
PEER="$ROOT/bench/peers/concept_peer.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

val() { sed -n "s/^$1=//p"; }

for cfg in "64 16 64" "64 64 64" "128 16 64"; do
  tag=$(echo "$cfg" | tr ' ' '_')
  i=0
  while [ $i -lt "$RUNS" ]; do
    # shellcheck disable=SC2086
    "$BIN" steps $cfg "$SECS" > "$TMP/c"
    val steps_per_s < "$TMP/c" >> "$TMP/c_$tag"
    val step_gflops < "$TMP/c" >> "$TMP/g_$tag"
    # shellcheck disable=SC2086
    "$PY" "$PEER" steps $cfg "$SECS" | val steps_per_s >> "$TMP/p_$tag"
    i=$((i + 1))
  done
done
i=0
while [ $i -lt "$RUNS" ]; do
  "$BIN" task | val task_s >> "$TMP/c_task"
  "$PY" "$PEER" task | val task_s >> "$TMP/p_task"
  "$BIN" dgemm 64 128 64 1 | val dgemm_gflops >> "$TMP/dg_small"
  "$BIN" dgemm 512 512 512 1 | val dgemm_gflops >> "$TMP/dg_big"
  i=$((i + 1))
done

"$PY" - "$TMP" "$RUNS" "$ROOT/bench/RESULTS-concept.md" <<'PYEOF'
import os, platform, statistics, subprocess, sys, datetime
tmp, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def med(name):
    with open(os.path.join(tmp, name)) as f:
        return statistics.median(float(x) for x in f.read().split())
cpu = "unknown"
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
rows = []
for tag, label, target in [("64_16_64", "default point d=64, L=16, batch 64", 5),
                           ("64_64_64", "L=64 (d=64, batch 64)", 10),
                           ("128_16_64", "d=128 (L=16, batch 64)", None)]:
    c, p = med("c_" + tag), med("p_" + tag)
    rows.append(f"| {label} | {c:.0f} | {p:.0f} | {c / p:.1f}x | {'>= %dx' % target if target else '-'} | {med('g_' + tag):.1f} |")
ct, pt = med("c_task"), med("p_task")
text = f"""# concept model: benchmark results

Machine: {cpu}, {os.cpu_count()} cores (shared), {platform.system()} {platform.release()}.
Date: {datetime.date.today().isoformat()}. One thread each (OPENBLAS_NUM_THREADS=1;
torch {__import__('torch').__version__} with torch.set_num_threads(1)), float64 both.
Medians of {runs} alternating runs of `bench/concept/run.sh`.

Training steps/s (n_train 4096, m 32, d_h 2d, batch drawn from the fixed training set each step):

| configuration | C steps/s | PyTorch steps/s | ratio | target | C step GFLOP/s |
|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

Whole default task (2000 steps; at each of the 101 log points: training set 4096 prompts, test set
and five OOD sets of 2048 prompts): C {ct:.2f} s, PyTorch {pt:.2f} s, ratio {pt / ct:.1f}x. (The
peer evaluates losses, errors and caw only, not the attention-product and MLP-alignment metrics.)

OpenBLAS dgemm in the same run: {med('dg_small'):.1f} GFLOP/s on 64x64 by 64x128 (the step's
largest product), {med('dg_big'):.1f} GFLOP/s on 512^3.
"""
open(out, "w").write(text)
print(text)
PYEOF
