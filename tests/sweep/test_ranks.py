"""1 vs 2 vs 4 ranks give bit-identical /traj, /final and /tasks; the file is self-describing and
every column lines up with the trajectories, as h5py, h5dump and `iclsweep plan` see it.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_ranks.py"""
import re
import subprocess

import h5py
import numpy as np
import pytest

from common import BIN, ENV, command, run, same_results
from sweeps import TINY, LONGER

SWEEPS = {"tiny": TINY, "longer": LONGER}


@pytest.fixture(scope="module", params=list(SWEEPS))
def ranks(request, shared):
    """Each sweep run on 1, 2 and 4 ranks: (name, sweep path, {ranks: result path})."""
    name = request.param
    sweep = shared.file(f"{name}.yaml", SWEEPS[name])
    outs = {}
    for np_ in (1, 2, 4):
        out = shared.file(f"{name}_np{np_}.h5")
        rc, log = run(np_, "run", sweep, "-o", out, "--quiet")
        assert rc == 0, f"{name} np={np_} exit {rc}: {log}"
        outs[np_] = out
    return name, sweep, outs


@pytest.mark.parametrize("np_", (2, 4))
def test_same_results(ranks, np_):
    name, _, outs = ranks
    diffs = same_results(outs[1], outs[np_])
    assert not diffs, f"{name}: np=1 vs np={np_} differ in {diffs}"


def test_root_attributes(ranks):
    with h5py.File(ranks[2][4], "r") as f:
        assert f.attrs["format"] == "iclsweep/3", "format attribute"
        for attr in ("sweep", "spec_hash", "model", "generator", "grid", "iclsweep_version", "git_commit",
                     "mpi_version", "hdf5_version", "blas_version", "created"):
            assert attr in f.attrs and len(str(f.attrs[attr])) > 0, f"root attribute {attr}"


def test_shapes(ranks):
    with h5py.File(ranks[2][4], "r") as f:
        T = int(f.attrs["n_tasks"])
        S = int(f.attrs["n_log_points"])
        for name, ds in f["tasks"].items():
            assert ds.shape == (T,), f"/tasks/{name} has {ds.shape}, want ({T},)"
            assert "description" in ds.attrs, f"/tasks/{name} has a description"
        for name, ds in f["traj"].items():
            assert ds.shape == (T, S), f"/traj/{name} has {ds.shape}, want {(T, S)}"
        for name, ds in f["final"].items():
            assert ds.shape == (T,), f"/final/{name} has {ds.shape}"
        assert (f["tasks/status"][:] == 2).all(), "every task done"


def test_trajectories_line_up(ranks):
    with h5py.File(ranks[2][4], "r") as f:
        T = int(f.attrs["n_tasks"])
        # Trajectories line up with their steps: NaN exactly where a task has no log point.
        step = f["traj/step"][()]
        loss = f["traj/train_loss"][()]
        assert np.array_equal(np.isnan(loss), step < 0), "NaN padding matches step == -1"
        steps = f["tasks/steps"][:]
        assert (step.max(axis=1) == steps).all(), "the last logged step is each task's steps"
        # The final metrics are the last logged point of each task.
        last = np.array([loss[t][step[t] >= 0][-1] for t in range(T)])
        assert np.array_equal(last, f["final/train_loss"][:]), "final train_loss == last logged"


def test_rows_are_plans_tasks(ranks):
    """The rows are the tasks `plan` lists, in order."""
    _, sweep_path, outs = ranks
    with h5py.File(outs[4], "r") as f:
        T = int(f.attrs["n_tasks"])
        keys = ["%016x" % k for k in f["tasks/key"][:]]
        noise = f["tasks/noise"][:]
    out = subprocess.run([BIN, "plan", sweep_path, "--list", str(T)], env=ENV, text=True,
                         stdout=subprocess.PIPE).stdout
    rows = [l.split() for l in out.splitlines() if re.match(r"^\s+\d+\s+\d+\s", l)]
    assert len(rows) == T, f"plan lists {len(rows)} tasks, file has {T}"
    assert [r[-2] for r in rows] == keys, "file keys == plan keys, row by row"
    header = next(l.split() for l in out.splitlines() if re.match(r"^\s+task\s+rep", l))
    col = header.index("noise")
    assert all(float(r[col]) == n for r, n in zip(rows, noise)), "file noise column == plan"


def test_h5dump_reads(ranks):
    dump = subprocess.run(["h5dump", "-H", ranks[2][4]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert dump.returncode == 0, "h5dump reads the file"


def test_workers_share_the_work(ranks):
    with h5py.File(ranks[2][4], "r") as f:
        ranks_seen = set(f["tasks/rank"][:].tolist())
    assert ranks_seen <= {1, 2, 3} and len(ranks_seen) >= 2, f"workers 1..3 shared the work: {ranks_seen}"


# Progress: a live line (redrawn with \r) when a person launched mpirun from a terminal, plain
# lines otherwise; --progress overrides. `script` gives the launch a terminal.
@pytest.mark.parametrize("extra, want_live", (("", True), (" --progress plain", False)))
def test_progress_under_a_terminal(work, extra, want_live):
    sweep = work.file("modes.yaml", TINY)
    out = work.file("modes.h5")
    cmd = " ".join(command(2, "run", sweep, "-o", out, "--force"))
    log = work.file("typescript")
    p = subprocess.run(["script", "-q", "-e", "-c", cmd + extra, log], env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log, "rb") as f:
        text = f.read()
    live = b"\r[" in text
    assert p.returncode == 0 and live == want_live, f"progress under a terminal{extra}: live={live}, want {want_live}"


def test_progress_plain_without_a_terminal(work):
    sweep = work.file("modes.yaml", TINY)
    rc, text = run(2, "run", sweep, "-o", work.file("modes.h5"), "--force")
    assert rc == 0 and "\r" not in text and "tasks finished" in text, f"plain without a terminal: {text!r}"


def test_progress_unknown_mode(work):
    sweep = work.file("modes.yaml", TINY)
    rc, text = run(1, "run", sweep, "-o", work.file("modes.h5"), "--force", "--progress", "loud")
    assert rc == 2 and "--progress expects auto, live, plain or none" in text, text
