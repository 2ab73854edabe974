"""The iccls models end to end through `iclsweep run`, read back with h5py:
- a tiny iccls sweep (B = 0, 1, 2 x float64, float32) on 2 ranks: every task done, the theory
  columns (chance 1/L, context guess B/N with N/2 copies at B = 0, the mark L = N/B), ic_score
  and iw_score from the accuracies and those levels, the log steps, finite metrics;
- the companion model at scale: a ~10^4-task phase diagram over (B, N, L) on 3 ranks (skip_invalid
  drops L < N/B), every task done in seconds, the saddle L = N/B stuck at loss ln L with no t_icl,
  every other task's loss below it, and sampled rows equal to `iclsweep train` of the same task.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_iccls.py"""
import json
import math
import time

import h5py
import numpy as np

from common import check, report, run, Workdir
from sweeps import ICCLS_TINY

COMPANION = """\
model: iccls_companion
seed: 3
skip_invalid: true
fixed: {steps: 3000, log_every: 1000}
grid:
  B: [1, 2]
  N: {range: [2, 65, 1]}
  L: {range: [2, 129, 1]}
"""


def column(f, group, name):
    return np.asarray(f[group][name][()])


def check_iccls(w):
    sweep, out = w.file("iccls.yaml", ICCLS_TINY), w.file("iccls.h5")
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    check(rc == 0, f"iccls run: {rc} {log}")
    with h5py.File(out, "r") as f:
        status = column(f, "tasks", "status")
        check(len(status) == 6 and all(s == 2 for s in status), f"6 tasks done: {status}")
        B = column(f, "tasks", "B")
        prec = [p.decode() if isinstance(p, bytes) else p for p in column(f, "tasks", "precision")]
        copies = np.where(B > 0, B, 2)
        check(np.array_equal(column(f, "theory", "context_guess"), copies / 4), "context guess B/N (N/2 at B = 0)")
        check(np.all(column(f, "theory", "chance_acc") == 1 / 8), "chance 1/L")
        check(np.array_equal(column(f, "theory", "saddle_L"), 4 / copies), "the mark L = N/B")
        check(list(f["traj"]["step"][0]) == [0, 20, 40], f"log steps {f['traj']['step'][0]}")
        ic, iw = column(f, "final", "ic_acc"), column(f, "final", "iw_acc")
        check(np.allclose(column(f, "final", "ic_score"), (ic - copies / 4) / (1 - copies / 4), rtol=0, atol=1e-15),
              "ic_score from ic_acc")
        check(np.allclose(column(f, "final", "iw_score"), (iw - 1 / 8) / (7 / 8), rtol=0, atol=1e-15), "iw_score")
        for name in ("ic_acc", "iw_acc", "cla", "ic_loss", "h3_active"):
            check(np.all(np.isfinite(f["traj"][name][()])), f"{name} finite at every log point")


def check_companion(w):
    sweep, out = w.file("companion.yaml", COMPANION), w.file("companion.h5")
    t0 = time.monotonic()
    rc, log = run(3, "run", sweep, "-o", out, "--quiet", timeout=600)
    wall = time.monotonic() - t0
    check(rc == 0, f"companion run: {rc} {log}")
    with h5py.File(out, "r") as f:
        n = len(f["tasks"]["status"])
        status = column(f, "tasks", "status")
        check(n > 9000 and np.all(status == 2), f"{n} companion tasks, all done")
        N, B, L = (column(f, "tasks", k) for k in ("N", "B", "L"))
        loss, t_icl = column(f, "final", "loss"), column(f, "final", "t_icl")
        saddle = L == N // B
        check(np.all(L >= N // B) and np.all(N % B == 0), "skip_invalid dropped L < N/B and B not dividing N")
        stuck = np.abs(loss[saddle] - np.log(L[saddle].astype(float)))  # numpy's log and libm's may differ by an ulp
        check(saddle.sum() > 50 and stuck.max() < 1e-12, f"{saddle.sum()} saddle tasks stay at loss ln L: {stuck.max()}")
        check(np.all(np.isnan(t_icl[saddle])), "no t_icl at the saddle")
        check(np.all(loss[~saddle] < np.log(L[~saddle])), "every other task descends")
        check(np.isfinite(t_icl[(L > 2 * N // B) & (N // B <= 8)]).all(), "far from the saddle, small M: a jump")
        picks = [0, n // 3, n - 1]
    print(f"companion: {n} tasks in {wall:.1f} s on 3 ranks")
    for t in picks:
        rc, text = run(1, "train", sweep, "--task", str(t), "--format", "jsonl")
        final = json.loads([l for l in text.splitlines() if l.startswith("{")][-1])
        with h5py.File(out, "r") as f:
            for name in f["final"]:
                a, b = final[name], float(f["final"][name][t])
                check((a is None and not math.isfinite(b)) or a == b, f"task {t}: {name} {a} vs {b}")


def main():
    with Workdir() as w:
        check_iccls(w)
        check_companion(w)
    report("test_iccls")


main()
