#!/usr/bin/env bash
# Runs the iccls model's example sweeps (transition, labels L, B x K phase, eps, Zipf alpha, the
# p_B x p_C mix) and the companion's phase diagram into out/figures/, and draws the figures
# docs/science.md shows (docs/images/iccls_*.png). 116 iccls tasks of ~20 s and ~6500 companion
# tasks: about 20 minutes on 2 free cores. Pass --resume to continue stopped sweeps, --draw to
# only redraw.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--force
case "${1:-}" in --resume | --draw) mode=$1 ;; esac
scripts/figure-sweeps.sh "$mode" iccls_transition iccls_labels iccls_phase iccls_eps iccls_zipf \
  iccls_mix iccls_companion_phase
/usr/bin/python3 scripts/iccls_figures.py out/figures docs/images
