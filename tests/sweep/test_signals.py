"""Stop semantics through every launcher: SIGUSR1, SIGTERM or SIGINT, once, to the process (no
launcher), to mpirun, or to the ranks alone: the run drains (tasks in flight stop at their next log
point), closes the file, prints the resume hint and exits 3. (Open MPI's mpirun turns a TERM or INT
that it receives itself into its own exit 1, by its rule; the ranks still exit 3 and say so, and
`status` exits 3.) More SIGUSR1 or SIGTERM (a scheduler sends several) change nothing: the run
drains once and exits 3; a second SIGINT (Ctrl-C again) stops it at once, and the file stays
consistent. A Slurm step where MPI sees one rank per task is refused. Every stopped file resumes to the data of
an uninterrupted run.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_signals.py"""
import os
import signal
import subprocess
import time

import pytest

from common import BIN, ENV, rank_pids, run, run_ok, same_results, states, wait_for_done, wait_gone
from sweeps import LONGER, TWO_TASKS

SLOW = LONGER.replace("steps: [1000, 1500]", "steps: [6000, 9000]")


@pytest.fixture(scope="module")
def sweep(shared):
    return shared.file("slow.yaml", SLOW)


@pytest.fixture(scope="module")
def reference(shared, sweep):
    """An uninterrupted run of the sweep."""
    return run_ok(3, sweep, shared.file("reference.h5"), "reference")


def finish(sweep, out, reference, label):
    s = states(out)
    assert s is not None and not (s == 1).any(), f"{label}: no task left running: {s}"
    rc, _ = run(1, "status", out)
    assert rc == 3, f"{label}: status says work remains (exit 3): {rc}"
    rc, log = run(3, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 0, f"{label}: resume finishes: {rc} {log[-300:]}"
    diffs = same_results(out, reference)
    assert not diffs, f"{label}: equals an uninterrupted run: {diffs}"


@pytest.mark.parametrize("sig", (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT), ids=lambda s: s.name)
@pytest.mark.parametrize("np_, target", ((1, "launcher"), (3, "launcher"), (3, "ranks")),
                         ids=("np1-launcher", "np3-launcher", "np3-ranks"))
def test_once(work, jobs, sweep, reference, np_, sig, target):
    label = f"{signal.Signals(sig).name} to {target}, np {np_}"
    out = work.file(f"once_{np_}_{sig}_{target}.h5")
    p = jobs.start(np_, "run", sweep, "-o", out, "--progress", "plain")
    assert wait_for_done(out, 2, p), f"{label}: running"
    if target == "launcher":
        os.kill(p.pid, sig)
    else:
        for pid in rank_pids(out):
            os.kill(pid, sig)
    try:
        log, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
    name = signal.Signals(sig).name
    mpirun_rule = np_ > 1 and target == "launcher" and sig != signal.SIGUSR1
    want = 1 if mpirun_rule else 3
    assert p.returncode == want, f"{label}: exit {p.returncode}, want {want}: {log[-400:]}"
    # mpirun passes a TERM or INT it receives on to the ranks as SIGTERM.
    heard = "SIGTERM" if mpirun_rule else name
    assert f"stopped by {heard}" in log and "--resume" in log, f"{label}: the resume hint: {log[-400:]}"
    wait_gone(out)
    finish(sweep, out, reference, label)


# Two tasks of ~4 s with log points every ~1.3 s: the first signal lands early in the first task,
# which trains on to its next log point, so the second surely comes while the run drains.
SPARSE = TWO_TASKS.format(seed=11, checkpoint_every=60, log_every=40000, steps=120000)


@pytest.fixture(scope="module")
def sparse(shared):
    sweep = shared.file("sparse.yaml", SPARSE)
    return sweep, run_ok(3, sweep, shared.file("sparse_reference.h5"), "sparse reference")


def wait_delivered(pid, sig, limit=20.0):
    """Waits until sig is no longer pending for process pid (/proc's SigPnd and ShdPnd masks): it
    was delivered, its handler has run or runs now. Two signals of one kind pending at once are one
    signal, so a test that sends the same signal twice must wait for the first to be taken."""
    bit = 1 << (sig - 1)
    end = time.time() + limit
    while time.time() < end:
        with open(f"/proc/{pid}/status") as f:
            masks = [int(ln.split()[1], 16) for ln in f if ln.startswith(("SigPnd:", "ShdPnd:"))]
        if not any(m & bit for m in masks):
            return
        time.sleep(0.01)
    raise AssertionError(f"signal {sig} still pending for process {pid} after {limit} s")


@pytest.mark.parametrize("first, second", ((signal.SIGUSR1, signal.SIGTERM), (signal.SIGTERM, signal.SIGUSR1),
                                           (signal.SIGINT, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)),
                         ids=("USR1-TERM", "TERM-USR1", "INT-TERM", "INT-INT"))
def test_twice(work, jobs, sparse, first, second):
    sweep, reference = sparse
    label = f"{signal.Signals(first).name} then {signal.Signals(second).name}"
    out = work.file(f"twice_{first}_{second}.h5")
    p = jobs.start(1, "run", sweep, "-o", out, "--quiet")
    assert wait_for_done(out, 1, p, state=1), f"{label}: running"
    p.send_signal(first)
    wait_delivered(p.pid, first)  # taken before the second comes (two pending SIGINTs are one)
    p.send_signal(second)
    log, _ = p.communicate(timeout=60)
    if second == signal.SIGINT:
        assert p.returncode == -signal.SIGINT, f"{label}: a second SIGINT stops at once: {p.returncode}"
    else:
        assert p.returncode == 3 and f"stopped by {signal.Signals(first).name}" in log, \
            f"{label}: the run drains once and exits 3: {p.returncode} {log[-300:]}"
    s = states(out)
    # Killed at once, a task may be left `running`: the resume runs it again (from its checkpoint).
    rc, log = run(3, "run", sweep, "-o", out, "--resume", "--quiet")
    assert s is not None and rc == 0, f"{label}: the file resumes: {rc} {log[-300:]}"
    diffs = same_results(out, reference)
    assert not diffs, f"{label}: equals an uninterrupted run: {diffs}"


def test_mislaunched(work, sweep):
    env = dict(ENV, SLURM_STEP_NUM_TASKS="4")
    p = subprocess.run([BIN, "run", sweep, "-o", work.file("mis.h5")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert p.returncode == 2 and "srun --mpi=pmix" in p.stdout and not os.path.exists(work.file("mis.h5")), \
        f"a step of 4 Slurm tasks seen as 1 MPI rank is refused: {p.returncode} {p.stdout}"
