#!/usr/bin/python3
"""Benchmark of the iccls model (src/train/iccls.c, its kernels src/models/iccls.c) against its
PyTorch peer (bench/peers/iccls_peer.py), one thread each.

    /usr/bin/python3 bench/iccls/run.py [RUNS] [SECONDS] [--full]
                         (defaults 5 and 3; writes bench/iccls/RESULTS.md)

1. Training steps/s (a step: draw a batch, forward, loss, backward, SGD) at the default point and
   at the paper's size, the C kernels (double and single precision, bench/iccls/iccls_bench.c)
   against the peer in float32 and float64, run alternately RUNS times for SECONDS each; medians
   and ratios; the split of the C step (data: the batch's fill; network: tokens, forward, loss,
   backward; update: SGD).
2. A whole task in process (the four test sets of 1000, evaluation and progress measures every 100
   steps) at the default point, 2000 steps: the model's trainer called by iccls_bench, against the
   peer's `task` (its time after the torch import).
3. A whole task as a whole process: `iclsweep train` (process start, data, steps, evaluation of
   the four test sets and the progress measures every 100 steps, printing) at the default point
   with 2000 steps, float64 and float32, against the peer as a whole process (`python3
   iccls_peer.py task`, torch import included) in float32 and float64, RUNS alternating rounds;
   medians. With --full, also the whole default task (20000 steps), RUNS rounds (about 9 minutes
   a round).
4. Memory: `iclsweep plan`'s estimate against the peak resident memory of `iclsweep train`
   (/usr/bin/time) at several points.
5. The companion model at scale: a 10^5-task sweep (iccls_companion, L x N) through
   `mpirun -np 3 iclsweep run`: wall time and tasks per second.
Builds a Release tree in build-bench/ (or uses $ICCLS_BENCH for iccls_bench and $ICLSWEEP_BIN).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "bench", "peers", "iccls_peer.py")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
PAPER = ["N=8", "Nmax=32", "D=63", "L=32", "K=512", "B=2", "p_C=0", "batch=128"]  # also the peer's keys
POINTS = [("default point (N=4, Nmax=8, D=31, L=16, K=1024, B=1, p_C=0, batch 64)", []),
          ("paper's size (N=8, Nmax=32, D=63, L=32, K=512, B=2, p_C=0, batch 128)", PAPER)]


def build():
    """(iccls_bench, iclsweep): from the environment, or built in a Release tree build-bench/."""
    if os.environ.get("ICCLS_BENCH") and os.environ.get("ICLSWEEP_BIN"):
        return os.environ["ICCLS_BENCH"], os.environ["ICLSWEEP_BIN"]
    b = os.path.join(ROOT, "build-bench")
    subprocess.run(["cmake", "-S", ROOT, "-B", b, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", b, "--target", "iccls_bench", "iclsweep", "-j2"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(b, "tests", "iccls_bench"), os.path.join(b, "iclsweep")


def val(out, key):
    return float(re.search(rf"^{key}=([-\d.e+na]+)$", out, re.M).group(1))


def run(cmd):
    return subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, text=True, check=True).stdout


def wall(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def peak_rss(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M"] + cmd, env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"maxrss_kb=(\d+)", p.stderr).group(1)) * 1024


NOTES = """
## Notes (2026-12-07, by hand: precision, profile, what would go faster)

- **Precision.** The kernels exist in double (the reference: finite differences and the PyTorch
  fixture check them exactly) and in single precision (one kernel text compiled twice,
  src/models/iccls_kernels.inc; checked against double to 1e-4 on logits and 1e-3 of each
  tensor's largest gradient). Single precision is about 1.45x faster at the default point and
  1.4-1.9x at the paper's size, because OpenBLAS's sgemm runs at about twice dgemm's rate at these
  shapes ([64, 48] x [48, 48]: 74 vs 35 GFLOP/s on this machine) and the attention loops take
  twice the lanes. A trained trajectory is the same to two decimals in both (seed 1 of the
  default point: ic accuracy 0.19, 0.22, 0.75, 0.95, 0.98 at steps 800-2400 in both).
- **Profile of a double step at the default point** (perf, 4 s of `iccls_bench steps`): dgemm
  kernels 36-40% (+ packing 5%), the per-sequence attention loops 21% (their x86-64-v3 clones),
  the classifier's bias, ReLU and mask loops 9%, data (Philox normals, items, tokens) 8-10%, exp
  3%. At the paper's size dgemm is 43% and the attention loops 29% (T = 17).
- **What would go faster**, not done: the position one-hots and the label tokens (one of L
  vectors) make z = X M1 and dM1 = X^T dz products over the item contents only ([B (N+1), D]
  instead of [B T, d]: 2.8x fewer flops in the two largest products at the default point) and the
  attention dots D + 1 long instead of d; per-sequence attention as small GEMMs pays at the
  paper's size (T d = 2176) but not at the default (T d = 432).
"""


def sweep_file(tmp, name, text):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def task_yaml(fixed):
    return f"model: iccls\nseed: 7\nfixed: {{{fixed}}}\n"


def plan_memory_mb(iclsweep, sweep):
    out = run([iclsweep, "plan", sweep, "--no-time", "--list", "0"])
    return float(re.search(r"memory: about (\d+) MB", out).group(1))


MEMORY_POINTS = [
    ("default point", ""),
    ("default point, float32", "precision: float32"),
    ("paper's size", "N: 8, Nmax: 32, D: 63, L: 32, K: 512, B: 2, batch: 128"),
    ("paper's size, float32", "N: 8, Nmax: 32, D: 63, L: 32, K: 512, B: 2, batch: 128, precision: float32"),
    ("paper's size, n_test 10000", "N: 8, Nmax: 32, D: 63, L: 32, K: 512, B: 2, batch: 128, n_test: 10000"),
    ("K 100000, n_test 20000", "K: 100000, n_test: 20000"),
    ("batch 1024", "batch: 1024"),
]

COMPANION = """\
model: iccls_companion
seed: 1
skip_invalid: true
fixed: {steps: 1000, log_every: 500}
grid:
  N: {range: [2, 201, 1]}
  L: {range: [2, 601, 1]}
"""


def steps_section(bench, runs, secs):
    lines = ["## Training steps/s (draw a batch, forward, loss, backward, SGD)", "",
             "| point | C float64 | C float32 | peer float32 | peer float64 | C64 / peer32 | C32 / peer32 | C64 / peer64 | C64 step split: data / network / update |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, args in POINTS:
        c, cf, p32, p64, split = [], [], [], [], []
        for _ in range(runs):
            out = run([bench, "steps", secs] + args)
            c.append(val(out, "steps_per_s"))
            split.append([val(out, k) for k in ("split_data", "split_network", "split_update")])
            cf.append(val(run([bench, "steps", secs, "precision=float32"] + args), "steps_per_s"))
            p32.append(val(run(["/usr/bin/python3", PEER, "steps", secs] + args), "steps_per_s"))
            p64.append(val(run(["/usr/bin/python3", PEER, "steps", secs, "dtype=float64"] + args), "steps_per_s"))
        mc, mf = statistics.median(c), statistics.median(cf)
        m32, m64 = statistics.median(p32), statistics.median(p64)
        sp = " / ".join(f"{statistics.median(s[i] for s in split):.2f}" for i in range(3))
        lines.append(f"| {label} | {mc:.0f} | {mf:.0f} | {m32:.0f} | {m64:.0f} | **{mc / m32:.1f}x** | "
                     f"**{mf / m32:.1f}x** | {mc / m64:.1f}x | {sp} |")
        print(lines[-1], flush=True)
    return lines


def in_process_section(bench, runs):
    lines = ["", "## A whole task in process (default point, 2000 steps, 4 test sets of 1000, log every 100)", "",
             "| C float64 | C float32 | peer float32 | peer float64 | peer32 / C64 | peer32 / C32 | peer64 / C64 |",
             "|---|---|---|---|---|---|---|"]
    c, cf, p32, p64 = [], [], [], []
    for _ in range(runs):
        c.append(wall([bench, "task", "steps=2000"]))
        cf.append(wall([bench, "task", "steps=2000", "precision=float32"]))
        p32.append(wall(["/usr/bin/python3", PEER, "task", "steps=2000"]))
        p64.append(wall(["/usr/bin/python3", PEER, "task", "steps=2000", "dtype=float64"]))
    mc, mf = statistics.median(c), statistics.median(cf)
    m32, m64 = statistics.median(p32), statistics.median(p64)
    lines.append(f"| {mc:.2f} s | {mf:.2f} s | {m32:.2f} s | {m64:.2f} s | **{m32 / mc:.1f}x** | "
                 f"**{m32 / mf:.1f}x** | {m64 / mc:.1f}x |")
    print(lines[-1], flush=True)
    return lines


def process_row(iclsweep, tmp, label, steps, runs):
    """One row: `iclsweep train` (float64, float32) against the peer's whole process (float32,
    float64) at the default point with `steps` steps, runs alternating rounds; medians."""
    s64 = sweep_file(tmp, f"p64_{steps}", task_yaml(f"steps: {steps}"))
    s32 = sweep_file(tmp, f"p32_{steps}", task_yaml(f"steps: {steps}, precision: float32"))
    c64, c32, p32, p64 = [], [], [], []
    for _ in range(runs):
        c64.append(wall([iclsweep, "train", s64, "--format", "csv"]))
        c32.append(wall([iclsweep, "train", s32, "--format", "csv"]))
        p32.append(wall(["/usr/bin/python3", PEER, "task", f"steps={steps}"]))
        p64.append(wall(["/usr/bin/python3", PEER, "task", f"steps={steps}", "dtype=float64"]))
    m = [statistics.median(x) for x in (c64, c32, p32, p64)]
    row = (f"| {label} | {m[0]:.2f} s | {m[1]:.2f} s | {m[2]:.2f} s | {m[3]:.2f} s | **{m[2] / m[0]:.1f}x** | "
           f"**{m[2] / m[1]:.1f}x** | {m[3] / m[0]:.1f}x | {runs} |")
    print(row, flush=True)
    return row


def process_section(iclsweep, tmp, runs, full):
    lines = ["", "## A whole task as a whole process (`iclsweep train` against `python3 iccls_peer.py task`)", "",
             "Default point (4 test sets of 1000, progress measures, log every 100); the process's start, "
             "the data, the steps, every evaluation and the output included.", "",
             "| steps | iclsweep float64 | iclsweep float32 | peer float32 | peer float64 | peer32 / C64 | "
             "peer32 / C32 | peer64 / C64 | rounds |", "|---|---|---|---|---|---|---|---|---|"]
    lines.append(process_row(iclsweep, tmp, "2000", 2000, runs))
    if full:
        lines.append(process_row(iclsweep, tmp, "20000 (the default task)", 20000, runs))
    return lines


def memory_section(iclsweep, tmp):
    lines = ["", "## Memory: `plan`'s estimate against the peak resident memory of `iclsweep train`", "",
             "| point | estimate (MB) | peak RSS (MB) | estimate / measured |", "|---|---|---|---|"]
    for i, (label, fixed) in enumerate(MEMORY_POINTS):
        sw = sweep_file(tmp, f"mem{i}", task_yaml((fixed + ", " if fixed else "") + "steps: 20, log_every: 10"))
        est, got = plan_memory_mb(iclsweep, sw), peak_rss([iclsweep, "train", sw, "--format", "csv"]) / 1e6
        lines.append(f"| {label} | {est:.0f} | {got:.1f} | {est / got:.2f} |")
        print(lines[-1], flush=True)
    return lines


def companion_section(iclsweep, tmp):
    sw, out = sweep_file(tmp, "companion", COMPANION), os.path.join(tmp, "companion.h5")
    n = int(re.search(r"tasks: (\d+)", run([iclsweep, "plan", sw, "--no-time"])).group(1))
    env = dict(ENV, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    t0 = time.perf_counter()
    subprocess.run(["mpirun", "-np", "3", "--oversubscribe", iclsweep, "run", sw, "-o", out, "--quiet"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    w = time.perf_counter() - t0
    size = os.path.getsize(out) / 1e6
    lines = ["", "## The companion model at scale (`mpirun -np 3 iclsweep run`, 2 workers)", "",
             "| tasks | wall | tasks/s | file |", "|---|---|---|---|",
             f"| {n} (L 2-601 x N 2-201, L >= N; 1000 steps each) | {w:.1f} s | {n / w:.0f} | {size:.0f} MB |"]
    print(lines[-1], flush=True)
    return lines


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    full = "--full" in sys.argv
    runs = int(args[0]) if args else 5
    secs = args[1] if len(args) > 1 else "3"
    bench, iclsweep = build()
    torch_version = run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"]).strip()
    lines = ["# iccls benchmark results", "",
             f"Written by `bench/iccls/run.py {' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d %H:%M')}; "
             f"one BLAS thread, one torch thread (torch {torch_version}); medians of {runs} alternating runs; "
             f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        lines += steps_section(bench, runs, secs)
        lines += in_process_section(bench, runs)
        lines += process_section(iclsweep, tmp, runs, full)
        lines += memory_section(iclsweep, tmp)
        lines += companion_section(iclsweep, tmp)
    with open(os.path.join(ROOT, "bench", "iccls", "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n" + NOTES)


if __name__ == "__main__":
    main()
