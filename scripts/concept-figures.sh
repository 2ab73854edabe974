#!/usr/bin/env bash
# Runs the concept model's example sweeps (dynamics, OOD, qk_init ablation, init x lr) into
# out/figures/ and draws the figures docs/science.md shows (docs/images/concept_*.png).
# About 3 minutes on 2 cores. Pass --resume to continue stopped sweeps, --draw to only redraw.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--force
case "${1:-}" in --resume | --draw) mode=$1 ;; esac
scripts/figure-sweeps.sh "$mode" concept_dynamics concept_ood concept_qk_init concept_init_lr
/usr/bin/python3 scripts/concept_figures.py out/figures docs/images
