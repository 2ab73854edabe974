"""Interrupted sweeps: kill -9 of the launcher and its ranks mid-sweep, then --resume; SIGUSR1 mid-sweep (exit 3
promptly), then --resume. Either way the final file equals an uninterrupted run's, every task is
done exactly once, and h5dump reads it.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_interrupt.py"""
import os
import re
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from common import BIN, run, run_ok, same_results, states, wait_for_done, wait_gone
from sweeps import LONGER


@pytest.fixture(scope="module")
def sweep(shared):
    return shared.file("longer.yaml", LONGER)


@pytest.fixture(scope="module")
def reference(shared, sweep):
    """An uninterrupted run of the sweep."""
    return run_ok(2, sweep, shared.file("reference.h5"), "reference run")


def finish_and_compare(sweep, out, reference, np_, label):
    done_rows_complete(out, label + " before resume")
    rc, log = run(np_, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 0, f"{label}: resume exit {rc}: {log}"
    diffs = same_results(reference, out)
    assert not diffs, f"{label}: resumed file differs from the uninterrupted one in {diffs}"
    with h5py.File(out, "r") as f:
        assert (f["tasks/status"][:] == 2).all(), f"{label}: every task done after resume"
        attempts = f["tasks/attempts"][:]
        assert attempts.min() >= 1, f"{label}: attempts {attempts}"
    dump = subprocess.run(["h5dump", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert dump.returncode == 0, f"{label}: h5dump reads the resumed file: {dump.stderr[:300]}"


def done_rows_complete(path, label):
    """No row may claim done without its data: every done task has a finite, positive training
    loss at each of its log points (unwritten rows read as zeros or garbage, not as a loss)."""
    with h5py.File(path, "r") as f:
        status = f["tasks/status"][:]
        loss = f["traj/train_loss"][()]
        step = f["traj/step"][()]
        final = f["final/test_err"][:]
        attempts = f["tasks/attempts"][:]
    bad = [t for t in np.nonzero(status == 2)[0]
           if not (np.isfinite(loss[t][step[t] >= 0]).all() and (loss[t][step[t] >= 0] > 0).all()
                   and np.isfinite(final[t]))]
    assert not bad, f"{label}: done rows without their data: {bad}"
    # Rows never started read as missing (NaN, written at creation), not as zeros.
    never = np.nonzero(attempts == 0)[0]
    assert np.isnan(loss[never]).all() and np.isnan(final[never]).all(), \
        f"{label}: rows never started hold NaN: {never}"


def layout_complete(path):
    try:
        with h5py.File(path, "r", locking=False) as f:
            return "layout_complete" in f.attrs
    except Exception:
        return False


@pytest.mark.parametrize("np_", (3, 1))
def test_kill_launcher(work, jobs, sweep, reference, np_):
    out = work.file(f"killed_np{np_}.h5")
    p = jobs.start(np_, "run", sweep, "-o", out, "--quiet")
    assert wait_for_done(out, 4, p), f"kill np={np_}: some tasks done before the kill"
    # kill -9 of the launcher and its ranks at once, as a node failure or Slurm's final SIGKILL
    # does (ranks orphaned by a lone launcher kill finish their work and exit cleanly).
    # Open MPI puts each rank in a process group of its own, so kill them by their command line.
    os.killpg(p.pid, signal.SIGKILL)
    subprocess.run(["pkill", "-9", "-f", out])
    p.wait()
    assert wait_gone(out), f"kill np={np_}: orphaned ranks went away"
    s = states(out)
    assert s is not None and (s == 2).sum() < len(s), f"kill np={np_}: killed with work left: {s}"
    finish_and_compare(sweep, out, reference, np_, f"kill np={np_}")


def test_crash_loop(work, jobs, sweep, reference):
    """kill -9 of the whole job at staggered moments, over and over (12 rounds), resuming each time
    (SQLite's crash loops); the end equals an uninterrupted run, every task done once."""
    out = work.file("crashloop.h5")
    rng = np.random.default_rng(5)
    for i in range(12):
        args = ["run", sweep, "-o", out, "--quiet"] + (["--resume"] if i else [])
        before = states(out) if i else None
        p = jobs.start(3, *args)
        # Kill while tasks are being trained and written: once one more task is done, after a
        # random fraction of a task's time (~0.1-0.2 s).
        wait_for_done(out, (0 if before is None else int((before == 2).sum())) + 1, p)
        time.sleep(rng.uniform(0.0, 0.15))
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-9", "-f", out])
        p.wait()
        wait_gone(out)
        if not layout_complete(out):  # killed while creating it: start over, as the message says
            assert i == 0, f"crash loop {i}: the file lost its completeness after the first round"
            if os.path.exists(out):
                os.remove(out)
            continue
        done_rows_complete(out, f"crash loop {i}")
    if not os.path.exists(out):
        run(3, "run", sweep, "-o", out, "--quiet")
    finish_and_compare(sweep, out, reference, 3, "crash loop")


def test_kill_one_worker(work, jobs, sweep, reference):
    """kill -9 of one worker rank alone: the job ends (mpirun takes the others down), no row claims
    done without its data, and a resume finishes to the data of an uninterrupted run."""
    out = work.file("worker_killed.h5")
    p = jobs.start(3, "run", sweep, "-o", out, "--quiet")
    assert wait_for_done(out, 3, p), "kill one worker: some tasks done"
    ranks = subprocess.run(["pgrep", "-f", f"^{BIN} run .* -o {out}"], stdout=subprocess.PIPE, text=True).stdout.split()
    # The workers are the ranks that are not rank 0; rank 0 is the oldest process of the three.
    pids = sorted(int(x) for x in ranks)
    assert len(pids) == 3, f"kill one worker: three ranks: {pids}"
    os.kill(pids[-1], signal.SIGKILL)
    try:
        p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
    assert p.returncode != 0, f"kill one worker: the job ends with an error: {p.returncode}"
    wait_gone(out)
    done_rows_complete(out, "kill one worker")
    finish_and_compare(sweep, out, reference, 3, "kill one worker")


@pytest.mark.parametrize("np_, sig", ((3, signal.SIGUSR1), (1, signal.SIGTERM)), ids=("np3-USR1", "np1-TERM"))
def test_stop_with_signal(work, jobs, sweep, reference, np_, sig):
    out = work.file(f"signalled_np{np_}.h5")
    p = jobs.start(np_, "run", sweep, "-o", out)
    assert wait_for_done(out, 3, p), f"signal np={np_}: some tasks done before the signal"
    rc, live = run(1, "status", out)
    assert rc == 3 and re.search(r"done\s+[1-9]", live) and re.search(r"pending\s+[1-9]", live), \
        f"signal np={np_}: status reads the file while the sweep writes it: {live}"
    t0 = time.time()
    os.kill(p.pid, sig)
    try:
        log, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        log, _ = p.communicate()
    elapsed = time.time() - t0
    assert p.returncode == 3, f"signal np={np_}: exit {p.returncode}, want 3: {log}"
    assert elapsed < 10, f"signal np={np_}: took {elapsed:.1f} s to stop"
    assert "--resume" in log, f"signal np={np_}: says how to continue: {log}"
    s = states(out)
    assert s is not None and not (s == 1).any(), f"signal np={np_}: no task left running: {s}"
    assert s is not None and (s == 0).any(), f"signal np={np_}: stopped with work pending: {s}"
    wait_gone(out)
    finish_and_compare(sweep, out, reference, np_, f"signal np={np_}")
