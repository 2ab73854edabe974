#!/bin/sh
# The calibration sweep's C half: the in-process task of bench/iccls/iccls_bench.c (the C data
# generator and network, the loop the trainer will run) over lr x seeds at a point, one JSON line
# per log point into bench/iccls/calib/<stage>/<key=value,...>.jsonl (the peer's format, so
# bench/iccls/calib_plot.py reads both). Run nice'd:
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
for lr in $LRS; do
  for seed in $SEEDS; do
    tag="${extra:+$extra,}lr=$lr,seed=$seed"
    [ -s "$OUT/$tag.jsonl" ] && continue
    "$BIN" task trace=1 "$@" lr="$lr" seed="$seed" | grep '^{' > "$OUT/$tag.jsonl.tmp"
    mv "$OUT/$tag.jsonl.tmp" "$OUT/$tag.jsonl"
    echo "$STAGE: $tag done"
  done
done
