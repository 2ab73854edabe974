"""One writer per result file: while a run writes OUT.h5, a second run on it (with --resume, with
--force, or on any rank count) is refused with exit 2 naming the holder (host, pid, since), and
status says who writes it; nothing of the first run is lost. A holder killed with -9 never blocks a
resume; a record from another node is honoured while its heartbeat is fresh and proven stale after.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_owner.py"""
import json
import os
import signal
import socket
import subprocess
import time

from common import Workdir, check, report, run, same_results, start, states, wait_for_done, wait_gone
from sweeps import LONGER


def double_submit(w, sweep):
    slow = w.file("slow.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [20000, 30000]"))
    out = w.file("double.h5")
    first = start(3, "run", slow, "-o", out, "--quiet")
    check(wait_for_done(out, 1, first, limit=300), "the first run is writing")
    for args in (("--resume",), ("--force",), ()):
        for np_ in (1, 2):
            rc, log = run(np_, "run", slow, "-o", out, "--quiet", *args)
            check(rc == 2 and "being written by another run" in log and "pid " in log
                  and "host " + socket.gethostname() in log and "since" in log,
                  f"second run {args} np {np_} refused naming the holder: {rc} {log[-400:]}")
    rc, text = run(1, "status", out, "--json")
    doc = json.loads(text)
    check(rc == 3 and doc["owner"] and "host " + socket.gethostname() in doc["owner"],
          f"status names the writer: {doc}")
    done_before = states(out) == 2
    first.send_signal(signal.SIGUSR1)
    first.communicate(timeout=300)
    check(first.returncode == 3, f"the first run stopped cleanly, undisturbed: {first.returncode}")
    s = states(out)
    check(s is not None and (s[done_before] == 2).all() and not (s == 1).any(),
          f"nothing the first run finished was lost: {done_before} -> {s}")
    check(not os.path.exists(out + ".lock"), "the lock file is gone after the run")
    rc, text = run(1, "status", out, "--json")
    check(rc == 3 and json.loads(text)["owner"] is None, f"nobody writes it now: {text}")


def killed_holder(w, sweep, reference):
    out = w.file("killed.h5")
    p = start(3, "run", sweep, "-o", out, "--quiet")
    check(wait_for_done(out, 2, p), "a run to kill is writing")
    check(p.poll() is None and os.path.exists(out + ".lock"), "the run holds its lock file while it runs")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    wait_gone(out)
    check(os.path.exists(out + ".lock"), "kill -9 leaves the lock file behind")
    rc, log = run(3, "run", sweep, "-o", out, "--resume", "--quiet")
    check(rc == 0, f"a dead holder does not block the resume: {rc} {log[-300:]}")
    check(not same_results(out, reference), "the resumed file equals an uninterrupted run")


def foreign_record(w, sweep):
    """A record written on another node: its lock may not reach us, so a fresh heartbeat is honoured
    and an old one is proven stale."""
    out = w.file("foreign.h5")
    rc, _ = run(1, "run", sweep, "-o", out, "--quiet")
    check(rc == 0, "a finished file")
    now = int(time.time())
    with open(out + ".lock", "w") as f:
        f.write(f"host=node-elsewhere pid=4242 job=991 since=2026-01-01T00:00:00Z heartbeat={now}\n")
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    check(rc == 2 and "node-elsewhere" in log and "pid 4242" in log and "Slurm job 991" in log,
          f"a fresh foreign record is honoured: {rc} {log[-300:]}")
    with open(out + ".lock", "w") as f:
        f.write(f"host=node-elsewhere pid=4242 job=991 since=2026-01-01T00:00:00Z heartbeat={now - 600}\n")
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    check(rc == 0, f"a stale foreign record is not: {rc} {log[-300:]}")


with Workdir() as w:
    # Slow enough (~8 s on 2 workers) that a kill always lands mid-sweep.
    sweep = w.file("longer.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [4000, 6000]"))
    reference = w.file("reference.h5")
    rc, log = run(2, "run", sweep, "-o", reference, "--quiet")
    check(rc == 0, f"reference: {log}")
    double_submit(w, sweep)
    killed_holder(w, sweep, reference)
    foreign_record(w, sweep)
report("test_owner")
