#!/usr/bin/env bash
# README's test command: installs what is missing, builds (warnings are errors), runs every test
# through ctest. Pass ctest arguments to narrow it, e.g. scripts/test.sh -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DICLSWEEP_WERROR=ON
cmake --build build -j "$(nproc)"
cd build && ctest --output-on-failure "$@"
