#!/usr/bin/env bash
# Runs the concept model's example sweeps (dynamics, OOD, qk_init ablation, init x lr) into
# out/figures/ and draws the figures docs/science.md shows (docs/images/concept_*.png).
# About 3 minutes on 2 cores. Pass --resume to continue stopped sweeps, --draw to only redraw.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p out/figures
if [ "${1:-}" != "--draw" ]; then
  mode=--force
  [ "${1:-}" = "--resume" ] && mode=--resume
  for s in concept_dynamics concept_ood concept_qk_init concept_init_lr; do
    mpirun -np $(( $(nproc) + 1 )) --oversubscribe build/iclsweep run "sweeps/$s.yaml" \
      -o "out/figures/$s.h5" "$mode" --quiet
  done
fi
/usr/bin/python3 scripts/concept_figures.py out/figures docs/images
