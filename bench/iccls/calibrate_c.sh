#!/bin/sh
# The calibration sweep's C half: the in-process task of bench/iccls/iccls_bench.c (the model's
# trainer; in phase 1, the same loop written out before the trainer existed) over lr x seeds at a
# point, one JSON line per log point into bench/iccls/calib/<stage>/<key=value,...>.jsonl (the peer's format, so
# bench/iccls/calib_plot.py reads both). Every run starts from the known good start (BASE, as
# KNOWN_GOOD in calibrate.py); the file is named by what it changes. Run nice'd:
#   nice bench/iccls/calibrate_c.sh STAGE "LRS" "SEEDS" [key=value ...]
# e.g. nice bench/iccls/calibrate_c.sh c_lr "0.05 0.1 0.2" "1 2 3 4 5 6 7 8"
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ICCLS_BENCH:-$ROOT/build/tests/iccls_bench}
STAGE=$1 LRS=$2 SEEDS=$3
shift 3
OUT="$ROOT/bench/iccls/calib/$STAGE"
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1
extra=$(echo "$@" | tr ' ' ',')
BASE="N=4 L=16 D=31 Nmax=8 batch=64 K=256 B=1 p_B=1 p_C=1 eps=0.1 alpha=0 steps=10000 log_every=100 n_test=1000"
for lr in $LRS; do
  for seed in $SEEDS; do
    tag="${extra:+$extra,}lr=$lr,seed=$seed"
    [ -s "$OUT/$tag.jsonl" ] && continue
    # shellcheck disable=SC2086
    "$BIN" task trace=1 $BASE "$@" lr="$lr" seed="$seed" | grep '^{' > "$OUT/$tag.jsonl.tmp"
    mv "$OUT/$tag.jsonl.tmp" "$OUT/$tag.jsonl"
    echo "$STAGE: $tag done"
  done
done
