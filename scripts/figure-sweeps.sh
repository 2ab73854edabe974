#!/usr/bin/env bash
# Runs example sweeps into out/figures/ for the figure scripts (scripts/concept-figures.sh,
# scripts/iccls-figures.sh), one MPI job each on every core:
#   scripts/figure-sweeps.sh MODE SWEEP...      SWEEP names sweeps/SWEEP.yaml
# MODE: --force (run them again), --resume (continue stopped ones) or --draw (run nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mode=$1
shift
[ "$mode" = --draw ] && exit 0
mkdir -p out/figures
for s in "$@"; do
  mpirun -np $(( $(nproc) + 1 )) --oversubscribe build/iclsweep run "sweeps/$s.yaml" \
    -o "out/figures/$s.h5" "$mode" --quiet
done
