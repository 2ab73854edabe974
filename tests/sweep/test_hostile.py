"""Hostile inputs to `status` and `run`: crafted result files (tests/sweep/hostile.py), outputs that
are not result files, and a disk that fills while the file is created. Each must be refused with a
clear message and exit 2 (a full disk: exit 1 naming the write; a task of terabytes: exit 2 by the
memory estimate), never crash, hang, print raw
terminal escapes, or touch the user's files. Under the sanitizer build the same runs are checked
by ASan and UBSan (their reports exit with another code).
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_hostile.py"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time

import h5py
import numpy as np
import pytest

import hostile
from common import BIN, ENV, command, run, same_results
from sweeps import TINY

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
CASES = list(hostile.CASES) + ["truncated"]  # the kinds of file hostile.build makes


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_limited(np_, *args, timeout=60, env=None):
    """Runs with a time limit; a hang is reported as rc None."""
    try:
        p = subprocess.run(command(np_, *args), env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout, errors="replace")
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        subprocess.run(["pkill", "-9", "-f", args[-1] if args else BIN])
        return None, str(e.stdout)


@pytest.fixture(scope="module")
def tiny(shared):
    return shared.file("tiny.yaml", TINY)


@pytest.fixture(scope="module")
def corpus(shared, tiny):
    """One crafted copy of a valid result file per case: {case: (path, the commands it breaks)}."""
    valid = shared.file("valid.h5")
    rc, log = run(1, "run", tiny, "-o", valid, "--quiet")
    assert rc == 0, f"the valid file: {rc} {log}"
    cases = hostile.build(valid, os.path.join(shared.path, "corpus"))
    assert sorted(cases) == sorted(CASES), f"the corpus has one file per case: {sorted(cases)}"
    return cases


@pytest.mark.parametrize("case", CASES)
def test_crafted_file(corpus, tiny, case):
    path, who = corpus[case]
    before = digest(path)
    rc, out = run_limited(1, "status", path)
    want = 2 if who in ("status", "both") else 4 if case == "error_escape" else 0
    assert rc == want, f"{case}: status exits {rc}, want {want}: {out[-300:]}"
    assert want == 0 or path in out, f"{case}: status names the file: {out[-300:]}"
    assert "\x1b" not in out and "\x07" not in out, f"{case}: status prints no raw terminal escapes: {out!r}"
    if who in ("resume", "both"):
        rc, out = run_limited(1, "run", tiny, "-o", path, "--resume", "--quiet")
        assert rc == 2 and "error:" in out, f"{case}: run --resume exits {rc}, want 2: {out[-400:]}"
        assert "\x1b" not in out, f"{case}: resume prints no raw terminal escapes: {out!r}"
    assert digest(path) == before, f"{case}: a refused file is left untouched"


# Files found by the result-file fuzzer on which HDF5 1.10 itself crashes (a global-heap reference
# out of bounds in a variable-length attribute) or loops forever: read in a child process first
# (with a time limit, cut to 3 s here), they are refused.
@pytest.mark.parametrize("data", ("hdf5_crash_global_heap.h5", "hdf5_loop_global_heap.h5"))
@pytest.mark.parametrize("what, np_", (("status", 1), ("run", 1), ("run", 3), ("merge", 1), ("plan", 1)))
def test_file_that_crashes_hdf5(work, tiny, data, what, np_):
    crash = work.file("crash.h5")
    shutil.copyfile(os.path.join(DATA, data), crash)
    args = {"status": ("status", crash), "run": ("run", tiny, "-o", crash, "--resume", "--quiet"),
            "merge": ("merge", crash, "-o", work.file("m.h5")), "plan": ("plan", tiny, "--from", crash)}[what]
    rc, out = run_limited(np_, *args, env=dict(ENV, ICLSWEEP_READ_TIMEOUT="3"))
    # HDF5's read out of bounds crashes or not with the memory around it: refused either way
    assert rc == 2 and "crash.h5" in out and "Process received signal" not in out, \
        f"{data}: {args[0]} np {np_}: {rc} {out[-400:]}"


# With several ranks a refusal by rank 0 must reach the workers: exit 2, no hang.
@pytest.mark.parametrize("case", ("status_u8", "status_f8", "status_string", "status_2d", "status_other_enum",
                                  "status_extra_member", "status_value_7", "traj_int8", "format_array"))
def test_refusal_reaches_the_workers(corpus, tiny, case):
    path = corpus[case][0]
    rc, out = run_limited(3, "run", tiny, "-o", path, "--resume", "--quiet")
    assert rc == 2, f"{case}: 3-rank resume exits {rc} (None: hung), want 2: {out[-400:]}"


# -o must be a regular file or a new path, and never the sweep file itself.
@pytest.mark.parametrize("spelling", ("plain", "dot", "symlink", "hard link", "dot-dot"))
def test_output_is_the_sweep_file(work, spelling):
    text = TINY
    sweep = work.file("s.yaml", text)
    os.symlink(sweep, work.file("link.yaml"))
    os.link(sweep, work.file("hard.yaml"))
    os.makedirs(work.file("sub"))
    spelling = {"plain": sweep, "dot": os.path.join(work.path, ".", "s.yaml"), "symlink": work.file("link.yaml"),
                "hard link": work.file("hard.yaml"), "dot-dot": work.file("sub") + "/../s.yaml"}[spelling]
    rc, out = run_limited(1, "run", sweep, "-o", spelling, "--force", "--quiet")
    assert rc == 2 and "sweep file itself" in out, f"-o {spelling} --force: {rc} {out[-300:]}"
    with open(sweep) as f:
        assert f.read() == text, f"-o {spelling}: the sweep file is intact"


@pytest.fixture
def not_regular(work):
    """{kind: a path that is not a regular file} (a unix socket bound for the test's time)."""
    fifo = work.file("fifo")
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(work.file("sock"))
    os.makedirs(work.file("sub"))
    yield {"device": "/dev/null", "FIFO": fifo, "socket": work.file("sock"), "folder": work.file("sub")}
    sock.close()


@pytest.mark.parametrize("kind", ("device", "FIFO", "socket", "folder"))
def test_output_not_a_regular_file(work, not_regular, kind):
    sweep = work.file("s.yaml", TINY)
    target = not_regular[kind]
    for np_ in (1, 2):
        rc, out = run_limited(np_, "run", sweep, "-o", target, "--force", "--quiet")
        assert rc == 2 and f"not a regular file (a {kind})" in out, f"-o {target} np {np_}: {rc} {out[-300:]}"
    rc, out = run_limited(1, "status", target)
    assert rc == 2 and "not a regular file" in out, f"status {target}: {rc} {out[-300:]}"


# A full disk: refused before anything is written when the disk is too small (exit 2, saying how
# much is needed); a write that fails during creation anyway (here: injected) names the write,
# exits 1 and leaves no half-made file; a write failing mid-run leaves complete done rows; and a
# creation killed midway leaves a file that status calls unfinished.
@pytest.fixture(scope="module")
def big(shared):
    return shared.file("big.yaml", TINY.replace("replicates: 2", "replicates: 500"))


@pytest.mark.parametrize("np_", (1, 2))
def test_disk_too_small(work, big, np_):
    mnt = work.file("small")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                      stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = os.path.join(mnt, "big.h5")
        rc, log = run_limited(np_, "run", big, "-o", out, "--force", "--quiet")
        assert rc == 2 and "MB free" in log, f"a full disk np {np_} is refused: {rc} {log[-400:]}"
        assert not os.path.exists(out), "nothing written on the full disk"
    finally:
        subprocess.run(["umount", mnt])


@pytest.mark.parametrize("np_", (1, 2))
def test_write_fails_during_creation(work, big, np_):
    """A write that fails during creation anyway (a full disk, here injected at the 5th write)."""
    out = work.file("failed.h5")
    p = subprocess.run(command(np_, "run", big, "-o", out, "--force", "--quiet"),
                       env=dict(ENV, ICLSWEEP_FAIL_WRITE="5"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    # HDF5's reason
    assert p.returncode == 1 and "rows" in p.stdout and "Inappropriate type" in p.stdout, \
        f"a failed write np {np_}: exit {p.returncode}: {p.stdout[-400:]}"
    assert not os.path.exists(out), f"np {np_}: the half-made file is removed"


@pytest.fixture(scope="module")
def reference(shared, tiny):
    """An uninterrupted run of TINY."""
    path = shared.file("reference.h5")
    run(1, "run", tiny, "-o", path, "--quiet")
    return path


@pytest.mark.parametrize("np_, k", ((1, "300"), (1, "333"), (3, "260")))
def test_write_fails_mid_run(work, tiny, reference, np_, k):
    """A write that fails while tasks run (the disk filled under another program): the run stops
    naming the write, every row marked done is complete, and a resume finishes the sweep."""
    out = work.file(f"midrun_{np_}_{k}.h5")
    p = subprocess.run(command(np_, "run", tiny, "-o", out, "--quiet"), env=dict(ENV, ICLSWEEP_FAIL_WRITE=k),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert p.returncode == 1 and "row" in p.stdout and "Inappropriate type" in p.stdout, \
        f"a write failing mid-run (np {np_}, write {k}): exit {p.returncode}: {p.stdout[-400:]}"
    with h5py.File(out, "r") as f:
        status, loss, final = f["tasks/status"][:], f["traj/train_loss"][()], f["final/test_err"][:]
    done = status == 2
    assert done.any() and (~done).any(), f"np {np_}, write {k}: stopped midway: {status}"
    assert np.isfinite(final[done]).all() and np.isfinite(loss[done][:, 0]).all(), \
        f"np {np_}, write {k}: every row marked done has its data"
    rc, log = run(np_, "run", tiny, "-o", out, "--resume", "--quiet")
    assert rc == 0 and not same_results(out, reference), f"np {np_}, write {k}: the resume finishes it: {rc} {log}"


def test_creation_killed_midway(work):
    many = work.file("many.yaml", "model: linattn\nseed: 1\nreplicates: 400000\n"
                     "fixed: {D: 1, N: 1, P: 1, P_test: 1, steps: 0, log_every: 1, theory: false}\n")
    out = work.file("killed.h5")
    p = subprocess.Popen(command(1, "run", many, "-o", out, "--quiet"), env=ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 30 and not (os.path.exists(out) and os.path.getsize(out) > 4096):
        time.sleep(0.01)
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    rc, log = run_limited(1, "status", out)
    # work remains: a resume creates it again (tests/sweep/test_integrity.py)
    assert rc == 3 and "creation never finished" in log, f"status of a creation killed midway: {rc} {log[-300:]}"


@pytest.mark.parametrize("np_", (1, 2))
def test_task_of_terabytes(work, np_):
    """A task of terabytes is refused by the model's memory estimate before any file exists."""
    sweep = work.file("huge.yaml", "model: concept\nseed: 1\ngrid:\n  n_train: [1000, 100000000]\n")
    out = work.file("huge.h5")
    rc, log = run_limited(np_, "run", sweep, "-o", out, "--quiet")
    assert rc == 2 and "max_task_memory" in log and "n_train=100000000" in log, \
        f"a task of terabytes, np {np_}: {rc} {log[-400:]}"
    assert not os.path.exists(out), f"np {np_}: no result file for a refused sweep"
