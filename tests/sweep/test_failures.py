"""Failures are values, not crashes: a diverging point (huge learning rate) is a result, recorded
with its step and reason while the rest completes (exit 0); a failed task makes the run exit 4 and
--retry-failed reruns it; an existing file is never overwritten without --force; a resume with a changed sweep, or of
a file that is not an iclsweep result, is refused with exit 2 naming what differs.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_failures.py"""
import hashlib
import json
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from common import BIN, ENV, run, run_ok
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


# Divergence is a result: recorded with its step and reason, counted, exit 0, and no advice to
# rerun the same seed into the same divergence.
@pytest.fixture(scope="module")
def diverged(shared):
    """The diverging sweep run once: (sweep, result file, the run's exit code and output)."""
    sweep = shared.file("diverge.yaml", DIVERGING)
    out = shared.file("diverge.h5")
    rc, log = run(2, "run", sweep, "-o", out)
    return sweep, out, rc, log


def test_divergence_is_a_result(diverged):
    _, _, rc, log = diverged
    assert rc == 0, f"a sweep with diverged tasks exits 0 (divergence is a result), got {rc}: {log}"
    assert "4 of them diverged" in log and "--retry-failed" not in log, f"the message counts them: {log}"


def test_diverged_rows(diverged):
    with h5py.File(diverged[1], "r") as f:
        status = f["tasks/status"][:]
        lr = f["tasks/lr"][:]
        errors = [e.decode() for e in f["tasks/error"][:]]
        steps_done = f["tasks/steps_done"][:]
        loss = f["traj/train_loss"][()]
        step = f["traj/step"][()]
    assert ((status == 4) == (lr > 1)).all(), f"exactly the huge-lr tasks diverged: {status}"
    assert ((status == 2) == (lr < 1)).all(), "the others are done"
    for t in np.nonzero(status == 4)[0]:
        assert len(errors[t]) > 0, f"diverged task {t} has a reason"
        assert 0 <= steps_done[t] < 200, f"diverged task {t} records its step {steps_done[t]}"
        after = step[t] > steps_done[t]
        assert np.isnan(loss[t][after]).all(), f"task {t}: NaN after the diverging step"


def test_status_of_diverged(diverged):
    rc, out_status = run(1, "status", diverged[1])
    assert rc == 0 and "diverged: " in out_status and "complete" in out_status, \
        f"status groups the reasons and calls it complete: {rc} {out_status}"


def test_retry_failed_leaves_diverged(work, diverged):
    sweep, out = diverged[0], work.file("diverge.h5")
    shutil.copyfile(diverged[1], out)
    with h5py.File(out, "r") as f:
        attempts_before = f["tasks/attempts"][:]
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--retry-failed", "--quiet")
    with h5py.File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
    assert rc == 0 and (attempts == attempts_before).all(), \
        f"--retry-failed does not rerun diverged tasks: {rc} {attempts_before} -> {attempts}"


# A task that fails (a program or I/O error, injected here) makes the run exit 4 and says how to
# retry; status exits 4; --retry-failed reruns exactly it.
@pytest.fixture(scope="module")
def failed(shared):
    """TINY with task 3 failing: (sweep, result file, the run's process)."""
    sweep = shared.file("tiny_fail.yaml", TINY)
    out = shared.file("fail.h5")
    p = subprocess.run(["mpirun", "-np", "2", "--oversubscribe", BIN, "run", sweep, "-o", out, "--quiet"],
                       env=dict(ENV, ICLSWEEP_FAIL_TASK="3"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    return sweep, out, p


def test_failed_task_exits_4(failed):
    p = failed[2]
    assert p.returncode == 4 and "1 failed" in p.stdout and "--retry-failed" in p.stdout, \
        f"a failed task exits 4 and says what to do: {p.returncode} {p.stdout}"


def test_status_of_failed(failed):
    rc, text = run(1, "status", failed[1])
    assert rc == 4 and "failed: injected failure" in text, f"status exits 4 and says why: {rc} {text}"
    rc, js = run(1, "status", failed[1], "--json")
    doc = json.loads(js)
    assert doc["counts"]["failed"] == 1 and doc["exit_code"] == 4 and not doc["complete"], f"status --json: {doc}"


def test_retry_failed_reruns_it(work, failed):
    sweep, out = failed[0], work.file("fail.h5")
    shutil.copyfile(failed[1], out)
    with h5py.File(out, "r") as f:
        before = f["tasks/attempts"][:]
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 4, f"a plain resume runs nothing and still reports the failure: {rc} {log}"
    rc, log = run(2, "run", sweep, "-o", out, "--resume", "--retry-failed", "--quiet")
    with h5py.File(out, "r") as f:
        after = f["tasks/attempts"][:]
        status = f["tasks/status"][:]
    assert rc == 0 and (status == 2).all(), f"--retry-failed finishes it: {rc} {status} {log}"
    assert ((after - before) == (np.arange(len(before)) == 3)).all(), f"only task 3 reran: {before} -> {after}"


# Refusals: each on a finished TINY result that none of them may touch.
@pytest.fixture(scope="module")
def tiny(shared):
    """TINY run once: (sweep, result file, its sha256)."""
    sweep = shared.file("tiny.yaml", TINY)
    out = run_ok(2, sweep, shared.file("tiny.h5"), "tiny sweep")
    return sweep, out, digest(out)


def test_no_overwrite(tiny):
    sweep, out, before = tiny
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    assert rc == 2 and "already exists" in log and "--force" in log, f"no overwrite: {rc} {log}"
    assert digest(out) == before, "the existing file is untouched"


def test_resume_with_a_changed_sweep(work, tiny):
    _, out, before = tiny
    changed = work.file("changed.yaml", TINY.replace("noise: [0.01, 0.1]", "noise: [0.01, 0.2]"))
    rc, log = run(2, "run", changed, "-o", out, "--resume", "--quiet")
    assert rc == 2 and "different sweep" in log and "noise: [0.01, 0.2]" in log, \
        f"resume with a changed sweep names the difference: {rc} {log}"
    assert digest(out) == before, "a refused resume leaves the file untouched"


def test_resume_with_another_seed(work, tiny):
    reseeded = work.file("reseeded.yaml", TINY.replace("seed: 7", "seed: 8"))
    rc, log = run(2, "run", reseeded, "-o", tiny[1], "--resume", "--quiet")
    assert rc == 2 and "sweep seed 7" in log and "seed: 8" in log, f"resume with another seed: {rc} {log}"


def test_resume_with_another_model(work, tiny):
    other_model = work.file("linattn.yaml", "model: linattn\nfixed: {D: 2, N: 4, P: 8, steps: 2}\n")
    rc, log = run(1, "run", other_model, "-o", tiny[1], "--resume", "--quiet")
    assert rc == 2 and "model concept" in log, f"resume with another model: {rc} {log}"


def test_not_hdf5(work, tiny):
    not_h5 = work.file("not.h5", "this is not HDF5\n")
    rc, log = run(1, "run", tiny[0], "-o", not_h5, "--resume", "--quiet")
    assert rc == 2 and "not an HDF5 file" in log, f"resume of a non-HDF5 file: {rc} {log}"
    rc, log = run(1, "status", not_h5)
    assert rc == 2 and "not an HDF5 file" in log, f"status of a non-HDF5 file: {rc} {log}"


def test_resume_starts_a_missing_file(work, tiny):
    rc, log = run(1, "run", tiny[0], "-o", work.file("missing.h5"), "--resume", "--quiet")
    assert rc == 0 and h5py.is_hdf5(work.file("missing.h5")), f"--resume starts a missing file: {rc} {log}"


def test_force_starts_over(work, tiny):
    out = work.file("tiny.h5")
    shutil.copyfile(tiny[1], out)
    rc, log = run(2, "run", tiny[0], "-o", out, "--force", "--quiet")
    assert rc == 0, f"--force starts over: {rc} {log}"


def test_half_created_file(work, tiny):
    """A finished file without layout_complete (an unfinished creation holds no results: see
    test_integrity.py) is damaged: never resumed."""
    half = work.file("half.h5")
    shutil.copy(tiny[1], half)
    with h5py.File(half, "a") as f:
        del f.attrs["layout_complete"]
    rc, log = run(2, "run", tiny[0], "-o", half, "--resume", "--quiet")
    # a finished file that lost layout_complete is damaged, not a creation to start again (issue 20)
    assert rc == 2 and "damaged (not an unfinished creation)" in log, f"half-created file: {rc} {log}"


def test_unwritable_output(work, tiny):
    rc, log = run(1, "run", tiny[0], "-o", work.file("nodir/x.h5"), "--quiet")
    assert rc == 2 and "nodir/x.h5" in log and "No such file or directory" in log, f"unwritable output: {rc} {log}"


def test_missing_output(tiny):
    rc, log = run(1, "run", tiny[0], "--quiet")
    assert rc == 2 and "missing -o" in log, f"missing -o: {rc} {log}"
