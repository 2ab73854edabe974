"""Shared helpers for the sweep tests (MPI runs of the iclsweep program, read back with h5py).

The tests are pytest files run by ctest with /usr/bin/python3 -m pytest (Debian's pytest, h5py and
numpy); the program comes from $ICLSWEEP_BIN. conftest.py holds the fixtures (work folders).
"""
import os
import subprocess
import time

import h5py
import numpy as np

BIN = os.environ.get("ICLSWEEP_BIN", "build/iclsweep")
SRC = os.environ.get("ICLSWEEP_SRC", ".")
# ICLSWEEP_READ_TIMEOUT: the tests' result files are small, so reading one in a child never takes
# 30 s, even under a sanitizer or valgrind; a child that stalls (see src/core/isolate.c) is retried
# after 30 s instead of the program's 120 s, within the tests' own time limits.
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
           ICLSWEEP_READ_TIMEOUT=os.environ.get("ICLSWEEP_READ_TIMEOUT", "30"))

class Folder:
    """A test's work folder (a pytest tmp_path, kept by pytest after the run for a look)."""

    def __init__(self, path):
        self.path = str(path)

    def file(self, name, text=None):
        """The path of `name` in the folder; with text, the file is written first."""
        p = os.path.join(self.path, name)
        if text is not None:
            with open(p, "w") as f:
                f.write(text)
        return p


def command(np_, *args):
    """The command line of `iclsweep ARGS` on np_ ranks (np_ == 1: no launcher at all)."""
    if np_ == 1:
        return [BIN, *args]
    return ["mpirun", "-np", str(np_), "--oversubscribe", BIN, *args]


def run(np_, *args, timeout=300):
    """Runs to the end; returns (exit code, output)."""
    p = subprocess.run(command(np_, *args), env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def run_ok(np_, sweep, out, label, timeout=300):
    """Runs sweep into out on np_ ranks to the end; returns out, or fails the test with
    "label: output" unless the run exits 0."""
    rc, log = run(np_, "run", sweep, "-o", out, "--quiet", timeout=timeout)
    assert rc == 0, f"{label}: {log}"
    return out


def start(np_, *args):
    """Starts in its own process group (so a test can signal or kill the whole job)."""
    return subprocess.Popen(command(np_, *args), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def states(path):
    """/tasks/status as an array of ints, or None while the file cannot be read."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return f["tasks/status"][:].astype(int)
    except Exception:
        return None


def wait_for_done(path, n, proc, limit=120, state=2):
    """Waits until at least n tasks are in state (/tasks/status: 2 done, 1 running) or proc ends."""
    t0 = time.time()
    while time.time() - t0 < limit and proc.poll() is None:
        s = states(path)
        if s is not None and (s == state).sum() >= n:
            return True
        time.sleep(0.02 if state == 1 else 0.05)
    return False


def rank_pids(out):
    """The iclsweep processes writing out (the ranks, not mpirun), oldest first."""
    p = subprocess.run(["pgrep", "-f", f"^{BIN} run .* -o {out}"], stdout=subprocess.PIPE, text=True)
    return sorted(int(x) for x in p.stdout.split())


def wait_gone(pattern, limit=30):
    """Waits until no process has `pattern` in its command line (orphaned ranks included)."""
    t0 = time.time()
    while time.time() - t0 < limit:
        if subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.DEVNULL).returncode != 0:
            return True
        time.sleep(0.1)
    subprocess.run(["pkill", "-9", "-f", pattern])
    return False


def bits(a):
    """A float array as its bytes, so NaN == NaN and -0 != 0: bit-identical comparison."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint8) if a.dtype.kind == "f" else a


def same_results(a, b):
    """Names of /traj, /final and /tasks datasets whose contents differ bit for bit between files
    a and b (per-run bookkeeping such as wall_s, cpu_s, rank, attempts and checkpoints excluded)."""
    skip = {"tasks/wall_s", "tasks/rank", "tasks/attempts", "tasks/origin", "tasks/cpu_s", "tasks/peak_rss",
            "tasks/resumes", "tasks/ckpt_step"}
    diffs = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for group in ("traj", "final", "tasks"):
            names = sorted(set(fa[group]) | set(fb[group]))
            for name in names:
                key = f"{group}/{name}"
                if key in skip:
                    continue
                if name not in fa[group] or name not in fb[group]:
                    diffs.append(key + " (missing)")
                elif not np.array_equal(bits(fa[key][()]), bits(fb[key][()])):
                    diffs.append(key)
    return diffs
