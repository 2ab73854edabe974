#!/usr/bin/env bash
# Installs what iclsweep needs on Debian 12, only what is missing (safe to run again).
# Run as root (or with sudo available). Used by README's commands and by .ci/run.
#   scripts/install-deps.sh           to build, run sweeps and analyse them
#   scripts/install-deps.sh --tests   also what the tests use: a real Slurm (slurm-wlm, munge),
#                                     valgrind, and clang with libFuzzer for the fuzz harnesses
set -euo pipefail
packages=(build-essential cmake pkg-config git
          libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
          libopenblas-dev liblapacke-dev libyaml-dev
          python3 python3-numpy python3-h5py python3-pandas python3-xarray python3-h5netcdf
          python3-scipy python3-matplotlib python3-pytest python3-yaml perl)
if [ "${1:-}" = "--tests" ]; then
  packages+=(slurm-wlm munge valgrind clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
