"""iclsweep on a real Slurm (slurm/local-cluster on this machine), through slurm/submit: the demo
completes; a job stopped by scancel --signal=USR1 or TERM exits 3 and its continuation finishes the
sweep with the data of an uninterrupted run; a time limit too short for the sweep is met by the
deadline logic (the job drains before it, nothing is killed mid-task); a double submit on one file
is refused while the first run writes it; a job array of shards plus merge equals a single run.
Starts its own Slurm once for the module and stops it at the end (needs root and Debian's
slurm-wlm and munge; skipped without them, and ctest reports the test skipped).
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/slurm/test_slurm.py"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import h5py
import pytest

from common import BIN, ENV, SRC, run, run_ok, same_results, states
from sweeps import LONGER, TINY

CLUSTER = os.path.join(SRC, "slurm", "local-cluster")
SUBMIT = os.path.join(SRC, "slurm", "submit")

if shutil.which("slurmctld") is None or shutil.which("munged") is None or os.geteuid() != 0:
    pytest.skip("needs root, slurm-wlm and munge", allow_module_level=True)

SLOW = LONGER.replace("steps: [1000, 1500]", "steps: [12000, 18000]")


class Slurm:
    """The single-node Slurm of this module: its folder (the cluster's files in cluster/, the
    tests' sweeps and results beside them) and the environment that points commands at it."""

    def __init__(self, work):
        self.work = work
        self.env = dict(ENV, ICLSWEEP_SLURM_DIR=os.path.join(work, "cluster"),
                        SLURM_CONF=os.path.join(work, "cluster", "slurm.conf"))

    def sh(self, *cmd, timeout=120):
        p = subprocess.run(list(cmd), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def submit(self, sweep, out, *opts):
        rc, log = self.sh(SUBMIT, sweep, "-o", out, "--bin", BIN, *opts)
        m = re.search(r"submit: job (\d+)", log)
        assert rc == 0 and m, f"submit {out}: {rc} {log}"
        return int(m.group(1))

    def queue(self):
        """The job ids in the queue, or None when squeue fails."""
        rc, out = self.sh("squeue", "-h", "-o", "%i")
        return out.split() if rc == 0 else None

    def wait_queue_empty(self, limit=300):
        t0 = time.time()
        while time.time() - t0 < limit:
            if self.queue() == []:
                return True
            time.sleep(1)
        return False


@pytest.fixture(scope="module")
def slurm():
    """Slurm started once for the module and stopped at its end. Its folder is not pytest's
    tmp_path, which only root may enter: munged runs as the munge user and must reach it."""
    work = tempfile.mkdtemp(prefix="iclsweep_slurm_")
    os.chmod(work, 0o755)
    s = Slurm(work)
    try:
        rc, text = s.sh(CLUSTER, "start", timeout=120)
        assert rc == 0, f"the local Slurm starts: {text}"
        yield s
    finally:
        s.sh(CLUSTER, "stop", timeout=120)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(autouse=True)
def empty_queue(slurm):
    """Each test starts with an empty queue: jobs a failed test left behind are cancelled."""
    yield
    left = slurm.queue()
    if left:
        slurm.sh("scancel", *left)
        slurm.wait_queue_empty(limit=60)


def logs(out):
    text = ""
    for path in sorted(glob.glob(os.path.join(os.path.dirname(out), "*.log"))):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


@pytest.fixture(scope="module")
def slow(slurm):
    return slurm.write("slow.yaml", SLOW)


@pytest.fixture(scope="module")
def tiny(slurm):
    return slurm.write("tiny.yaml", TINY)


@pytest.fixture(scope="module")
def ref_slow(slurm, slow):
    return run_ok(3, slow, slurm.path("ref_slow.h5"), "reference ref_slow.h5", timeout=600)


@pytest.fixture(scope="module")
def ref_tiny(slurm, tiny):
    return run_ok(3, tiny, slurm.path("ref_tiny.h5"), "reference ref_tiny.h5", timeout=600)


def test_demo(slurm):
    out = slurm.path(os.path.join("demo", "demo.h5"))
    slurm.submit(os.path.join(SRC, "sweeps", "demo.yaml"), out, "--ranks", "3", "--overcommit")
    assert slurm.wait_queue_empty(), "the demo job ended"
    rc, text = run(1, "status", out)
    assert rc == 0 and "complete" in text, f"the demo completed: {rc} {text}"
    assert "complete: " + out in logs(out), "the job log says complete"


@pytest.mark.parametrize("sig", ("USR1", "TERM"))
def test_preempted(slurm, slow, ref_slow, sig):
    out = slurm.path(os.path.join(f"preempt_{sig}", "slow.h5"))
    job = slurm.submit(slow, out, "--ranks", "3", "--overcommit", "--links", "3")
    t0 = time.time()
    while time.time() - t0 < 120 and not (os.path.exists(out) and (states(out) == 2).sum() >= 2 if states(out) is not None else False):
        time.sleep(0.5)
    rc, text = slurm.sh("scancel", f"--signal={sig}", str(job))
    assert rc == 0, f"scancel --signal={sig}: {text}"
    assert slurm.wait_queue_empty(), f"{sig}: the chain ended"
    text = logs(out)
    assert f"stopped by SIG{sig}" in text and "stopped with work left; job" in text, \
        f"{sig}: the first job exits 3 and its continuation takes over: {text[-1500:]}"
    assert text.count("complete: " + out) == 1, f"{sig}: the continuation completes the sweep"
    rc, _ = run(1, "status", out)
    assert rc == 0, f"{sig}: status complete"
    diffs = same_results(out, ref_slow)
    assert not diffs, f"{sig}: equals an uninterrupted run: {diffs}"
    with h5py.File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
    assert (attempts <= 2).all(), f"{sig}: every task trained at most twice (once if not stopped): {attempts}"


def test_double_submit(slurm, slow):
    out = slurm.path(os.path.join("double", "slow.h5"))
    first = slurm.submit(slow, out, "--ranks", "1", "--links", "1")
    t0 = time.time()
    while time.time() - t0 < 60 and not (states(out) is not None and (states(out) == 2).any()):
        time.sleep(0.5)
    slurm.submit(slow, out, "--ranks", "1", "--links", "1", "--name", "second")
    assert slurm.wait_queue_empty(limit=400), "both jobs ended"
    text = logs(out)
    assert "being written by another run" in text and "refused (exit 2)" in text, \
        f"the second job is refused while the first writes: {text[-1500:]}"
    assert f"Slurm job {first}" in text, f"the refusal names the holder's job {first}"
    rc, _ = run(1, "status", out)
    assert rc == 0, "the first job completed the file"


def test_shards(slurm, tiny, ref_tiny):
    out = slurm.path(os.path.join("shards", "tiny.h5"))
    slurm.submit(tiny, out, "--ranks", "1", "--shards", "2")
    assert slurm.wait_queue_empty(), "the array and the merge ended"
    assert len(glob.glob(slurm.path(os.path.join("shards", "tiny.shard*.h5")))) == 2, "two shard files"
    rc, text = run(1, "status", out)
    assert rc == 0, f"the merged file is complete: {rc} {text}"
    diffs = same_results(out, ref_tiny)
    assert not diffs, f"array + merge equals a single run: {diffs}"


def test_time_limit(slurm):
    """1-minute jobs (40 s of work before the 20 s margin) for 24 tasks of 6-9 s each on one free
    core (~2.5 minutes for 2 workers; about twice that under ASan, more on a busy machine): each job
    drains before its limit (the deadline logic; Slurm's own warning is off), none is killed
    mid-task, and every link makes progress. Tasks must stay well under 40 s even under a sanitizer
    on a loaded machine, or no link could finish one. The chain is cut at 2 links: the point is the
    draining, not the finish."""
    sweep = slurm.write("limit.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [60000, 90000]"))
    out = slurm.path(os.path.join("limit", "limit.h5"))
    slurm.submit(sweep, out, "--ranks", "3", "--overcommit", "--time", "1", "--margin", "20", "--warn", "0",
                 "--links", "2")
    assert slurm.wait_queue_empty(limit=400), "the time-limited chain ended"
    text = logs(out)
    drained = text.count("stopped before the deadline")
    assert drained >= 1, f"jobs drained before their limit: {text[-1500:]}"
    assert "DUE TO TIME LIMIT" not in text and "CANCELLED" not in text, f"no job was killed at its limit: {text[-1500:]}"
    done = [int(m) for m in re.findall(r"(\d+) tasks finished in", text)]
    assert len(done) >= 2 and all(n >= 1 for n in done), f"every link finished tasks: {done}"
    s = states(out)
    assert s is not None and not (s == 1).any() and (s == 2).sum() == sum(done), \
        f"no task was left running, and every finished one is in the file: {s}"
