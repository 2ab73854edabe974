#!/usr/bin/python3
"""Benchmark of the iccls model's C kernels (bench/iccls/iccls_bench.c) against its PyTorch peer
(bench/peers/iccls_peer.py), one thread each.

    /usr/bin/python3 bench/iccls/run.py [RUNS] [SECONDS]     (defaults 5 and 3; writes
                                                               bench/iccls/RESULTS.md)

1. Training steps/s (a step: draw a batch, forward, loss, backward, SGD) at the default point and
   at the paper's size, C (double and single-precision kernels) against the peer in float32 and
   float64, run alternately RUNS times for SECONDS each; medians and ratios; the split of the C
   step.
2. A whole task in process (the four test sets of 1000, evaluation and progress measures every 100
   steps) at the default point, 2000 steps, C (both precisions) against the peer in float32 and
   float64, RUNS alternating rounds; medians. (The whole task as a process, `iclsweep train` against the peer,
   comes with the trainer, phase 2.)
3. Peak resident memory of the C task (/usr/bin/time) at the default point and the paper's size,
   against the memory model proposed for `plan` (memory_model below).
Builds a Release tree in build-bench/ (or uses $ICCLS_BENCH).
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "bench", "peers", "iccls_peer.py")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
PAPER = ["N=8", "Nmax=32", "D=63", "L=32", "K=512", "B=2", "p_C=0", "batch=128"]
POINTS = [("default point (N=4, Nmax=8, D=31, L=16, K=1024, B=1, p_C=0, batch 64)", []),
          ("paper's size (N=8, Nmax=32, D=63, L=32, K=512, B=2, p_C=0, batch 128)", PAPER)]


def build():
    if os.environ.get("ICCLS_BENCH"):
        return os.environ["ICCLS_BENCH"]
    b = os.path.join(ROOT, "build-bench")
    subprocess.run(["cmake", "-S", ROOT, "-B", b, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", b, "--target", "iccls_bench", "-j2"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(b, "tests", "iccls_bench")


def val(out, key):
    return float(re.search(rf"^{key}=([-\d.e+na]+)$", out, re.M).group(1))


def run(cmd):
    return subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, text=True, check=True).stdout


def wall(cmd):
    t0 = time.perf_counter()
    run(cmd)
    return time.perf_counter() - t0


def memory_model(N, Nmax, D, L, K, K_novel=128, batch=64, n_test=1000):
    """Bytes of one task, the model proposed for plan: the bench process's own code and libraries
    (a fixed 4 MB here: the default point's RSS less the rest; `iclsweep train` has MPI and HDF5
    mapped too, and phase 2 takes its fixed part from the concept model's estimate), weights and
    gradients, the workspace (isw_iccls_work for a chunk of max(batch, 256) sequences, plus their
    tokens), the task's draws and the five sets (four test sets and the batch; a set's novel bank
    is touched only when it draws novel sequences, which the model counts always)."""
    T, d = 2 * N + 1, 2 * Nmax + 1 + D
    weights = 2 * 8 * (9 * d * d + 3 + L * d)
    Bw = max(batch, 256)
    work = 8 * (4 * d * d + Bw * (4 * T * d + T * T + 2 * T + 17 * d + 2 * L)) + 8 * Bw * T * d
    per_seq = 4 * (N + 1) * D + 8 * N + 13
    sets = per_seq * (4 * n_test + batch) + 5 * 8 * K_novel * D
    task = 8 * (K * D + L * D + K)
    return 4e6 + weights + work + sets + task


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


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    secs = sys.argv[2] if len(sys.argv) > 2 else "3"
    bench = build()
    lines = ["# iccls benchmark results", "",
             f"Written by `bench/iccls/run.py {runs} {secs}` on {time.strftime('%Y-%m-%d %H:%M')}; one BLAS "
             f"thread, one torch thread (torch {run(['/usr/bin/python3', '-c', 'import torch; print(torch.__version__)']).strip()}); "
             f"medians of {runs} alternating runs; load average at start "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", "",
             "## Training steps/s (draw a batch, forward, loss, backward, SGD)", "",
             "| point | C float64 | C float32 | peer float32 | peer float64 | C64 / peer32 | C32 / peer32 | C64 / peer64 | C64 step split: data / fwd / bwd / update |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, args in POINTS:
        c, cf, p32, p64, split = [], [], [], [], []
        for _ in range(runs):
            out = run([bench, "steps", secs] + args)
            c.append(val(out, "steps_per_s"))
            split.append([val(out, k) for k in ("split_data", "split_forward", "split_backward", "split_update")])
            cf.append(val(run([bench, "steps", secs, "precision=32"] + args), "steps_per_s"))
            p32.append(val(run(["/usr/bin/python3", PEER, "steps", secs] + args), "steps_per_s"))
            p64.append(val(run(["/usr/bin/python3", PEER, "steps", secs, "dtype=float64"] + args), "steps_per_s"))
        mc, mf = statistics.median(c), statistics.median(cf)
        m32, m64 = statistics.median(p32), statistics.median(p64)
        sp = " / ".join(f"{statistics.median(s[i] for s in split):.2f}" for i in range(4))
        lines.append(f"| {label} | {mc:.0f} | {mf:.0f} | {m32:.0f} | {m64:.0f} | **{mc / m32:.1f}x** | "
                     f"**{mf / m32:.1f}x** | {mc / m64:.1f}x | {sp} |")
        print(lines[-1], flush=True)
    lines += ["", "## A whole task in process (default point, 2000 steps, 4 test sets of 1000, log every 100)", "",
              "| C float64 | C float32 | peer float32 | peer float64 | peer32 / C64 | peer32 / C32 | peer64 / C64 |",
              "|---|---|---|---|---|---|---|"]
    c, cf, p32, p64 = [], [], [], []
    for _ in range(runs):
        c.append(wall([bench, "task", "steps=2000"]))
        cf.append(wall([bench, "task", "steps=2000", "precision=32"]))
        p32.append(wall(["/usr/bin/python3", PEER, "task", "steps=2000"]))
        p64.append(wall(["/usr/bin/python3", PEER, "task", "steps=2000", "dtype=float64"]))
    mc, mf = statistics.median(c), statistics.median(cf)
    m32, m64 = statistics.median(p32), statistics.median(p64)
    lines.append(f"| {mc:.2f} s | {mf:.2f} s | {m32:.2f} s | {m64:.2f} s | **{m32 / mc:.1f}x** | "
                 f"**{m32 / mf:.1f}x** | {m64 / mc:.1f}x |")
    print(lines[-1], flush=True)
    lines += ["", "## Peak memory of a task (C, in process) against the proposed memory model", "",
              "| point | peak RSS | model | model / measured |", "|---|---|---|---|"]
    for label, args, kw in [("default point", [], dict(N=4, Nmax=8, D=31, L=16, K=1024)),
                            ("paper's size", PAPER, dict(N=8, Nmax=32, D=63, L=32, K=512, batch=128)),
                            ("paper's size, n_test 10000", PAPER + ["n_test=10000"],
                             dict(N=8, Nmax=32, D=63, L=32, K=512, batch=128, n_test=10000))]:
        rss = peak_rss([bench, "task", "steps=20", "log_every=10"] + args)
        est = memory_model(**kw)
        lines.append(f"| {label} | {rss / 1e6:.1f} MB | {est / 1e6:.1f} MB | {est / rss:.2f} |")
        print(lines[-1], flush=True)
    with open(os.path.join(ROOT, "bench", "iccls", "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n" + NOTES)


if __name__ == "__main__":
    main()
