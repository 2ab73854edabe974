"""Hostile inputs to `status` and `run`: crafted result files (tests/sweep/hostile.py), outputs that
are not result files, and a disk that fills while the file is created. Each must be refused with a
clear message and exit 2 (a full disk: exit 1 naming the write; a task of terabytes: exit 2 by the
memory estimate), never crash, hang, print raw
terminal escapes, or touch the user's files. Under the sanitizer build the same runs are checked
by ASan and UBSan (their reports exit with another code).
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_hostile.py"""
import hashlib
import os
import signal
import socket
import subprocess
import time

import h5py
import numpy as np

import hostile
from common import BIN, ENV, Workdir, check, command, report, run, same_results
from sweeps import TINY


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


def crafted_files(w):
    sweep = w.file("tiny.yaml", TINY)
    valid = w.file("valid.h5")
    rc, log = run(1, "run", sweep, "-o", valid, "--quiet")
    check(rc == 0, f"the valid file: {rc} {log}")
    cases = hostile.build(valid, os.path.join(w.path, "corpus"))
    for case, (path, who) in cases.items():
        before = digest(path)
        rc, out = run_limited(1, "status", path)
        want = 2 if who in ("status", "both") else 4 if case == "error_escape" else 0
        check(rc == want, f"{case}: status exits {rc}, want {want}: {out[-300:]}")
        check(want == 0 or path in out, f"{case}: status names the file: {out[-300:]}")
        check("\x1b" not in out and "\x07" not in out, f"{case}: status prints no raw terminal escapes: {out!r}")
        if who in ("resume", "both"):
            rc, out = run_limited(1, "run", sweep, "-o", path, "--resume", "--quiet")
            check(rc == 2 and "error:" in out, f"{case}: run --resume exits {rc}, want 2: {out[-400:]}")
            check("\x1b" not in out, f"{case}: resume prints no raw terminal escapes: {out!r}")
        check(digest(path) == before, f"{case}: a refused file is left untouched")
    # Files found by the result-file fuzzer on which HDF5 1.10 itself crashes (a global-heap
    # reference out of bounds in a variable-length attribute) or loops forever: read in a child
    # process first (with a time limit, cut to 3 s here), they are refused.
    for data in ("hdf5_crash_global_heap.h5", "hdf5_loop_global_heap.h5"):
        crash = os.path.join(w.path, "crash.h5")
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", data), "rb") as src, \
                open(crash, "wb") as dst:
            dst.write(src.read())
        for args in (("status", crash), ("run", sweep, "-o", crash, "--resume", "--quiet"),
                     ("merge", crash, "-o", os.path.join(w.path, "m.h5")), ("plan", sweep, "--from", crash)):
            for np_ in ((1, 3) if args[0] == "run" else (1,)):
                rc, out = run_limited(np_, *args, env=dict(ENV, ICLSWEEP_READ_TIMEOUT="3"))
                # HDF5's read out of bounds crashes or not with the memory around it: refused either way
                check(rc == 2 and "crash.h5" in out and "Process received signal" not in out,
                      f"{data}: {args[0]} np {np_}: {rc} {out[-400:]}")
    # With several ranks a refusal by rank 0 must reach the workers: exit 2, no hang.
    for case in ("status_u8", "status_f8", "status_string", "status_2d", "status_other_enum",
                 "status_extra_member", "status_value_7", "traj_int8", "format_array"):
        path = cases[case][0]
        rc, out = run_limited(3, "run", sweep, "-o", path, "--resume", "--quiet")
        check(rc == 2, f"{case}: 3-rank resume exits {rc} (None: hung), want 2: {out[-400:]}")


def outputs(w):
    """-o must be a regular file or a new path, and never the sweep file itself."""
    text = TINY
    sweep = w.file("s.yaml", text)
    os.symlink(sweep, w.file("link.yaml"))
    os.link(sweep, w.file("hard.yaml"))
    os.makedirs(w.file("sub"))
    for spelling in (sweep, os.path.join(w.path, ".", "s.yaml"), w.file("link.yaml"), w.file("hard.yaml"), w.file("sub") + "/../s.yaml"):
        rc, out = run_limited(1, "run", sweep, "-o", spelling, "--force", "--quiet")
        check(rc == 2 and "sweep file itself" in out, f"-o {spelling} --force: {rc} {out[-300:]}")
        with open(sweep) as f:
            check(f.read() == text, f"-o {spelling}: the sweep file is intact")
    fifo = w.file("fifo")
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(w.file("sock"))
    for target, kind in (("/dev/null", "device"), (fifo, "FIFO"), (w.file("sock"), "socket"), (w.file("sub"), "folder")):
        for np_ in (1, 2):
            rc, out = run_limited(np_, "run", sweep, "-o", target, "--force", "--quiet")
            check(rc == 2 and f"not a regular file (a {kind})" in out, f"-o {target} np {np_}: {rc} {out[-300:]}")
        rc, out = run_limited(1, "status", target)
        check(rc == 2 and "not a regular file" in out, f"status {target}: {rc} {out[-300:]}")
    sock.close()


def full_disk(w):
    """A disk too small for the file is refused before anything is written (exit 2, saying how
    much is needed); a write that fails during creation anyway (here: a file-size limit) names
    the write, exits 1 and leaves no half-made file; and a creation killed midway leaves a file
    that status calls unfinished."""
    sweep = w.file("big.yaml", TINY.replace("replicates: 2", "replicates: 500"))
    mnt = w.file("small")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                      stderr=subprocess.DEVNULL).returncode == 0:
        try:
            out = os.path.join(mnt, "big.h5")
            for np_ in (1, 2):
                rc, log = run_limited(np_, "run", sweep, "-o", out, "--force", "--quiet")
                check(rc == 2 and "MB free" in log, f"a full disk np {np_} is refused: {rc} {log[-400:]}")
                check(not os.path.exists(out), "nothing written on the full disk")
        finally:
            subprocess.run(["umount", mnt])
    else:
        print("full_disk: tmpfs part skipped (cannot mount a tmpfs here)")

    # A write that fails during creation anyway (a full disk, here injected at the 5th write).
    out = w.file("failed.h5")
    for np_ in (1, 2):
        p = subprocess.run(command(np_, "run", sweep, "-o", out, "--force", "--quiet"),
                           env=dict(ENV, ICLSWEEP_FAIL_WRITE="5"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        check(p.returncode == 1 and "rows" in p.stdout and "Inappropriate type" in p.stdout,  # HDF5's reason
              f"a failed write np {np_}: exit {p.returncode}: {p.stdout[-400:]}")
        check(not os.path.exists(out), f"np {np_}: the half-made file is removed")

    # A write that fails while tasks run (the disk filled under another program): the run stops
    # naming the write, every row marked done is complete, and a resume finishes the sweep.
    sweep_ok = w.file("tiny_run.yaml", TINY)
    reference = w.file("reference.h5")
    rc, log = run(1, "run", sweep_ok, "-o", reference, "--quiet")
    for np_, k in ((1, "300"), (1, "333"), (3, "260")):
        out = w.file(f"midrun_{np_}_{k}.h5")
        p = subprocess.run(command(np_, "run", sweep_ok, "-o", out, "--quiet"), env=dict(ENV, ICLSWEEP_FAIL_WRITE=k),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        check(p.returncode == 1 and "row" in p.stdout and "Inappropriate type" in p.stdout,
              f"a write failing mid-run (np {np_}, write {k}): exit {p.returncode}: {p.stdout[-400:]}")
        with h5py.File(out, "r") as f:
            status, loss, final = f["tasks/status"][:], f["traj/train_loss"][()], f["final/test_err"][:]
        done = status == 2
        check(done.any() and (~done).any(), f"np {np_}, write {k}: stopped midway: {status}")
        check(np.isfinite(final[done]).all() and np.isfinite(loss[done][:, 0]).all(),
              f"np {np_}, write {k}: every row marked done has its data")
        rc, log = run(np_, "run", sweep_ok, "-o", out, "--resume", "--quiet")
        check(rc == 0 and not same_results(out, reference), f"np {np_}, write {k}: the resume finishes it: {rc} {log}")

    many = w.file("many.yaml", "model: linattn\nseed: 1\nreplicates: 400000\n"
                  "fixed: {D: 1, N: 1, P: 1, P_test: 1, steps: 0, log_every: 1, theory: false}\n")
    out = w.file("killed.h5")
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
    check(rc == 3 and "creation never finished" in log, f"status of a creation killed midway: {rc} {log[-300:]}")


def huge_task(w):
    """A task of terabytes is refused by the model's memory estimate before any file exists."""
    sweep = w.file("huge.yaml", "model: concept\nseed: 1\ngrid:\n  n_train: [1000, 100000000]\n")
    out = w.file("huge.h5")
    for np_ in (1, 2):
        rc, log = run_limited(np_, "run", sweep, "-o", out, "--quiet")
        check(rc == 2 and "max_task_memory" in log and "n_train=100000000" in log,
              f"a task of terabytes, np {np_}: {rc} {log[-400:]}")
        check(not os.path.exists(out), f"np {np_}: no result file for a refused sweep")


with Workdir() as w:
    crafted_files(w)
    outputs(w)
    full_disk(w)
    huge_task(w)
report("test_hostile")
