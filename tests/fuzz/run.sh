#!/usr/bin/env bash
# Builds (unless --no-build) and runs one libFuzzer harness of tests/fuzz for SECONDS.
#
#   tests/fuzz/run.sh [--no-build] [--build-dir DIR] HARNESS SECONDS [libFuzzer options...]
#
# HARNESS: spec (the sweep-file reader and validator), text (the terminal-safe text helpers),
# result (result files as status, merge and resume read them; seeds: a valid file of a tiny sweep
# and the crafted corpus of tests/sweep/hostile.py) or reader (the Python reader, analysis/, on
# the same seeds: tests/fuzz/fuzz_reader.py, seeded byte flips instead of libFuzzer, which Debian
# does not have for Python; its findings go to DIR/fuzz/artifacts-reader/findings.txt).
# The build (default build-fuzz) is clang with ASan + UBSan + libFuzzer (-DICLSWEEP_FUZZ=ON;
# Debian: apt-get install clang libclang-rt-14-dev). The working corpus DIR/fuzz/corpus-HARNESS
# is kept between runs, so a long run goes on from the last; seeds come from tests/fuzz/seeds/
# HARNESS and, for spec, from sweeps/*.yaml and the malformed sweeps of tests/e2e/
# test_bad_sweeps.c. A crash, a leak, undefined behaviour or an input slower than 1 s
# (-timeout=1) is a finding, saved in DIR/fuzz/artifacts-HARNESS/; the exit status is
# libFuzzer's (0: no finding). Replay one: DIR/tests/fuzz/fuzz_HARNESS FILE.
# A long run in the background:
#   nohup tests/fuzz/run.sh spec 1800 > /tmp/fuzz-spec.log 2>&1 &
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="$src/build-fuzz"
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) do_build=0; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "usage: tests/fuzz/run.sh [--no-build] [--build-dir DIR] HARNESS SECONDS [libFuzzer options...]" >&2
  exit 2
fi
harness="$1" seconds="$2"
shift 2
fuzzer="$build/tests/fuzz/fuzz_$harness"
if [ "$do_build" = 1 ]; then
  mkdir -p "$build"
  CC="${CC:-clang}" cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Sanitize -DICLSWEEP_FUZZ=ON \
    -DICLSWEEP_WERROR=ON > "$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 2; }
  targets=(test_bad_sweeps iclsweep)
  [ "$harness" = reader ] || targets+=("fuzz_$harness")
  cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >/dev/null
fi
[ "$harness" = reader ] || [ -x "$fuzzer" ] || { echo "run.sh: no harness $fuzzer (HARNESS is spec, text, result or reader)" >&2; exit 2; }

work="$build/fuzz"
corpus="$work/corpus-$harness" seeds="$work/seeds-$harness" artifacts="$work/artifacts-$harness"
mkdir -p "$corpus" "$seeds" "$artifacts"
[ -d "$src/tests/fuzz/seeds/$harness" ] && cp "$src/tests/fuzz/seeds/$harness"/* "$seeds"/
options=(-timeout=1 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$artifacts/")
if [ "$harness" = spec ]; then
  cp "$src"/sweeps/*.yaml "$seeds"/
  "$build/tests/test_bad_sweeps" --write-corpus "$seeds"
  options+=(-dict="$src/tests/fuzz/spec.dict" -max_len=8192)
fi
if [ "$harness" = result ] || [ "$harness" = reader ]; then
  # A valid file of the harness's tiny sweep, and one mutation of it per crafted case.
  tiny="$work/tiny.yaml"
  printf 'model: concept\nseed: 7\nreplicates: 2\nfixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 128, L_long: 16,\n        batch: 32, steps: 60, log_every: 10}\ngrid:\n  noise: [0.01, 0.1]\n  lr: [1, 5]\n' > "$tiny"
  rm -f "$work/valid.h5" "$work/valid.h5.lock"
  OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0 "$build/iclsweep" run "$tiny" -o "$work/valid.h5" --quiet
  cp "$work/valid.h5" "$seeds/valid.h5"
  /usr/bin/python3 "$src/tests/sweep/hostile.py" "$work/valid.h5" "$seeds" > /dev/null
  options+=(-max_len=400000)
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" # HDF5 keeps its caches until exit
fi
if [ "$harness" = reader ]; then
  # The valid file three times over the crafted ones: most flips hit a file that reads.
  echo "run.sh: fuzz_reader for ${seconds} s; seeds $(ls "$seeds" | wc -l)"
  exec /usr/bin/python3 "$src/tests/fuzz/fuzz_reader.py" --seconds "$seconds" --seed "${FUZZ_SEED:-$RANDOM}" \
    --artifacts "$artifacts" "$@" "$seeds/valid.h5" "$seeds/valid.h5" "$seeds/valid.h5" "$seeds"/*.h5
fi
echo "run.sh: fuzz_$harness for ${seconds} s; corpus $corpus ($(ls "$corpus" | wc -l) inputs), seeds $(ls "$seeds" | wc -l)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
exec "$fuzzer" "${options[@]}" -max_total_time="$seconds" "$@" "$corpus" "$seeds"
