#!/usr/bin/env bash
# README's main command: installs what is missing, builds, and runs the main job on its default:
# the demo phase diagram (sweeps/demo.yaml) as one MPI job, one master plus one worker per core,
# into out/demo.h5, then prints the phase diagram's table and writes its picture and a report.
# A second run starts over (--force); pass --resume to continue a stopped one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p out
mode=--force
[ "${1:-}" = "--resume" ] && mode=--resume
build/iclsweep plan sweeps/demo.yaml --list 0
# The master naps while it waits, so nproc workers + 1 master fit on nproc cores.
mpirun -np $(( $(nproc) + 1 )) --oversubscribe build/iclsweep run sweeps/demo.yaml -o out/demo.h5 "$mode"
build/iclsweep status out/demo.h5 || true   # exit 3 would mean work remains
# The phase diagram: the table (mean final test error over replicates, K by noise, with
# confidence intervals), its picture with the emergence boundary at 10% error, and the report.
export PYTHONPATH="$PWD/analysis${PYTHONPATH:+:$PYTHONPATH}"
analyze() { /usr/bin/python3 -m iclsweep.cli "$@"; }
analyze table out/demo.h5 --by K noise --metric test_err -o out/demo_table.csv
analyze phase out/demo.h5 --x noise --y K --metric test_err --level 0.1 -o out/demo_phase.png
analyze report out/demo.h5 -o out/demo_report
cat <<'MSG'

Results: out/demo.h5 (one row per task in /tasks, /traj and /final)
  table:         out/demo_table.csv
  phase diagram: out/demo_phase.png (and out/demo_phase.pdf)
  report:        out/demo_report/index.html
In Python: import iclsweep; iclsweep.load("out/demo.h5") (with PYTHONPATH=analysis), and
docs/analysis.md for every command.
MSG
