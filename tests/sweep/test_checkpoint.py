"""Task checkpoints through the program: a task stopped in the middle, by any kind of stop, resumes
from its checkpoint, with any number of ranks before and after, and the file ends bit for bit equal
to an uninterrupted run's; a task longer than the time a run has finishes over a chain of runs with
a deadline; a kill -9 loses at most one checkpoint interval; a damaged or foreign checkpoint is
refused with a message and its task starts over; when mpirun dies the ranks stop, checkpoint and
give the file back within seconds; running tasks' curves are in the file up to their checkpoint
(status, load_traj); per-task accounting (cpu_s, peak_rss, resumes); status while a run creates
the file; files of a build without these columns are read and resumed.
Speed: nothing depends on how fast this machine is. A stop comes once a task holds a checkpoint
(its file exists) and the checks are on what must hold then; the deadline chain sizes its runs
from the measured time of a task.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_checkpoint.py"""
import glob
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from common import SRC, rank_pids, run, run_ok, same_results, states, wait_gone
from sweeps import TWO_TASKS

# 2 concept tasks of ~1-6 s each on a core, a checkpoint at every log point (the default is a
# minute apart): a task past its first log point holds one, however fast the machine.
STEPS, LOG_EVERY = 24000, 1000
LONG = TWO_TASKS.format(seed=23, checkpoint_every=0, log_every=LOG_EVERY, steps=STEPS)


@pytest.fixture(scope="module")
def sweep(shared):
    return shared.file("long.yaml", LONG)


@pytest.fixture(scope="module")
def reference(shared, sweep):
    """An uninterrupted run."""
    return run_ok(3, sweep, shared.file("reference.h5"), "reference run", timeout=600)


def ckpt_files(out):
    return sorted(glob.glob(out + ".ckpt/*.ckpt"))


def keys_of(files):
    return {int(os.path.basename(f).split(".")[0], 16) for f in files}


def wait_for_checkpoint(out, proc, limit=300):
    """Waits until some task holds a checkpoint (it is in the middle of training)."""
    t0 = time.time()
    while time.time() - t0 < limit and proc.poll() is None:
        if ckpt_files(out):
            return True
        time.sleep(0.01)
    return False


def finish(sweep, out, reference, np_, label, held):
    """Resumes out on np_ ranks to the end; it must equal the reference, and every task that held a
    checkpoint (keys in held) must have continued from it."""
    rc, log = run(np_, "run", sweep, "-o", out, "--resume", "--quiet", timeout=600)
    assert rc == 0, f"{label}: resume exit {rc}: {log[-500:]}"
    diffs = same_results(reference, out)
    assert not diffs, f"{label}: the resumed file differs from the uninterrupted one in {diffs}"
    with h5py.File(out, "r") as f:
        key = f["tasks/key"][:]
        resumes = f["tasks/resumes"][:]
        cpu, rss = f["tasks/cpu_s"][:], f["tasks/peak_rss"][:]
    continued = {int(k) for k, r in zip(key, resumes) if r >= 1}
    assert held <= continued, f"{label}: tasks with a checkpoint that started over: {held - continued}"
    assert (cpu > 0).all() and (rss > 1e6).all(), f"{label}: cpu_s {cpu}, peak_rss {rss}"
    assert not os.path.exists(out + ".ckpt"), f"{label}: the checkpoints go once the sweep is done"


STOPS = [
    # (what, ranks before, ranks after)
    ("USR1 to the launcher", 3, 1),
    ("TERM to the ranks", 2, 3),
    ("INT to the process", 1, 2),
    ("kill -9 of a worker", 3, 2),
    ("kill -9 of the launcher and ranks", 3, 1),
]


@pytest.mark.parametrize("what, before, after", STOPS, ids=[s[0].replace(" ", "_") for s in STOPS])
def test_stop_and_resume(work, jobs, sweep, reference, what, before, after):
    out = work.file("stopped.h5")
    p = jobs.start(before, "run", sweep, "-o", out, "--quiet")
    assert wait_for_checkpoint(out, p), f"{what}: a task checkpointed"
    pids = rank_pids(out)
    if what.startswith("USR1"):
        os.kill(p.pid, signal.SIGUSR1)
    elif what.startswith("TERM"):
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
    elif what.startswith("INT"):
        os.kill(p.pid, signal.SIGINT)
    elif what == "kill -9 of a worker":
        os.kill(pids[-1], signal.SIGKILL)  # the youngest rank: a worker
    else:
        os.killpg(p.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-9", "-f", out])
    try:
        log, _ = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
    wait_gone(out)
    if what.startswith(("USR1", "TERM", "INT")):
        assert p.returncode == 3 or (before > 1 and p.returncode == 1), f"{what}: exit {p.returncode}: {log[-400:]}"
        s = states(out)
        assert s is not None and not (s == 1).any(), f"{what}: no task left running: {s}"
    held = keys_of(ckpt_files(out))
    assert held or (states(out) == 2).all(), f"{what}: stopped with tasks in the middle and no checkpoint"
    finish(sweep, out, reference, after, what, held)


def test_kill_loses_at_most_an_interval(work, jobs, sweep, reference):
    """kill -9 of the whole job: what a task loses is what it trained since its last checkpoint,
    which is at most checkpoint_every (0 here) and one log interval old."""
    out = work.file("killed.h5")
    p = jobs.start(3, "run", sweep, "-o", out, "--quiet")
    assert wait_for_checkpoint(out, p)
    time.sleep(0.3)  # past a log interval or so
    killed = time.time()
    os.killpg(p.pid, signal.SIGKILL)
    subprocess.run(["pkill", "-9", "-f", out])
    p.wait()
    wait_gone(out)
    with h5py.File(reference, "r") as f:
        interval = float(np.max(f["tasks/wall_s"][:])) * LOG_EVERY / STEPS  # one log interval's time
    for path in ckpt_files(out):
        age = killed - os.path.getmtime(path)
        # The last checkpoint is at most checkpoint_every (0) plus one log interval old; allowed
        # three of the reference's intervals and a second for this machine's load.
        assert age <= 3 * interval + 1.0, f"{path}: {age:.2f} s old at the kill (interval {interval:.2f} s)"
    finish(sweep, out, reference, 2, "kill -9", keys_of(ckpt_files(out)))


def test_deadline_chain(work, sweep, reference):
    """Tasks longer than a run's time finish over a chain of runs with --deadline: each run stops
    its task at the deadline with a checkpoint and the next continues it. Sized on this machine,
    now: a run's window is twice its measured start-up plus 2 s, and the chain's own sweep has
    tasks of two windows (from the reference's steps per second), so no task fits one run however
    fast or slow the machine (a sanitizer's start-up takes seconds)."""
    with h5py.File(reference, "r") as f:
        rate = STEPS / float(np.min(f["tasks/wall_s"][:]))  # steps per second of a task here
    idle = work.file("idle.h5")
    with open(reference, "rb") as src, open(idle, "wb") as dst:
        dst.write(src.read())
    startups = []
    for _ in range(2):
        t0 = time.time()
        run(1, "run", sweep, "-o", idle, "--resume", "--quiet")  # nothing to do: its start-up and end
        startups.append(time.time() - t0)
    window = 2 * min(startups) + 2.0
    log_every = max(100, int(rate * window / 20) // 100 * 100)
    steps = max(2 * log_every, int(rate * 2 * window) // log_every * log_every)
    chain_sweep = work.file("chain.yaml", TWO_TASKS.format(seed=23, checkpoint_every=0, log_every=log_every,
                                                           steps=steps))
    whole = run_ok(3, chain_sweep, work.file("chain_reference.h5"), "the chain's reference", timeout=600)
    out = work.file("chain.h5")
    runs, stalled = 0, 0
    kept = None
    while runs < 80:
        runs += 1
        rc, log = run(1, "run", chain_sweep, "-o", out, "--resume", "--deadline", f"+{window:.3f}",
                      "--deadline-margin", "1", "--progress", "none", timeout=300)
        assert rc in (0, 3), f"run {runs}: exit {rc}: {log[-400:]}"
        if rc == 0:
            break
        assert "stopped before the deadline" in log, f"run {runs}: {log[-400:]}"
        rc, text = run(1, "status", out, "--json")
        now = re.search(r'"finished": (\d+), "checkpointed": \d+, "checkpoint_steps": (\d+)', text).groups()
        stalled += now == kept
        kept = now
    assert rc == 0, f"the chain did not finish in {runs} runs ({stalled} without progress)"
    assert runs >= 2, f"tasks of {steps} steps ({steps / rate:.2f} s) in runs of {window:.2f} s finished in one run"
    diffs = same_results(whole, out)
    assert not diffs, f"the chain's file differs from the uninterrupted one in {diffs}"
    with h5py.File(out, "r") as f:
        assert (f["tasks/resumes"][:] >= 1).any(), f"tasks continued from checkpoints: {f['tasks/resumes'][:]}"


def corrupt(path, how):
    data = bytearray(open(path, "rb").read())
    if how == "flip":
        data[len(data) // 2] ^= 0x40
    open(path, "wb").write(bytes(data))


@pytest.mark.parametrize("how", ("flip", "foreign", "truncated"))
def test_bad_checkpoint(work, jobs, sweep, reference, how):
    out = work.file("bad.h5")
    p = jobs.start(3, "run", sweep, "-o", out, "--quiet")
    assert wait_for_checkpoint(out, p)
    # At once: a task's first checkpoint comes at the first of its 24 log points, so the stop lands
    # with most of the task left however fast the machine (a fixed wait could outlast the task).
    os.kill(p.pid, signal.SIGUSR1)
    p.communicate(timeout=120)
    wait_gone(out)
    files = ckpt_files(out)
    assert len(files) >= 1, "a checkpoint to spoil"
    victim = files[0]
    if how == "foreign":
        # another task's checkpoint (or a copy of a file that is not one) under this task's name
        other = files[1] if len(files) > 1 else os.path.join(SRC, "tests", "golden", "concept.golden")
        with open(other, "rb") as src, open(victim, "wb") as dst:
            dst.write(src.read())
    elif how == "truncated":
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) // 2)
    else:
        corrupt(victim, "flip")
    rc, log = run(2, "run", sweep, "-o", out, "--resume", timeout=600)
    assert rc == 0, f"{how}: the resume finishes: {rc} {log[-500:]}"
    assert "is refused" in log and "starts over" in log, f"{how}: the refusal is said: {log[-800:]}"
    want = {"flip": "damaged", "foreign": "another task" if len(files) > 1 else "not a checkpoint",
            "truncated": "damaged"}[how]
    assert want in log, f"{how}: the reason ({want}): {log[-800:]}"
    diffs = same_results(reference, out)
    assert not diffs, f"{how}: the file differs from the uninterrupted one in {diffs}"
    victim_key = int(os.path.basename(victim).split(".")[0], 16)
    with h5py.File(out, "r") as f:
        row = list(f["tasks/key"][:]).index(victim_key)
        assert f["tasks/resumes"][row] == 0, f"{how}: the spoiled task started over"


def test_launcher_killed(work, jobs, sweep, reference):
    """kill -9 of mpirun alone: the ranks (orphans now) stop at their next log point with a
    checkpoint and end within seconds, giving the file back: a resume right after is not refused."""
    out = work.file("orphans.h5")
    p = jobs.start(3, "run", sweep, "-o", out, "--quiet")
    assert wait_for_checkpoint(out, p)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    t0 = time.time()
    while rank_pids(out) and time.time() - t0 < 30:
        time.sleep(0.05)
    gone = time.time() - t0
    assert not rank_pids(out), "the ranks end after their launcher"
    assert gone < 25, f"the ranks took {gone:.1f} s to end"
    s = states(out)
    held = keys_of(ckpt_files(out))
    assert s is not None and held, f"the ranks checkpointed their tasks: {s}, {held}"
    finish(sweep, out, reference, 3, "launcher killed", held)


def test_partial_curves(work, jobs, sweep):
    """A stopped task's log points up to its checkpoint are in /traj (NaN after), status says so,
    and load_traj marks them partial."""
    out = work.file("partial.h5")
    p = jobs.start(2, "run", sweep, "-o", out, "--quiet")
    assert wait_for_checkpoint(out, p)
    os.kill(p.pid, signal.SIGUSR1)
    p.communicate(timeout=120)
    wait_gone(out)
    rc, text = run(1, "status", out)
    assert rc == 3 and re.search(r"in progress: \d+ tasks? kept a checkpoint", text), text
    with h5py.File(out, "r") as f:
        status, ckpt = f["tasks/status"][:], f["tasks/ckpt_step"][:]
        step, loss = f["traj/step"][()], f["traj/train_loss"][()]
    rows = np.nonzero((status == 0) & (ckpt >= 0))[0]
    assert len(rows), f"a pending task with a checkpoint: {status} {ckpt}"
    for t in rows:
        kept = (step[t] >= 0) & (step[t] <= ckpt[t])
        assert np.isfinite(loss[t][kept]).all() and np.isnan(loss[t][step[t] > ckpt[t]]).all(), \
            f"row {t}: log points up to step {ckpt[t]} and NaN after"
    code = ("import sys, iclsweep; t = iclsweep.load_traj(sys.argv[1], warn=False); "
            "p = t[t['partial'] & t['train_loss'].notna()]; print(len(p), p['step'].max())")
    r = subprocess.run(["/usr/bin/python3", "-c", code, out], env=dict(os.environ, PYTHONPATH=os.path.join(SRC, "analysis")),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    n, last = r.stdout.split()[-2:]
    assert r.returncode == 0 and int(n) > 0 and int(float(last)) == ckpt[rows].max(), r.stdout


def test_status_while_creating(work, jobs):
    """status on a file a run is still creating says so (exit 3), never that its creation never
    finished. A sweep of 60,000 tasks takes seconds to create on most machines; polled all along."""
    sweep = work.file("big.yaml", "model: concept\nseed: 1\nreplicates: 100\nfixed: {steps: 1}\n"
                      "grid:\n  noise: {linspace: [0, 0.5, 600]}\n")
    out = work.file("big.h5")
    p = jobs.start(1, "run", sweep, "-o", out, "--quiet")
    seen = []
    while p.poll() is None:
        if os.path.exists(out):
            rc, text = run(1, "status", out)
            seen.append((rc, text))
            if rc == 3 and "pending" in text:
                break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    wait_gone(out)
    assert seen, "status was asked while the run made the file"
    for rc, text in seen:
        assert "never finished" not in text and rc == 3, f"status during creation: {rc} {text}"


def test_older_file(work, sweep, reference):
    """A file of the older format, without the checkpoint, accounting and checksum columns: status reads it,
    --from copies its tasks, and a resume rewrites it with them, keeping every finished task."""
    old = work.file("old.h5")
    with open(reference, "rb") as src, open(old, "wb") as dst:
        dst.write(src.read())
    with h5py.File(old, "r+") as f:
        for name in ("cpu_s", "peak_rss", "resumes", "ckpt_step", "checksum"):
            del f["tasks"][name]
        f.attrs["format"] = "iclsweep/2"
        f["tasks/status"][1] = 0  # one task left to do
    rc, text = run(1, "status", old)
    assert rc == 3 and "pending" in text, f"status of an older file: {rc} {text}"
    copied = work.file("copied.h5")
    rc, log = run(1, "run", sweep, "-o", copied, "--from", old, "--quiet")
    assert rc == 0, f"--from an older file: {log[-400:]}"
    assert not same_results(reference, copied)
    rc, log = run(2, "run", sweep, "-o", old, "--resume")
    assert rc == 0 and "finished ones kept" in log, f"resuming an older file: {log[-500:]}"
    assert not same_results(reference, old)
    with h5py.File(old, "r") as f:
        assert "ckpt_step" in f["tasks"] and (f["tasks/attempts"][:] >= 1).all()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-rs", "-p", "no:cacheprovider"]))
