#!/usr/bin/env bash
# README's main command: installs what is missing, builds, and runs the main job on its default:
# the demo phase diagram (sweeps/demo.yaml) as one MPI job, one master plus one worker per core,
# into out/demo.h5. A second run starts over (--force); pass --resume to continue a stopped one.
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
build/iclsweep status out/demo.h5
cat <<'MSG'

Results: out/demo.h5 (one row per task in /tasks, /traj and /final). Look at it with
  build/iclsweep status out/demo.h5
  h5ls -r out/demo.h5
and the phase diagram (mean final test error, K by noise) with
MSG
plot="import h5py, pandas as pd; f = h5py.File('out/demo.h5'); print(pd.DataFrame({k: f['tasks'][k][:] for k in ('K', 'noise')} | {'test_err': f['final/test_err'][:]}).groupby(['K', 'noise']).test_err.mean().unstack())"
echo "  /usr/bin/python3 -c \"$plot\""
echo
/usr/bin/python3 -c "$plot"
