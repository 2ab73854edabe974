"""1 vs 2 vs 4 ranks give bit-identical /traj, /final and /tasks; the file is self-describing and
every column lines up with the trajectories, as h5py, h5dump and `iclsweep plan` see it.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_ranks.py"""
import re
import subprocess

import h5py
import numpy as np

from common import BIN, ENV, Workdir, check, command, report, run, same_results
from sweeps import TINY, LONGER


def check_layout(path, sweep_path):
    with h5py.File(path, "r") as f:
        T = int(f.attrs["n_tasks"])
        S = int(f.attrs["n_log_points"])
        check(f.attrs["format"] == "iclsweep/3", "format attribute")
        for attr in ("sweep", "spec_hash", "model", "generator", "grid", "iclsweep_version", "git_commit",
                     "mpi_version", "hdf5_version", "blas_version", "created"):
            check(attr in f.attrs and len(str(f.attrs[attr])) > 0, f"root attribute {attr}")
        for name, ds in f["tasks"].items():
            check(ds.shape == (T,), f"/tasks/{name} has {ds.shape}, want ({T},)")
            check("description" in ds.attrs, f"/tasks/{name} has a description")
        for name, ds in f["traj"].items():
            check(ds.shape == (T, S), f"/traj/{name} has {ds.shape}, want {(T, S)}")
        for name, ds in f["final"].items():
            check(ds.shape == (T,), f"/final/{name} has {ds.shape}")
        check((f["tasks/status"][:] == 2).all(), "every task done")
        # Trajectories line up with their steps: NaN exactly where a task has no log point.
        step = f["traj/step"][()]
        loss = f["traj/train_loss"][()]
        check(np.array_equal(np.isnan(loss), step < 0), "NaN padding matches step == -1")
        steps = f["tasks/steps"][:]
        check((step.max(axis=1) == steps).all(), "the last logged step is each task's steps")
        # The final metrics are the last logged point of each task.
        last = np.array([loss[t][step[t] >= 0][-1] for t in range(T)])
        check(np.array_equal(last, f["final/train_loss"][:]), "final train_loss == last logged")
        keys = ["%016x" % k for k in f["tasks/key"][:]]
        noise = f["tasks/noise"][:]
    # The rows are the tasks `plan` lists, in order.
    out = subprocess.run([BIN, "plan", sweep_path, "--list", str(T)], env=ENV, text=True,
                         stdout=subprocess.PIPE).stdout
    rows = [l.split() for l in out.splitlines() if re.match(r"^\s+\d+\s+\d+\s", l)]
    check(len(rows) == T, f"plan lists {len(rows)} tasks, file has {T}")
    check([r[-2] for r in rows] == keys, "file keys == plan keys, row by row")
    header = next(l.split() for l in out.splitlines() if re.match(r"^\s+task\s+rep", l))
    col = header.index("noise")
    check(all(float(r[col]) == n for r, n in zip(rows, noise)), "file noise column == plan")
    dump = subprocess.run(["h5dump", "-H", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(dump.returncode == 0, "h5dump reads the file")


def progress_modes(w):
    """A live line (redrawn with \\r) when a person launched mpirun from a terminal, plain lines
    otherwise; --progress overrides. `script` gives the launch a terminal."""
    sweep = w.file("modes.yaml", TINY)
    out = w.file("modes.h5")
    cmd = " ".join(command(2, "run", sweep, "-o", out, "--force"))
    log = w.file("typescript")
    for extra, want_live in (("", True), (" --progress plain", False)):
        p = subprocess.run(["script", "-q", "-e", "-c", cmd + extra, log], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(log, "rb") as f:
            text = f.read()
        live = b"\r[" in text
        check(p.returncode == 0 and live == want_live,
              f"progress under a terminal{extra}: live={live}, want {want_live}")
    rc, text = run(2, "run", sweep, "-o", out, "--force")
    check(rc == 0 and "\r" not in text and "tasks finished" in text, f"plain without a terminal: {text!r}")
    rc, text = run(1, "run", sweep, "-o", out, "--force", "--progress", "loud")
    check(rc == 2 and "--progress expects auto, live, plain or none" in text, text)


def main():
    with Workdir() as w:
        progress_modes(w)
        for name, text in (("tiny", TINY), ("longer", LONGER)):
            sweep = w.file(f"{name}.yaml", text)
            outs = {}
            for np_ in (1, 2, 4):
                out = w.file(f"{name}_np{np_}.h5")
                rc, log = run(np_, "run", sweep, "-o", out, "--quiet")
                check(rc == 0, f"{name} np={np_} exit {rc}: {log}")
                outs[np_] = out
            for np_ in (2, 4):
                diffs = same_results(outs[1], outs[np_])
                check(not diffs, f"{name}: np=1 vs np={np_} differ in {diffs}")
            check_layout(outs[4], sweep)
            with h5py.File(outs[4], "r") as f:
                ranks = set(f["tasks/rank"][:].tolist())
                check(ranks <= {1, 2, 3} and len(ranks) >= 2, f"workers 1..3 shared the work: {ranks}")
    report("test_ranks")


main()
