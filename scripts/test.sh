#!/usr/bin/env bash
# README's test command: installs what is missing (with what the tests use: a real Slurm, valgrind),
# builds (warnings are errors), runs every test through ctest. Pass ctest arguments to narrow it,
# e.g. scripts/test.sh -L unit. The Slurm tests start their own single-node Slurm; they need root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DICLSWEEP_WERROR=ON
cmake --build build -j "$(nproc)"
cd build && ctest --output-on-failure "$@"
