#!/usr/bin/env bash
# Replays every crash-*, timeout-* and oom-* artifact of a fuzz run and sorts them by where they stop:
# inside the HDF5 library (a bug of the system's HDF5 on a crafted file; iclsweep contains those
# by reading untrusted files in a child process first, isw_store_probe) or in iclsweep's own code
# (a finding to fix). Exit 1 if any stops in iclsweep's code.
#
#   tests/fuzz/triage.sh HARNESS_BINARY ARTIFACT_DIR
set -uo pipefail
harness=$1 dir=$2
ours=0 hdf5=0 other=0
declare -A sites
for f in "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-*; do
  [ -e "$f" ] || continue
  # A slow input is stopped after 5 s with SIGABRT, on which ASan prints where it was.
  report=$(ASAN_OPTIONS=detect_leaks=0:handle_abort=1 timeout -s ABRT 5 "$harness" -rss_limit_mb=2560 -malloc_limit_mb=2560 "$f" 2>&1)
  # The first stack frame that is neither the sanitizer's nor libFuzzer's own (its malloc limit and
  # deadly-signal handlers print their own frames first; the sanitizer's interceptors, strdup and
  # the like, sit in the harness binary with an address and no source line): where the program
  # stopped.
  frame=$(printf '%s\n' "$report" | grep -E '^ +#[0-9]+ ' | grep -v -F "($harness+0x" |
          grep -v -E 'asan|ubsan|sanitizer|fuzzer::|compiler-rt|libclang_rt| in __interceptor_| in (malloc|calloc|realloc|free) |libc\.so|libstdc\+\+|sysdeps/|csu/' |
          head -1)
  if printf '%s' "$frame" | grep -q 'libhdf5'; then
    kind=hdf5; hdf5=$((hdf5 + 1))
  elif printf '%s' "$frame" | grep -q -E '/src/|/tests/'; then
    kind=ours; ours=$((ours + 1))
  else
    kind=other; other=$((other + 1))
  fi
  # "in FUNC", or the library and offset where there are no symbols
  site=$(printf '%s' "$frame" | sed -E 's/.* in ([^ ]+).*/\1/; s/^ *#[0-9]+ 0x[0-9a-f]+ +\(([^ )]+)\).*/\1/; s|.*/||')
  sites["$kind ${site:-?}"]=$(( ${sites["$kind ${site:-?}"]:-0} + 1 ))
  [ "$kind" = hdf5 ] || echo "triage: $kind: $(basename "$f"): $frame"
done
echo "triage: $hdf5 stop inside HDF5, $ours in iclsweep, $other elsewhere"
for k in "${!sites[@]}"; do echo "  ${sites[$k]}  $k"; done | sort -rn
[ "$ours" -eq 0 ]
