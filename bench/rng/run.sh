#!/bin/sh
# Benchmark of the normal sampler (issue 12): rng/2's isw_rng_normal_fill against rng/1's
# per-number Box-Muller (a copy in bench/rng/rng_bench.c).
#
#   bench/rng/run.sh [RUNS] [SECONDS]      (defaults: 7 runs of 1 s per measurement)
#
# Builds a Release tree in build-bench/, then runs every measurement RUNS times, alternating
# between them, and reports medians of normals per CPU-second (one core): fills of 10000 and of
# 16 numbers (a linreg prompt's D), single draws, with the best Philox kernel (AVX2 where the
# machine has it), the SSE2 one (what any x86-64 gets) and the portable one; uniforms; and the old
# Box-Muller. Writes the table to bench/RESULTS-rng.md.
set -eu
RUNS=${1:-7}
SECS=${2:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${ICLSWEEP_PYTHON:-/usr/bin/python3}
cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build-bench" --target rng_bench -j2 >/dev/null
BIN="$ROOT/build-bench/tests/rng_bench"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# name|arguments (before SECONDS)
CASES="fill|fill 10000
old|old 10000
fill_sse2|fill_sse2 10000
fill_scalar|fill_scalar 10000
fill16|fill 16
old16|old 16
single|single
uniform|uniform 10000"

i=0
while [ $i -lt "$RUNS" ]; do
  echo "$CASES" | while IFS='|' read -r name args; do
    # shellcheck disable=SC2086
    "$BIN" $args "$SECS" | sed -n 's/^per_s=//p' >> "$TMP/$name"
  done
  i=$((i + 1))
done
"$BIN" fill 16 0.01 | sed -n 's/^kernel=//p' > "$TMP/kernel"
# Cycles per normal, where perf can count them: independent of clock speed and of other load.
if command -v perf >/dev/null 2>&1; then
  for k in 1 2 3; do
    for mode in fill old; do
      if perf stat -x, -e cycles -o "$TMP/perf" "$BIN" $mode 10000 1 > "$TMP/out" 2>/dev/null; then
        printf '%s %s\n' "$(cut -d, -f1 < "$TMP/perf" | grep -E '^[0-9]+$' | head -1)" \
          "$(sed -n 's/^count=//p' < "$TMP/out")" >> "$TMP/cyc_$mode"
      fi
    done
  done
fi

"$PY" - "$TMP" "$RUNS" "$SECS" "$ROOT/bench/RESULTS-rng.md" <<'PYEOF'
import datetime, os, statistics, sys
tmp, runs, secs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def vals(name):
    with open(os.path.join(tmp, name)) as f:
        return [float(x) for x in f.read().split()]
def med(name):
    return statistics.median(vals(name))
cpu = "unknown"
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
load = open("/proc/loadavg").read().split()[0]
kernel = {"0": "portable", "1": "SSE2", "2": "AVX2"}[open(os.path.join(tmp, "kernel")).read().strip()]
old = med("old")
rows = [
    ("isw_rng_normal_fill, calls of 10000, best kernel (%s)" % kernel, "fill"),
    ("same, SSE2 kernel (any x86-64)", "fill_sse2"),
    ("same, portable scalar kernel", "fill_scalar"),
    ("rng/1 Box-Muller, 10000 per fill call (reference)", "old"),
    ("isw_rng_normal_fill, calls of 16 (a linreg row)", "fill16"),
    ("rng/1 Box-Muller, calls of 16", "old16"),
    ("isw_rng_normal, one call per number", "single"),
    ("isw_rng_uniform_fill, calls of 10000 (uniforms/s)", "uniform"),
]
lines = [
    "# Normal sampler (rng/2) vs rng/1",
    "",
    "Written by `bench/rng/run.sh %d %s` on %s (%s), %s; load average %s at the end (the"
    % (runs, secs, cpu, "%d cores" % os.cpu_count(), datetime.date.today().isoformat(), load),
    "machine may be shared). Figures are medians over %d alternating runs of %s s each, in numbers"
    % (runs, secs),
    "per second of the process's CPU time on one core (CPU time, not wall time, so that other",
    "processes' load counts less; it still costs caches and clock).",
    "",
    "| what | median M numbers/s | min - max | vs rng/1 |",
    "|---|---|---|---|",
]
for label, name in rows:
    v = vals(name)
    ref = med("old16") if name == "fill16" else old
    ratio = ("1x" if name in ("old", "old16") else "-" if name == "uniform"
             else "%.1fx" % (med(name) / ref))
    lines.append("| %s | **%.1f** | %.1f - %.1f | %s |" % (label, med(name) / 1e6, min(v) / 1e6,
                                                           max(v) / 1e6, ratio))
def cycles(mode):
    try:
        rows = [l.split() for l in open(os.path.join(tmp, "cyc_" + mode))]
        return statistics.median(float(c) / float(n) for c, n in rows if c and n)
    except (OSError, ValueError, statistics.StatisticsError):
        return None
cf, co = cycles("fill"), cycles("old")
if cf and co:
    lines += ["", "perf stat, medians of 3 runs of 1 s: **%.1f cycles per normal** for the fill (best kernel,"
              % cf, "calls of 10000) against %.1f for rng/1's Box-Muller (%.1fx)." % (co, co / cf)]
lines += [
    "",
    "How: Philox4x32-10 blocks are computed 16 at a time (AVX2, chosen at run time, or 2 x 8 with",
    "SSE2; integer only, so every kernel gives the same bits, which tests/unit/test_rng.c checks)",
    "into the generator's 1 KiB buffer, and each 64-bit word becomes a normal by a 256-strip ziggurat",
    "(98.8% of words pass the fast test: one table compare, one multiply; the rest go on to a wedge",
    "test with exp() or Marsaglia's tail with log(), drawing further words of the same run).",
    "The fill gives exactly the numbers of a loop of single draws. Every kind of draw (fills, single",
    "normals, uniforms, words) takes its words from that one buffer, so short fills and single draws",
    "also get vector Philox and no block is computed twice.",
]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
