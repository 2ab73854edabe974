"""iclsweep on a real Slurm (slurm/local-cluster on this machine), through slurm/submit: the demo
completes; a job stopped by scancel --signal=USR1 or TERM exits 3 and its continuation finishes the
sweep with the data of an uninterrupted run; a time limit too short for the sweep is met by the
deadline logic (the job drains before it, nothing is killed mid-task); a double submit on one file
is refused while the first run writes it; a job array of shards plus merge equals a single run.
Starts and stops its own Slurm (needs root and Debian's slurm-wlm and munge; exit 77, skipped,
without them).
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 tests/slurm/test_slurm.py"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweep"))
from common import BIN, ENV, SRC, check, report, run, same_results, states  # noqa: E402
from sweeps import LONGER, TINY  # noqa: E402

CLUSTER = os.path.join(SRC, "slurm", "local-cluster")
SUBMIT = os.path.join(SRC, "slurm", "submit")

if shutil.which("slurmctld") is None or shutil.which("munged") is None or os.geteuid() != 0:
    print("test_slurm: skipped (needs root, slurm-wlm and munge)")
    sys.exit(77)

WORK = tempfile.mkdtemp(prefix="iclsweep_slurm_")
os.chmod(WORK, 0o755)  # munged runs as the munge user and must reach the cluster's folder
SENV = dict(ENV, ICLSWEEP_SLURM_DIR=os.path.join(WORK, "cluster"),
            SLURM_CONF=os.path.join(WORK, "cluster", "slurm.conf"))
SLOW = LONGER.replace("steps: [1000, 1500]", "steps: [12000, 18000]")


def sh(*cmd, timeout=120):
    p = subprocess.run(list(cmd), env=SENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def submit(sweep, out, *opts):
    rc, log = sh(SUBMIT, sweep, "-o", out, "--bin", BIN, *opts)
    m = re.search(r"submit: job (\d+)", log)
    check(rc == 0 and m, f"submit {out}: {rc} {log}")
    return int(m.group(1)) if m else -1


def queue_empty():
    rc, out = sh("squeue", "-h", "-o", "%i")
    return rc == 0 and not out.strip()


def wait_queue_empty(limit=300):
    t0 = time.time()
    while time.time() - t0 < limit:
        if queue_empty():
            return True
        time.sleep(1)
    return False


def logs(out):
    text = ""
    for path in sorted(glob.glob(os.path.join(os.path.dirname(out), "*.log"))):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def reference(sweep, name):
    path = os.path.join(WORK, name)
    rc, log = run(3, "run", sweep, "-o", path, "--quiet", timeout=600)
    check(rc == 0, f"reference {name}: {log}")
    return path


def demo():
    out = os.path.join(WORK, "demo", "demo.h5")
    submit(os.path.join(SRC, "sweeps", "demo.yaml"), out, "--ranks", "3", "--overcommit")
    check(wait_queue_empty(), "the demo job ended")
    rc, text = run(1, "status", out)
    check(rc == 0 and "complete" in text, f"the demo completed: {rc} {text}")
    check("complete: " + out in logs(out), "the job log says complete")


def preempted(sig, slow, ref):
    out = os.path.join(WORK, f"preempt_{sig}", "slow.h5")
    job = submit(slow, out, "--ranks", "3", "--overcommit", "--links", "3")
    t0 = time.time()
    while time.time() - t0 < 120 and not (os.path.exists(out) and (states(out) == 2).sum() >= 2 if states(out) is not None else False):
        time.sleep(0.5)
    rc, text = sh("scancel", f"--signal={sig}", str(job))
    check(rc == 0, f"scancel --signal={sig}: {text}")
    check(wait_queue_empty(), f"{sig}: the chain ended")
    text = logs(out)
    check(f"stopped by SIG{sig}" in text and "stopped with work left; job" in text,
          f"{sig}: the first job exits 3 and its continuation takes over: {text[-1500:]}")
    check(text.count("complete: " + out) == 1, f"{sig}: the continuation completes the sweep")
    rc, _ = run(1, "status", out)
    check(rc == 0, f"{sig}: status complete")
    diffs = same_results(out, ref)
    check(not diffs, f"{sig}: equals an uninterrupted run: {diffs}")
    with __import__("h5py").File(out, "r") as f:
        attempts = f["tasks/attempts"][:]
    check((attempts <= 2).all(), f"{sig}: every task trained at most twice (once if not stopped): {attempts}")


def time_limit():
    """1-minute jobs (40 s of work before the 20 s margin) for 24 tasks of 6-9 s each on one free
    core (~2.5 minutes for 2 workers; about twice that under ASan, more on a busy machine): each job
    drains before its limit (the deadline logic; Slurm's own warning is off), none is killed
    mid-task, and every link makes progress. Tasks must stay well under 40 s even under a sanitizer
    on a loaded machine, or no link could finish one. The chain is cut at 2 links: the point is the
    draining, not the finish."""
    sweep = write("limit.yaml", LONGER.replace("steps: [1000, 1500]", "steps: [60000, 90000]"))
    out = os.path.join(WORK, "limit", "limit.h5")
    submit(sweep, out, "--ranks", "3", "--overcommit", "--time", "1", "--margin", "20", "--warn", "0",
           "--links", "2")
    check(wait_queue_empty(limit=400), "the time-limited chain ended")
    text = logs(out)
    drained = text.count("stopped before the deadline")
    check(drained >= 1, f"jobs drained before their limit: {text[-1500:]}")
    check("DUE TO TIME LIMIT" not in text and "CANCELLED" not in text, f"no job was killed at its limit: {text[-1500:]}")
    done = [int(m) for m in re.findall(r"(\d+) tasks finished in", text)]
    check(len(done) >= 2 and all(n >= 1 for n in done), f"every link finished tasks: {done}")
    s = states(out)
    check(s is not None and not (s == 1).any() and (s == 2).sum() == sum(done),
          f"no task was left running, and every finished one is in the file: {s}")


def double_submit(slow):
    out = os.path.join(WORK, "double", "slow.h5")
    first = submit(slow, out, "--ranks", "1", "--links", "1")
    t0 = time.time()
    while time.time() - t0 < 60 and not (states(out) is not None and (states(out) == 2).any()):
        time.sleep(0.5)
    submit(slow, out, "--ranks", "1", "--links", "1", "--name", "second")
    check(wait_queue_empty(limit=400), "both jobs ended")
    text = logs(out)
    check("being written by another run" in text and "refused (exit 2)" in text,
          f"the second job is refused while the first writes: {text[-1500:]}")
    check(f"Slurm job {first}" in text, f"the refusal names the holder's job {first}")
    rc, _ = run(1, "status", out)
    check(rc == 0, "the first job completed the file")


def shards(ref_tiny, tiny):
    out = os.path.join(WORK, "shards", "tiny.h5")
    submit(tiny, out, "--ranks", "1", "--shards", "2")
    check(wait_queue_empty(), "the array and the merge ended")
    check(len(glob.glob(os.path.join(WORK, "shards", "tiny.shard*.h5"))) == 2, "two shard files")
    rc, text = run(1, "status", out)
    check(rc == 0, f"the merged file is complete: {rc} {text}")
    diffs = same_results(out, ref_tiny)
    check(not diffs, f"array + merge equals a single run: {diffs}")


def main():
    rc, text = sh(CLUSTER, "start", timeout=120)
    if rc != 0:
        check(False, f"the local Slurm starts: {text}")
        report("test_slurm")
    try:
        slow = write("slow.yaml", SLOW)
        tiny = write("tiny.yaml", TINY)
        ref_slow = reference(slow, "ref_slow.h5")
        ref_tiny = reference(tiny, "ref_tiny.h5")
        demo()
        preempted("USR1", slow, ref_slow)
        preempted("TERM", slow, ref_slow)
        double_submit(slow)
        shards(ref_tiny, tiny)
        time_limit()
    finally:
        sh(CLUSTER, "stop", timeout=120)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(WORK, ignore_errors=True)
    report("test_slurm")


main()
