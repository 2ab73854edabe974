"""One writer per result file: while a run writes OUT.h5, a second run on it (with --resume, with
--force, or on any rank count) is refused with exit 2 naming the holder (host, pid, since), and
status says who writes it; nothing of the first run is lost. A holder killed with -9 never blocks a
resume; a record from another node is honoured while its heartbeat is fresh and proven stale after.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_owner.py"""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from common import rank_pids, run, run_ok, same_results, start, states, wait_for_done, wait_gone
from sweeps import LONGER


@pytest.fixture(scope="module")
def sweep(shared):
    # Slow enough (~8 s on 2 workers) that a kill always lands mid-sweep.
    return shared.file("longer.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [4000, 6000]"))


@pytest.fixture(scope="module")
def reference(shared, sweep):
    """An uninterrupted run of the sweep."""
    return run_ok(2, sweep, shared.file("reference.h5"), "reference")


@pytest.fixture(scope="module")
def writer(shared):
    """A run that writes double.h5 for minutes (while this file's double-submit tests run), once it
    has finished a task: (its process, the sweep, the output). test_first_run_stops_undisturbed
    stops it; whatever of it still runs at the end of the module is killed."""
    # Long enough by far (tens of seconds a task) that it is still running when the last test
    # here stops it; log points every 5000 steps keep the file small and the drain short.
    slow = shared.file("slow.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [400000, 600000]")
                       .replace("log_every: 50", "log_every: 5000"))
    out = shared.file("double.h5")
    first = start(3, "run", slow, "-o", out, "--quiet")
    try:
        assert wait_for_done(out, 1, first, limit=300), "the first run is writing"
        yield first, slow, out
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
        subprocess.run(["pkill", "-9", "-f", out])


@pytest.mark.parametrize("args", (("--resume",), ("--force",), ()), ids=("resume", "force", "plain"))
@pytest.mark.parametrize("np_", (1, 2))
def test_second_run_refused(writer, args, np_):
    _, slow, out = writer
    rc, log = run(np_, "run", slow, "-o", out, "--quiet", *args)
    assert rc == 2 and "being written by another run" in log and "pid " in log \
        and "host " + socket.gethostname() in log and "since" in log, \
        f"second run {args} np {np_} refused naming the holder: {rc} {log[-400:]}"


def test_status_names_the_writer(writer):
    rc, text = run(1, "status", writer[2], "--json")
    doc = json.loads(text)
    assert rc == 3 and doc["owner"] and "host " + socket.gethostname() in doc["owner"], \
        f"status names the writer: {doc}"


def test_first_run_stops_undisturbed(writer):
    first, _, out = writer
    done_before = states(out) == 2
    first.send_signal(signal.SIGUSR1)
    first.communicate(timeout=300)
    assert first.returncode == 3, f"the first run stopped cleanly, undisturbed: {first.returncode}"
    s = states(out)
    assert s is not None and (s[done_before] == 2).all() and not (s == 1).any(), \
        f"nothing the first run finished was lost: {done_before} -> {s}"
    assert not os.path.exists(out + ".lock"), "the lock file is gone after the run"
    rc, text = run(1, "status", out, "--json")
    assert rc == 3 and json.loads(text)["owner"] is None, f"nobody writes it now: {text}"


def test_killed_holder(work, jobs, sweep, reference):
    out = work.file("killed.h5")
    p = jobs.start(3, "run", sweep, "-o", out, "--quiet")
    assert wait_for_done(out, 2, p), "a run to kill is writing"
    assert p.poll() is None and os.path.exists(out + ".lock"), "the run holds its lock file while it runs"
    # Every process at once (the ranks are in process groups of their own, and ranks that outlive
    # their launcher stop cleanly and release the lock: only a kill of all leaves a stale one).
    ranks = rank_pids(out)
    os.killpg(p.pid, signal.SIGKILL)
    for pid in ranks:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()
    wait_gone(out)
    assert os.path.exists(out + ".lock"), "kill -9 leaves the lock file behind"
    rc, log = run(3, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 0, f"a dead holder does not block the resume: {rc} {log[-300:]}"
    assert not same_results(out, reference), "the resumed file equals an uninterrupted run"


def test_foreign_record(work, sweep):
    """A record written on another node: its lock may not reach us, so a fresh heartbeat is honoured
    and an old one is proven stale."""
    out = work.file("foreign.h5")
    rc, _ = run(1, "run", sweep, "-o", out, "--quiet")
    assert rc == 0, "a finished file"
    now = int(time.time())
    with open(out + ".lock", "w") as f:
        f.write(f"host=node-elsewhere pid=4242 job=991 since=2026-01-01T00:00:00Z heartbeat={now}\n")
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 2 and "node-elsewhere" in log and "pid 4242" in log and "Slurm job 991" in log, \
        f"a fresh foreign record is honoured: {rc} {log[-300:]}"
    with open(out + ".lock", "w") as f:
        f.write(f"host=node-elsewhere pid=4242 job=991 since=2026-01-01T00:00:00Z heartbeat={now - 600}\n")
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 0, f"a stale foreign record is not: {rc} {log[-300:]}"
