#!/usr/bin/env bash
# README's main command: installs what is missing, builds, and runs the main job on its default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
./build/iclsweep plan sweeps/demo.yaml
