"""Failures are values, not crashes: a diverging point (huge learning rate) is recorded as
diverged with its step and reason while the rest completes (exit 4), and --retry-failed runs it
again; an existing file is never overwritten without --force; a resume with a changed sweep, or of
a file that is not an iclsweep result, is refused with exit 2 naming what differs.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_failures.py"""
import hashlib
import shutil
import subprocess

import h5py
import numpy as np

from common import BIN, ENV, Workdir, check, report, run
from sweeps import TINY

# Gradient descent on the spin-glass energy is stable for lr below 2 / (largest curvature) and
# blows up exponentially above it: lr = 1000 reaches Inf within a few dozen steps.
DIVERGING = """\
model: linattn
seed: 3
replicates: 2
fixed: {D: 3, N: 10, P: 50, P_test: 50, optimizer: gd, steps: 200, log_every: 20}
grid:
  lr: [0.01, 1000]
  weight_decay: [0, 0.1]
"""


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def diverging_point(w):
    sweep = w.file("diverge.yaml", DIVERGING)
    out = w.file("diverge.h5")
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    check(rc == 4, f"a sweep with diverged tasks exits 4, got {rc}: {log}")
    check("diverged" in log and "--retry-failed" in log, f"the message says what to do: {log}")
    with h5py.File(out, "r") as f:
        status = f["tasks/status"][:]
        lr = f["tasks/lr"][:]
        errors = [e.decode() for e in f["tasks/error"][:]]
        steps_done = f["tasks/steps_done"][:]
        loss = f["traj/train_loss"][()]
        step = f["traj/step"][()]
        check(((status == 4) == (lr > 1)).all(), f"exactly the huge-lr tasks diverged: {status}")
        check(((status == 2) == (lr < 1)).all(), "the others are done")
        for t in np.nonzero(status == 4)[0]:
            check(len(errors[t]) > 0, f"diverged task {t} has a reason")
            check(0 <= steps_done[t] < 200, f"diverged task {t} records its step {steps_done[t]}")
            after = step > steps_done[t]
            check(np.isnan(loss[t][after]).all(), f"task {t}: NaN after the diverging step")
        attempts_before = f["tasks/attempts"][:]
    _, out_status = run(1, "status", out)
    check("diverged" in out_status and "failures by reason" in out_status,
          f"status groups the reasons: {out_status}")
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--retry-failed", "--quiet")
    check(rc == 4, f"retrying a deterministic divergence diverges again (exit 4), got {rc}: {log}")
    with h5py.File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
        status = f["tasks/status"][:]
    check(((attempts == attempts_before + 1) == (status == 4)).all(),
          f"--retry-failed reran only the diverged tasks: {attempts_before} -> {attempts}")
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    check(rc == 4, f"a plain resume runs nothing and still reports the failures: {rc} {log}")


def refusals(w):
    sweep = w.file("tiny.yaml", TINY)
    out = w.file("tiny.h5")
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    check(rc == 0, f"tiny sweep: {log}")
    before = digest(out)
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    check(rc == 2 and "already exists" in log and "--force" in log, f"no overwrite: {rc} {log}")
    check(digest(out) == before, "the existing file is untouched")
    changed = w.file("changed.yaml", TINY.replace("noise: [0.01, 0.1]", "noise: [0.01, 0.2]"))
    rc, log = run(2, "run", changed, "-o", out, "--resume", "--quiet")
    check(rc == 2 and "different sweep" in log and "noise: [0.01, 0.2]" in log,
          f"resume with a changed sweep names the difference: {rc} {log}")
    check(digest(out) == before, "a refused resume leaves the file untouched")
    reseeded = w.file("reseeded.yaml", TINY.replace("seed: 7", "seed: 8"))
    rc, log = run(2, "run", reseeded, "-o", out, "--resume", "--quiet")
    check(rc == 2 and "sweep seed 7" in log and "seed: 8" in log, f"resume with another seed: {rc} {log}")
    other_model = w.file("linattn.yaml", "model: linattn\nfixed: {D: 2, N: 4, P: 8, steps: 2}\n")
    rc, log = run(1, "run", other_model, "-o", out, "--resume", "--quiet")
    check(rc == 2 and "model concept" in log, f"resume with another model: {rc} {log}")
    not_h5 = w.file("not.h5", "this is not HDF5\n")
    rc, log = run(1, "run", sweep, "-o", not_h5, "--resume", "--quiet")
    check(rc == 2 and "not an HDF5 file" in log, f"resume of a non-HDF5 file: {rc} {log}")
    rc, log = run(1, "status", not_h5)
    check(rc == 2 and "not an HDF5 file" in log, f"status of a non-HDF5 file: {rc} {log}")
    rc, log = run(1, "run", sweep, "-o", w.file("missing.h5"), "--resume", "--quiet")
    check(rc == 2 and "no such result file" in log, f"resume of a missing file: {rc} {log}")
    rc, log = run(2, "run", sweep, "-o", out, "--force", "--quiet")
    check(rc == 0, f"--force starts over: {rc} {log}")
    # A job killed while creating the file leaves it without layout_complete: never resumed.
    half = w.file("half.h5")
    shutil.copy(out, half)
    with h5py.File(half, "a") as f:
        del f.attrs["layout_complete"]
    rc, log = run(2, "run", sweep, "-o", half, "--resume", "--quiet")
    check(rc == 2 and "creation never finished" in log, f"half-created file: {rc} {log}")
    rc, log = run(1, "run", sweep, "-o", w.file("nodir/x.h5"), "--quiet")
    check(rc == 2 and "cannot create the result file" in log, f"unwritable output: {rc} {log}")
    rc, log = run(1, "run", sweep, "--quiet")
    check(rc == 2 and "missing -o" in log, f"missing -o: {rc} {log}")


def main():
    with Workdir() as w:
        diverging_point(w)
        refusals(w)
    report("test_failures")


main()
