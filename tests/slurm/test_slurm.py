"""iclsweep on a real Slurm (slurm/local-cluster on this machine), through slurm/submit: the demo
completes; a job stopped by scancel (plain, --signal=USR1 or TERM) drains, exits 3 and its
continuation finishes the sweep with the data of an uninterrupted run; tasks longer than a job's
time limit finish over a chain of jobs through their checkpoints, bit for bit (their length and the
jobs' time measured on this machine, so that no task fits a job); a double submit is refused by
submit before it writes anything, and by the run when a job is sbatch-ed by hand; a job array of
shards plus merge equals a single run. With a stand-in for the program (tests of the job script
itself, fast): every shard of an array gets its deadline, the merge job the array's time and
partition, --max-running holds; a link that makes no progress ends the chain, links that go on
exit 0 (COMPLETED) and share one log; submit's refusals (a warning or margin with no room, a job
no node can hold, a name that would break the script, sbatch's own refusal) exit 2; --overcommit
asks for the workers' cores; finished jobs stay visible (squeue -t all).
Starts its own Slurm once for the module and stops it at the end (needs root and Debian's
slurm-wlm and munge; skipped without them, and ctest reports the test skipped).
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/slurm/test_slurm.py"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pytest

from common import BIN, ENV, SRC, run, run_ok, same_results, states
from sweeps import LONGER, TINY, TWO_TASKS

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


@pytest.mark.parametrize("sig", ("USR1", "TERM", "plain"))
def test_preempted(slurm, slow, ref_slow, sig):
    out = slurm.path(os.path.join(f"preempt_{sig}", "slow.h5"))
    job = slurm.submit(slow, out, "--ranks", "3", "--overcommit", "--links", "3")
    t0 = time.time()
    while time.time() - t0 < 120 and not (os.path.exists(out) and (states(out) == 2).sum() >= 2 if states(out) is not None else False):
        time.sleep(0.5)
    # A plain scancel sends SIGTERM to every process of the job (and the job script passes a
    # SIGUSR1 on): the ranks drain once, however many signals come.
    rc, text = slurm.sh("scancel", *([] if sig == "plain" else [f"--signal={sig}"]), str(job))
    assert rc == 0, f"scancel {sig}: {text}"
    assert slurm.wait_queue_empty(), f"{sig}: the chain ended"
    text = logs(out)
    heard = "TERM" if sig == "plain" else sig
    assert f"stopped by SIG{heard}" in text and "stopped with work left; job" in text, \
        f"{sig}: the first job exits 3 and its continuation takes over: {text[-1500:]}"
    assert "User defined signal" not in text and "ended with exit" not in text, f"{sig}: no rank was killed: {text[-1500:]}"
    assert text.count("complete: " + out) == 1, f"{sig}: the continuation completes the sweep"
    rc, _ = run(1, "status", out)
    assert rc == 0, f"{sig}: status complete"
    diffs = same_results(out, ref_slow)
    assert not diffs, f"{sig}: equals an uninterrupted run: {diffs}"
    with h5py.File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
    assert (attempts <= 2).all(), f"{sig}: every task trained at most twice (once if not stopped): {attempts}"


def test_double_submit(slurm, slow):
    """A second submit on a file a chain writes is refused by submit itself, before it writes
    anything (the first chain's next link runs the first script); a job sbatch-ed by hand on the
    same file is refused by the run, naming the holder."""
    out = slurm.path(os.path.join("double", "slow.h5"))
    first = slurm.submit(slow, out, "--ranks", "1", "--links", "2")
    t0 = time.time()
    while time.time() - t0 < 60 and not (states(out) is not None and (states(out) == 2).any()):
        time.sleep(0.5)
    with open(out + ".sbatch") as f:
        script = f.read()
    rc, text = slurm.sh(SUBMIT, slow, "-o", out, "--bin", BIN, "--ranks", "2", "--name", "second", "--time", "5")
    assert rc == 2 and ("being written by a run" in text or "in the queue already" in text), \
        f"submit refuses a file a chain writes: {rc} {text}"
    with open(out + ".sbatch") as f:
        assert f.read() == script, "the refused submit left the first chain's script alone"
    by_hand = out + ".copy.sbatch"
    with open(by_hand, "w") as f:
        f.write(script.replace('--job-name="iclsweep-slow"', '--job-name="by-hand"'))
    rc, text = slurm.sh("sbatch", "--export=ALL,ICLSWEEP_LINK=2", by_hand)
    assert rc == 0, f"sbatch by hand: {text}"
    assert slurm.wait_queue_empty(limit=400), "the jobs ended"
    text = logs(out)
    assert "being written by another run" in text and "refused (exit 2)" in text, \
        f"the job by hand is refused while the first writes: {text[-1500:]}"
    assert f"Slurm job {first}" in text, f"the refusal names the holder's job {first}"
    assert "second" not in text, f"no job of the refused submit ran: {text[-1500:]}"
    rc, _ = run(1, "status", out)
    assert rc == 0, "the first chain completed the file"


def test_shards(slurm, tiny, ref_tiny):
    out = slurm.path(os.path.join("shards", "tiny.h5"))
    slurm.submit(tiny, out, "--ranks", "1", "--shards", "2")
    assert slurm.wait_queue_empty(), "the array and the merge ended"
    assert len(glob.glob(slurm.path(os.path.join("shards", "tiny.shard*.h5")))) == 2, "two shard files"
    rc, text = run(1, "status", out)
    assert rc == 0, f"the merged file is complete: {rc} {text}"
    diffs = same_results(out, ref_tiny)
    assert not diffs, f"array + merge equals a single run: {diffs}"


def test_chain_longer_than_a_link(slurm):
    """Tasks longer than a job finish over a chain of 1-minute jobs through their checkpoints, bit
    for bit equal to an uninterrupted run. Nothing here depends on this machine's speed: the tasks
    are sized from a timed run to take about 30 s, then measured in the uninterrupted run, and the
    margin is set so that a job trains for a third of a task's time at most: no task fits a job.
    Checked: the chain completes, equals the reference, every task resumed from a checkpoint, no
    job was killed at its limit, the links that went on exited 0 (COMPLETED), all links wrote one
    log."""
    sized = lambda steps: TWO_TASKS.format(seed=31, checkpoint_every=0, log_every=500, steps=steps)  # noqa: E731
    probe = slurm.write("probe.yaml", sized(2000))
    t0 = time.time()
    rc, text = run(1, "train", probe, "--task", "0", "--format", "csv")
    assert rc == 0, text
    steps = max(4000, int(2000 * 30 / max(time.time() - t0, 0.01)) // 1000 * 1000)
    sweep = slurm.write("sized.yaml", sized(steps))
    ref = run_ok(3, sweep, slurm.path("ref_sized.h5"), "reference ref_sized.h5", timeout=900)
    with h5py.File(ref, "r") as f:
        task_s = float(np.min(f["tasks/wall_s"][:]))
    # The job trains from its start (a few seconds of Slurm, MPI and the file) to the deadline less
    # the margin: at most a third of a task, and never less than 10 s of the minute.
    margin = int(min(50, max(10, 60 - task_s / 3)))
    out = slurm.path(os.path.join("chain", "sized.h5"))
    links = 12
    slurm.submit(sweep, out, "--ranks", "3", "--overcommit", "--time", "1", "--margin", str(margin),
                 "--warn", "0", "--links", str(links))
    assert slurm.wait_queue_empty(limit=60 * links + 120), "the chain ended"
    text = logs(out)
    assert len(glob.glob(os.path.join(os.path.dirname(out), "*.log"))) == 1, "one log for the chain"
    assert "DUE TO TIME LIMIT" not in text and "CANCELLED" not in text, f"no job was killed: {text[-1500:]}"
    assert text.count("complete: " + out) == 1, f"the chain completes: {text[-2000:]}"
    n_links = len(set(re.findall(r"link (\d+) of at most", text)))
    assert n_links >= 2, f"tasks of {task_s:.1f} s with a margin of {margin} s finished in one job"
    diffs = same_results(out, ref)
    assert not diffs, f"the chain's file differs from the uninterrupted one in {diffs}"
    with h5py.File(out, "r") as f:
        assert (f["tasks/resumes"][:] >= 1).all(), f"every task resumed: {f['tasks/resumes'][:]}"
    rc, states_text = slurm.sh("squeue", "-t", "all", "-h", "-n", "iclsweep-sized", "-o", "%T")
    assert rc == 0 and states_text.split().count("COMPLETED") == n_links, \
        f"every link finished COMPLETED (exit 0 when a continuation takes over): {states_text}"


# ---- the job script and submit, with a stand-in for the program ----

STUB = """#!/bin/bash
# A stand-in for iclsweep: plan, status --json and run as the job script and submit use them.
d=$STUB_DIR
case $1 in
  plan) echo "memory: about 10 MB per task at most (grid point 0)" ;;
  status) [ -f "$d/count" ] || exit 2
          echo "{\\"owner\\": null, \\"finished\\": 0, \\"checkpointed\\": 1, \\"checkpoint_steps\\": $(cat "$d/count")}"
          exit 3 ;;
  run) echo "stub run: $*"
       n=$(cat "$d/count" 2>/dev/null || echo 0)
       [ "${STUB_PROGRESS:-1}" = 1 ] && n=$((n + 1))
       echo "$n" > "$d/count"
       sleep "${STUB_SLEEP:-0}"
       exit "${STUB_RC:-3}" ;;
  merge) echo "stub merge: $*" ;;
esac
"""


@pytest.fixture
def stub(slurm, request):
    """A stand-in program in a folder of the test's own; returns (its path, the folder)."""
    d = slurm.path(os.path.join("stub", request.node.name.replace("[", "_").replace("]", "")))
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "iclsweep")
    with open(path, "w") as f:
        f.write(STUB)
    os.chmod(path, 0o755)
    return path, d


def stub_submit(slurm, stub, out, *opts, env=None):
    path, d = stub
    e = dict(slurm.env, STUB_DIR=d, **(env or {}))
    p = subprocess.run([SUBMIT, slurm.path("tiny.yaml"), "-o", out, "--bin", path, *opts], env=e,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    return p.returncode, p.stdout


def job_states(slurm, name):
    """(state, start, end) of every job named name, finished ones too (squeue -t all)."""
    rc, text = slurm.sh("squeue", "-t", "all", "-h", "-n", name, "-o", "%T %S %e %l %P")
    assert rc == 0, text
    return [line.split() for line in text.splitlines() if line.strip()]


def test_array_deadlines(slurm, tiny, stub):
    """Every shard of an array gets the job's end as its deadline (the element whose id is the
    array's own too), at most --max-running of them run at once, the shard logs speak of shards,
    and the merge job runs with the array's time limit and partition."""
    out = slurm.path(os.path.join("array", "a.h5"))
    rc, text = stub_submit(slurm, stub, out, "--shards", "4", "--max-running", "2", "--time", "7",
                           "--partition", "local", "--name", "arr", env={"STUB_SLEEP": "3", "STUB_RC": "0"})
    assert rc == 0 and "shard1..4" in text and "shardK.h5 (K = 1..4)" in text, text
    assert slurm.wait_queue_empty(), "the array and its merge ended"
    for k in range(1, 5):
        with open(slurm.path(os.path.join("array", f"arr.shard{k}.log"))) as f:
            log = f.read()
        assert re.search(r"stub run: run \S+ -o \S+shard%d\.h5 --resume .*--shard %d/4 --deadline @\d+" % (k, k), log), \
            f"shard {k} runs with its deadline: {log}"
        assert "link" not in log, f"shard logs speak of shards, not links: {log}"
    jobs = job_states(slurm, "arr")
    epoch = lambda text: time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))  # noqa: E731
    spans = [(epoch(j[1]), epoch(j[2])) for j in jobs]
    most = max(sum(1 for a, b in spans if a <= start < b) for start, _ in spans)
    assert len(jobs) == 4 and most <= 2, f"4 shards, at most 2 at once: {jobs}"
    merge = job_states(slurm, "arr-merge")
    assert merge and merge[0][3] == "7:00" and merge[0][4] == "local", f"the merge job's limit and partition: {merge}"
    with open(slurm.path(os.path.join("array", "arr.merge.log"))) as f:
        assert "stub merge: merge" in f.read()


def test_no_progress_ends_the_chain(slurm, tiny, stub):
    out = slurm.path(os.path.join("stuck", "s.h5"))
    rc, text = stub_submit(slurm, stub, out, "--links", "5", "--name", "stuck", env={"STUB_PROGRESS": "0"})
    assert rc == 0, text
    assert slurm.wait_queue_empty(), "the chain ended"
    with open(slurm.path(os.path.join("stuck", "stuck.log"))) as f:
        log = f.read()
    assert "made no progress" in log and "the chain ends here" in log, log
    assert "link 2 of" not in log, f"no second link ran: {log}"
    assert [j[0] for j in job_states(slurm, "stuck")].count("FAILED") == 1, job_states(slurm, "stuck")


def test_links_go_on(slurm, tiny, stub):
    """Links that stop with work left, made progress and have a continuation exit 0 (COMPLETED: no
    mail per link); the last one exits 3 (FAILED: work is left); all write one log."""
    out = slurm.path(os.path.join("links", "l.h5"))
    rc, text = stub_submit(slurm, stub, out, "--links", "3", "--name", "links")
    assert rc == 0, text
    assert slurm.wait_queue_empty(), "the chain ended"
    assert sorted(j[0] for j in job_states(slurm, "links")) == ["COMPLETED", "COMPLETED", "FAILED"], \
        job_states(slurm, "links")
    assert os.listdir(os.path.dirname(out)).count("links.log") == 1
    with open(slurm.path(os.path.join("links", "links.log"))) as f:
        log = f.read()
    assert all(f"link {k} of at most 3" in log for k in (1, 2, 3)) and "no links left (3)" in log, log


def test_submit_refusals(slurm, tiny, stub):
    out = slurm.path(os.path.join("refused", "r.h5"))
    cases = [
        (["--time", "1", "--warn", "55"], "leaves no time"),
        (["--time", "2", "--margin", "115"], "leaves no time"),
        (["--ranks", "64"], "pass --overcommit"),
        (["--name", "two\nlines"], "one line"),
        (["--partition", "nosuch"], "Invalid partition"),
        (["--time", "soon"], "--time expects"),
        (["--max-running", "2"], "goes with --shards"),
    ]
    for opts, why in cases:
        rc, text = stub_submit(slurm, stub, out, *opts)
        assert rc == 2 and why in text, f"{opts}: {rc} {text}"
        assert not os.path.exists(out + ".sbatch"), f"{opts}: nothing written"
    assert slurm.queue() == [], "nothing queued"


def test_submit_names_and_cores(slurm, tiny, stub):
    """A name with a space works; --overcommit asks for a core per worker (rank 0 shares one)."""
    out = slurm.path(os.path.join("named", "n.h5"))
    rc, text = stub_submit(slurm, stub, out, "--name", "my sweep", "--ranks", "3", "--overcommit", "--links", "1",
                           env={"STUB_SLEEP": "3", "STUB_RC": "0"})
    job = re.search(r"submit: job (\d+)", text)
    assert rc == 0 and job, text
    assert slurm.wait_queue_empty()
    rc, info = slurm.sh("scontrol", "show", "job", job.group(1))  # as it ran
    assert "JobName=my sweep" in info and "NumCPUs=2" in info and "NumTasks=3" in info, info
    assert os.path.exists(slurm.path(os.path.join("named", "my_sweep.log")))
    assert job_states(slurm, "my sweep")[0][0] == "COMPLETED", "finished jobs stay visible (squeue -t all)"



def test_adapt_through_a_chain(slurm):
    """iclsweep-analyze adapt --slurm: each round is submitted through slurm/submit and waited for;
    the rounds keep the first round's tasks (one attempt each), the file is complete after them,
    and the jobs' log shows a job per round."""
    with open(os.path.join(SRC, "tests", "analysis", "adapt_peak.yaml")) as f:
        sweep = slurm.write("adapt.yaml", f.read())
    out = slurm.path(os.path.join("adapt", "adapt.h5"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = dict(slurm.env, PYTHONPATH=os.path.join(SRC, "analysis"))
    p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "adapt", sweep, "-o", out, "--along", "alpha",
                        "--metric", "test_mse", "--peak", "--tol", "0.03", "--budget", "200", "--rounds", "1",
                        "--iclsweep", BIN, "--slurm", "--ranks 3 --overcommit --time 5"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode in (0, 3) and "Traceback" not in p.stderr, p.stdout + p.stderr
    assert p.stdout.count("adapt: waiting for job") == 2, f"two rounds, each a chain: {p.stdout}"
    assert "round 1:" in p.stdout, p.stdout
    rc, text = slurm.sh(BIN, "status", out)
    assert rc == 0, f"the file is complete after the rounds: {text}"
    with h5py.File(out, "r") as f:
        assert len(f["task"]) > 24 and (f["tasks/attempts"][()] == 1).all(), "every task trained once"
    assert logs(out).count("complete:") >= 2, "a job per round"
