#!/usr/bin/env bash
# Installs what iclsweep needs on Debian 12, only what is missing (safe to run again).
# Run as root (or with sudo available). Used by README's commands and by .ci/run.
#   scripts/install-deps.sh           to build, run sweeps and analyse them
#   scripts/install-deps.sh --tests   also what the tests use: a real Slurm (slurm-wlm, munge),
#                                     valgrind, clang with libFuzzer for the fuzz harnesses, and
#                                     Chromium (headless) for the explore page's test
# plotly.js (npm package plotly.js-dist-min), which `iclsweep-analyze explore` embeds in its page,
# goes to analysis/iclsweep/vendor/plotly.min.js (Debian's python3-plotly ships without it).
set -euo pipefail
packages=(build-essential cmake pkg-config git
          libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
          libopenblas-dev liblapacke-dev libyaml-dev
          python3 python3-numpy python3-h5py python3-pandas python3-xarray python3-h5netcdf
          python3-scipy python3-matplotlib python3-contourpy python3-pytest python3-yaml perl)
# npm fetches plotly.js below; a machine with another Node.js (whose own npm conflicts with
# Debian's package) keeps the npm it has
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ "${1:-}" = "--tests" ]; then
  packages+=(slurm-wlm munge valgrind clang libclang-rt-14-dev chromium)
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
PLOTLY_VERSION=2.35.2
vendor="$(cd "$(dirname "$0")/.." && pwd)/analysis/iclsweep/vendor"
if [ ! -s "$vendor/plotly.min.js" ]; then
  echo "install-deps: plotly.js-dist-min@$PLOTLY_VERSION from npm -> $vendor/plotly.min.js"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "plotly.js-dist-min@$PLOTLY_VERSION" >/dev/null \
     && tar xzf "plotly.js-dist-min-$PLOTLY_VERSION.tgz")
  mkdir -p "$vendor"
  cp "$tmp/package/plotly.min.js" "$vendor/plotly.min.js"
  rm -rf "$tmp"
fi
