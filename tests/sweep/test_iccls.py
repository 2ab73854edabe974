"""The iccls models end to end through `iclsweep run`, read back with h5py:
- a tiny iccls sweep (B = 0, 1, 2 x float64, float32) on 2 ranks: every task done, the theory
  columns (chance 1/L, context guess B/N with N/2 copies at B = 0, the mark L = N/B), ic_score
  and iw_score from the accuracies and those levels, the log steps, finite metrics;
- the companion model at scale: a ~10^4-task phase diagram over (B, N, L) on 3 ranks (skip_invalid
  drops L < N/B), every task done in seconds, the saddle L = N/B stuck at loss ln L with no t_icl,
  every other task's loss below it, and sampled rows equal to `iclsweep train` of the same task.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_iccls.py"""
import json
import math

import h5py
import numpy as np
import pytest

from common import run, run_ok
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


@pytest.fixture(scope="module")
def iccls(shared):
    return run_ok(2, shared.file("iccls.yaml", ICCLS_TINY), shared.file("iccls.h5"), "iccls run")


@pytest.fixture(scope="module")
def companion(shared):
    sweep = shared.file("companion.yaml", COMPANION)
    return sweep, run_ok(3, sweep, shared.file("companion.h5"), "companion run", timeout=600)


def test_iccls_theory_and_scores(iccls):
    with h5py.File(iccls, "r") as f:
        status = column(f, "tasks", "status")
        assert len(status) == 6 and all(s == 2 for s in status), f"6 tasks done: {status}"
        B = column(f, "tasks", "B")
        copies = np.where(B > 0, B, 2)
        assert np.array_equal(column(f, "theory", "context_guess"), copies / 4), "context guess B/N (N/2 at B = 0)"
        assert np.all(column(f, "theory", "chance_acc") == 1 / 8), "chance 1/L"
        assert np.array_equal(column(f, "theory", "saddle_L"), 4 / copies), "the mark L = N/B"
        assert list(f["traj"]["step"][0]) == [0, 20, 40], f"log steps {f['traj']['step'][0]}"
        ic, iw = column(f, "final", "ic_acc"), column(f, "final", "iw_acc")
        assert np.allclose(column(f, "final", "ic_score"), (ic - copies / 4) / (1 - copies / 4), rtol=0, atol=1e-15)
        assert np.allclose(column(f, "final", "iw_score"), (iw - 1 / 8) / (7 / 8), rtol=0, atol=1e-15)
        for name in ("ic_acc", "iw_acc", "cla", "ic_loss", "h3_active"):
            assert np.all(np.isfinite(f["traj"][name][()])), f"{name} finite at every log point"


def test_companion_at_scale(companion):
    _, out = companion
    with h5py.File(out, "r") as f:
        status = column(f, "tasks", "status")
        assert len(status) > 9000 and np.all(status == 2), f"{len(status)} companion tasks, all done"
        N, B, L = (column(f, "tasks", k) for k in ("N", "B", "L"))
        loss, t_icl = column(f, "final", "loss"), column(f, "final", "t_icl")
    saddle = L == N // B
    assert np.all(L >= N // B) and np.all(N % B == 0), "skip_invalid dropped L < N/B and B not dividing N"
    stuck = np.abs(loss[saddle] - np.log(L[saddle].astype(float)))  # numpy's log and libm's may differ by an ulp
    assert saddle.sum() > 50 and stuck.max() < 1e-12, f"{saddle.sum()} saddle tasks stay at loss ln L: {stuck.max()}"
    assert np.all(np.isnan(t_icl[saddle])), "no t_icl at the saddle"
    assert np.all(loss[~saddle] < np.log(L[~saddle])), "every other task descends"
    assert np.isfinite(t_icl[(L > 2 * N // B) & (N // B <= 8)]).all(), "far from the saddle, small M: a jump"


@pytest.mark.parametrize("which", ("first", "middle", "last"))
def test_companion_rows_equal_train(companion, which):
    sweep, out = companion
    with h5py.File(out, "r") as f:
        n = len(f["tasks"]["status"])
        t = {"first": 0, "middle": n // 3, "last": n - 1}[which]
        row = {name: float(f["final"][name][t]) for name in f["final"]}
    rc, text = run(1, "train", sweep, "--task", str(t), "--format", "jsonl")
    assert rc == 0, text
    final = json.loads([l for l in text.splitlines() if l.startswith("{")][-1])
    for name, b in row.items():
        a = final[name]
        assert (a is None and not math.isfinite(b)) or a == b, f"task {t}: {name} {a} vs {b}"
