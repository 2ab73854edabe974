#!/usr/bin/env bash
# Runs the iccls model's example sweeps (transition, B x K phase, eps, Zipf alpha, labels L, the
# p_B x p_C mix) into out/figures/ and draws the figures docs/science.md shows
# (docs/images/iccls_*.png). 116 tasks of ~20 s: about 20 minutes on 2 free cores. Pass --resume
# to continue stopped sweeps, --draw to only redraw.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p out/figures
if [ "${1:-}" != "--draw" ]; then
  mode=--force
  [ "${1:-}" = "--resume" ] && mode=--resume
  for s in iccls_transition iccls_labels iccls_phase iccls_eps iccls_zipf iccls_mix iccls_companion_phase; do
    mpirun -np $(( $(nproc) + 1 )) --oversubscribe build/iclsweep run "sweeps/$s.yaml" \
      -o "out/figures/$s.h5" "$mode" --quiet
  done
fi
/usr/bin/python3 scripts/iccls_figures.py out/figures docs/images
