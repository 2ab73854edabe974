"""The result file as its readers meet it (format iclsweep/3, docs/file-format.md): xarray opens
each group with named dimensions and no warnings, text comes back as str, status says its labels,
every dataset documents itself, the grid attribute decodes each row's point, derived parameters are
recorded as used with the setting beside them, the model's theory lines are there with each task's
value (the attribute `theory` and /theory), and a file from another data generator or an older
format is rewritten on resume (its results kept).
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_format.py"""
import json
import shutil
import warnings

import h5py
import numpy as np
import pytest
import xarray as xr

from common import run
from sweeps import TINY

# linattn across the interpolation threshold: P comes from alpha (P = round(alpha D^2)), so the
# P column must hold the prompts actually used, not the default 1000.
ALPHA = """\
model: linattn
seed: 5
fixed: {D: 4, N: 8, P_test: 32, steps: 20, log_every: 10, optimizer: sgd, batch: 4}
grid:
  alpha: [0.5, 1, 2]
zip:
  dk: [0, 3]
  lr: [0.01, 0.02]
"""


def check_xarray(path, choice):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dims = {}
        for group in ("tasks", "traj", "final", "theory"):
            ds = xr.open_dataset(path, engine="h5netcdf", group=group)
            dims[group] = dict(ds.sizes)
            if group == "tasks":
                assert ds[choice].dtype == object and isinstance(ds[choice].values[0], str), \
                    f"choice columns come back as str: {ds[choice].dtype}"
                assert ds["error"].values[0] == "", "the error column is str"
                assert ds["status"].attrs.get("flag_meanings") == "pending running done failed diverged", \
                    "status says its labels"
            for name, var in ds.data_vars.items():
                assert "description" in var.attrs and "units" in var.attrs, \
                    f"/{group}/{name} has description and units"
            ds.close()
    with h5py.File(path, "r") as f:
        T, S = int(f.attrs["n_tasks"]), int(f.attrs["n_log_points"])
    assert dims["tasks"] == {"task": T} and dims["final"] == {"task": T} and dims["theory"] == {"task": T}, \
        f"named task dims: {dims}"
    assert dims["traj"] == {"task": T, "log_point": S}, f"traj dims: {dims['traj']}"


def check_grid(path):
    """The grid attribute names each dimension; /tasks/point decodes to each axis's value."""
    with h5py.File(path, "r") as f:
        grid = json.loads(f.attrs["grid"])
        point = f["tasks/point"][:]
        assert int(f.attrs["n_tasks"]) == grid["n_points"] * grid["replicates"], f"counts in {grid}"
        sizes = [d["size"] for d in grid["dims"]]
        idx = np.array(np.unravel_index(point, sizes)).T  # first dimension slowest
        for j, dim in enumerate(grid["dims"]):
            for p in dim["params"]:
                col = f["tasks/" + p][:]
                # every value of the column is a function of the row's index along this dimension
                for k in range(dim["size"]):
                    vals = set(np.atleast_1d(col[idx[:, j] == k]).tolist())
                    assert len(vals) == 1, f"{p}: one value at index {k} of {dim['name']}: {vals}"
        assert f["task"][:].tolist() == list(range(len(point))), "the task coordinate is 0..T-1"
        assert f["log_point"][:].tolist() == list(range(int(f.attrs["n_log_points"]))), "log_point 0..S-1"
    return grid


@pytest.fixture(scope="module")
def alpha(shared):
    """The ALPHA sweep run once; its result file."""
    out = shared.file("alpha.h5")
    rc, log = run(2, "run", shared.file("alpha.yaml", ALPHA), "-o", out, "--quiet")
    assert rc == 0, f"alpha sweep: {rc} {log}"
    return out


def test_derived_parameters(alpha):
    with h5py.File(alpha, "r") as f:
        alpha_, D = f["tasks/alpha"][:], f["tasks/D"][:]
        P, P_set = f["tasks/P"][:], f["tasks/P_setting"][:]
        assert (P == np.maximum(1, np.rint(alpha_ * D * D))).all(), f"P records the prompts used: {P}"
        assert (P_set == 1000).all(), f"P_setting keeps the default as set: {P_set}"
        dk, dk_set = f["tasks/dk"][:], f["tasks/dk_setting"][:]
        assert ((dk_set == 0) == (dk == D + 1)).all() and (dk[dk_set == 3] == 3).all(), \
            f"dk 0 recorded as D+1: {dk} from {dk_set}"
        assert (f["tasks/batch"][:] == 4).all() and (f["tasks/batch_setting"][:] == 4).all(), "batch used"
        assert "P_setting" not in f["final"] and "alpha_setting" not in f["tasks"], "only derived ones get _setting"


def test_alpha_grid(alpha):
    grid = check_grid(alpha)
    assert [d["name"] for d in grid["dims"]] == ["alpha", "zip0"] and grid["dims"][1]["params"] == ["dk", "lr"], \
        f"grid dims: {grid}"


def test_alpha_xarray(alpha):
    check_xarray(alpha, "optimizer")


def test_theory(alpha):
    """linattn's theory: the headline, the floor level on test_mse, the interpolation threshold
    marked on P and alpha, each with its value for each task's D and N."""
    with h5py.File(alpha, "r") as f:
        theory = json.loads(f.attrs["theory"])
        D, N = f["tasks/D"][:], f["tasks/N"][:]
        assert theory["headline"] == {"metric": "test_mse", "level": 1}, f"headline: {theory['headline']}"
        levels = {line["column"]: line for line in theory["levels"]}
        marks = {line["column"]: line for line in theory["marks"]}
        assert "test_mse" in levels["floor"]["metrics"], f"floor applies to test_mse: {levels}"
        assert marks["interp_P"]["axis"] == "P" and marks["interp_alpha"]["axis"] == "alpha", f"marks: {marks}"
        assert np.allclose(f["theory/floor"][:], (D + 1) / (N + D + 1)), "floor = (D+1)/(N+D+1) per task"
        assert (f["theory/interp_P"][:] == D * (D + 1)).all(), "threshold P = D(D+1) per task"
        finals = set(f["final"])
        assert all(b["final"] in finals for b in theory["baselines"]), "baselines name final metrics"


@pytest.fixture(scope="module")
def tiny(shared):
    """TINY run once on 1 rank: (sweep, result file)."""
    sweep = shared.file("tiny.yaml", TINY)
    out = shared.file("tiny.h5")
    rc, log = run(1, "run", sweep, "-o", out, "--quiet")
    assert rc == 0, f"tiny sweep: {rc} {log}"
    return sweep, out


def test_tiny_xarray(tiny):
    check_xarray(tiny[1], "label_map")


def test_tiny_grid(tiny):
    check_grid(tiny[1])


def test_another_generator_then_an_older_format(work, tiny):
    sweep, out = tiny[0], work.file("tiny.h5")
    shutil.copyfile(tiny[1], out)
    with h5py.File(out, "r") as f:
        generator = f.attrs["generator"]
        assert generator.startswith("concept/") and " rng/" in generator, f"generator recorded: {generator}"
    with h5py.File(out, "r+") as f:
        f["tasks/status"][0] = 0  # leave work so that a resume would train
        del f.attrs["generator"]
        f.attrs["generator"] = "concept/0 rng/0"
    rc, log = run(1, "run", sweep, "-o", out, "--resume", "--quiet")
    assert rc == 2 and "data generator concept/0 rng/0" in log, f"resume under another generator: {rc} {log}"
    with h5py.File(out, "r+") as f:
        f.attrs["format"] = "iclsweep/2"
        f.attrs["generator"] = generator
    rc, log = run(1, "status", out)
    assert rc == 3, f"status reads an older format: {rc} {log}"
    rc, log = run(1, "run", sweep, "-o", out, "--resume")
    assert rc == 0 and "grew" in log and "7 finished ones kept" in log, \
        f"a resume rewrites an older format's file, keeping its results: {rc} {log}"
    with h5py.File(out, "r") as f:
        assert f.attrs["format"] == "iclsweep/3" and "theory" in f, "the file is in this format now"
