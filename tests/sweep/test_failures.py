"""Failures are values, not crashes: a diverging point (huge learning rate) is a result, recorded
with its step and reason while the rest completes (exit 0); a failed task makes the run exit 4 and
--retry-failed reruns it; an existing file is never overwritten without --force; a resume with a changed sweep, or of
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
    """Divergence is a result: recorded with its step and reason, counted, exit 0, and no advice to
    rerun the same seed into the same divergence."""
    sweep = w.file("diverge.yaml", DIVERGING)
    out = w.file("diverge.h5")
    rc, log = run(2, "run", sweep, "-o", out)
    check(rc == 0, f"a sweep with diverged tasks exits 0 (divergence is a result), got {rc}: {log}")
    check("4 of them diverged" in log and "--retry-failed" not in log, f"the message counts them: {log}")
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
            after = step[t] > steps_done[t]
            check(np.isnan(loss[t][after]).all(), f"task {t}: NaN after the diverging step")
        attempts_before = f["tasks/attempts"][:]
    rc, out_status = run(1, "status", out)
    check(rc == 0 and "diverged: " in out_status and "complete" in out_status,
          f"status groups the reasons and calls it complete: {rc} {out_status}")
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--retry-failed", "--quiet")
    with h5py.File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
    check(rc == 0 and (attempts == attempts_before).all(),
          f"--retry-failed does not rerun diverged tasks: {rc} {attempts_before} -> {attempts}")


def failed_task(w):
    """A task that fails (a program or I/O error, injected here) makes the run exit 4 and says how
    to retry; status exits 4; --retry-failed reruns exactly it."""
    sweep = w.file("tiny_fail.yaml", TINY)
    out = w.file("fail.h5")
    p = subprocess.run(["mpirun", "-np", "2", "--oversubscribe", BIN, "run", sweep, "-o", out, "--quiet"],
                       env=dict(ENV, ICLSWEEP_FAIL_TASK="3"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    check(p.returncode == 4 and "1 failed" in p.stdout and "--retry-failed" in p.stdout,
          f"a failed task exits 4 and says what to do: {p.returncode} {p.stdout}")
    rc, text = run(1, "status", out)
    check(rc == 4 and "failed: injected failure" in text, f"status exits 4 and says why: {rc} {text}")
    rc, js = run(1, "status", out, "--json")
    import json
    doc = json.loads(js)
    check(doc["counts"]["failed"] == 1 and doc["exit_code"] == 4 and not doc["complete"], f"status --json: {doc}")
    with h5py.File(out, "r") as f:
        before = f["tasks/attempts"][:]
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--quiet")
    check(rc == 4, f"a plain resume runs nothing and still reports the failure: {rc} {log}")
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--retry-failed", "--quiet")
    with h5py.File(out, "r") as f:
        after = f["tasks/attempts"][:]
        status = f["tasks/status"][:]
    check(rc == 0 and (status == 2).all(), f"--retry-failed finishes it: {rc} {status} {log}")
    check(((after - before) == (np.arange(len(before)) == 3)).all(), f"only task 3 reran: {before} -> {after}")


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
    check(rc == 0 and h5py.is_hdf5(w.file("missing.h5")), f"--resume starts a missing file: {rc} {log}")
    rc, log = run(2, "run", sweep, "-o", out, "--force", "--quiet")
    check(rc == 0, f"--force starts over: {rc} {log}")
    # A job killed while creating the file leaves it without layout_complete: never resumed.
    half = w.file("half.h5")
    shutil.copy(out, half)
    with h5py.File(half, "a") as f:
        del f.attrs["layout_complete"]
    rc, log = run(2, "run", sweep, "-o", half, "--resume", "--quiet")
    # a finished file that lost layout_complete is damaged, not a creation to start again (issue 20)
    check(rc == 2 and "damaged (not an unfinished creation)" in log, f"half-created file: {rc} {log}")
    rc, log = run(1, "run", sweep, "-o", w.file("nodir/x.h5"), "--quiet")
    check(rc == 2 and "nodir/x.h5" in log and "No such file or directory" in log, f"unwritable output: {rc} {log}")
    rc, log = run(1, "run", sweep, "--quiet")
    check(rc == 2 and "missing -o" in log, f"missing -o: {rc} {log}")


def main():
    with Workdir() as w:
        diverging_point(w)
        failed_task(w)
        refusals(w)
    report("test_failures")


main()
