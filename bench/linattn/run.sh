#!/bin/sh
# linattn benchmark: iclsweep's trainer (whole task) against the PyTorch peer
# (bench/peers/linattn_peer.py: merged W, [Z Z^T W Z] prediction, full-batch Adam, float64, one
# thread) at D=10,N=100,P=1000 and D=20,N=100,P=10000. Prints the median steps/s of both and the
# ratio per point. Results are recorded in bench/RESULTS-linattn.md.
#
# Usage: bench/linattn/run.sh [BUILD_DIR]   (default build-bench, configured Release here)
# Knobs (environment): REPS (5), C_STEPS (2000), PEER_STEPS1 (200), PEER_STEPS2 (10), PEER_REPS (3)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build-bench}
REPS=${REPS:-5}
C_STEPS=${C_STEPS:-2000}
PEER_STEPS1=${PEER_STEPS1:-200}
PEER_STEPS2=${PEER_STEPS2:-10}
PEER_REPS=${PEER_REPS:-3}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target linattn_bench -j2 >/dev/null
BIN=$BUILD/tests/linattn_bench

field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' | head -1; }

echo "machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
for point in "10 100 1000 $PEER_STEPS1" "20 100 10000 $PEER_STEPS2"; do
    set -- $point
    c=$("$BIN" "$1" "$2" "$3" "$C_STEPS" "$REPS" | field median_steps_per_s)
    p=$("$PY" "$SRC/bench/peers/linattn_peer.py" "$1" "$2" "$3" "$4" "$PEER_REPS" | field median_steps_per_s)
    ratio=$(awk -v c="$c" -v p="$p" 'BEGIN { printf "%.0f", c / p }')
    echo "D=$1 N=$2 P=$3: iclsweep $c steps/s ($C_STEPS steps, median of $REPS), peer $p steps/s ($4 steps, median of $PEER_REPS), ratio ${ratio}x"
done
