"""The xarray cube: dimensions = the grid's (zip groups one each) + replicate + step, shape ==
grid, axis values exactly the file's, values where the rows put them, NaN where no done task."""
import json

import h5py
import numpy as np
import pytest

import iclsweep
from files import KS, NOISE, concept, concept_err, linattn
from h5fixture import grid_sweep


def test_cube_shape_values_and_sel(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    ds = iclsweep.open_dataset(path)
    with h5py.File(path, "r") as f:
        grid = json.loads(f.attrs["grid"])
    assert ds.test_err.dims == ("K", "noise", "replicate")
    assert ds.test_err.shape == tuple(d["size"] for d in grid["dims"]) + (2,)
    assert ds.K.values.tolist() == KS
    assert ds.noise.values.tolist() == NOISE          # bit for bit: 0.1 + 0.2 stays itself
    assert ds.noise.values[2] == 0.30000000000000004
    for K in KS:
        for n in NOISE:
            for r in (0, 1):
                assert ds.test_err.sel(K=K, noise=n, replicate=r).item() == \
                    concept_err({"K": K, "noise": n, "replicate": r})
    got = ds.test_err.mean("replicate").sel(K=4).values
    want = [np.mean([concept_err({"K": 4, "noise": n, "replicate": r}) for r in (0, 1)])
            for n in NOISE]
    assert np.allclose(got, want, rtol=0, atol=1e-15)
    assert ds.traj_test_err.dims == ("K", "noise", "replicate", "step")
    assert ds.step.values.tolist() == [0, 10, 20]
    assert ds.d.item() == 64 and ds.d_h_setting.item() == 0 and ds.optimizer.item() == "sgd"
    assert ds.attrs["complete"] == 1 and ds.attrs["n_done"] == 24
    assert ds.test_err.attrs["units"] == "fraction"
    assert (ds.status == "done").all()


def test_row_order_does_not_matter(tmp_path):
    """Cells are placed by the rows' grid point, not by their order in the file."""
    path = tmp_path / "toy.h5"
    concept(path)
    with h5py.File(path, "a") as f:
        perm = np.random.default_rng(1).permutation(f.attrs["n_tasks"])
        for g in ("tasks", "final", "traj"):
            for name, d in f[g].items():
                d[...] = d[()][perm]
    ds = iclsweep.open_dataset(path)
    assert ds.test_err.sel(K=8, noise=1.0, replicate=1).item() == \
        concept_err({"K": 8, "noise": 1.0, "replicate": 1})


def test_zip_group_is_one_dimension(tmp_path):
    path = tmp_path / "zip.h5"
    grid_sweep(path, dims=[("K", {"K": [2, 4]}, False),
                           ("zip0", {"d": [32, 64, 64], "width": [16, 16, 32]}, True)],
               replicates=2, final={"test_err": lambda r: r["K"] + r["d"] / 100 + r["width"]})
    ds = iclsweep.open_dataset(path)
    assert ds.test_err.dims == ("K", "zip0", "replicate") and ds.test_err.shape == (2, 3, 2)
    assert ds.d.dims == ("zip0",) and ds.d.values.tolist() == [32, 64, 64]
    assert ds.width.values.tolist() == [16, 16, 32]
    assert ds.test_err.sel(K=4).isel(zip0=2, replicate=0).item() == 4 + 0.64 + 32
    assert ds.test_err.where(ds.width == 16).sel(K=2).mean().item() == \
        pytest.approx(np.mean([2.32 + 16, 2.64 + 16]))


def test_skipped_points_and_pending_are_nan(tmp_path):
    path = tmp_path / "skip.h5"
    concept(path, skip=lambda p: p["K"] == 8 and p["noise"] == 1.0,
            status=lambda r: "pending" if r["K"] == 2 and r["replicate"] == 1 else "done")
    with pytest.warns(iclsweep.IncompleteSweepWarning):
        ds = iclsweep.open_dataset(path)
    assert ds.test_err.shape == (3, 4, 2)
    assert np.isnan(ds.test_err.sel(K=8, noise=1.0)).all()
    assert (ds.task.sel(K=8, noise=1.0) == -1).all() and (ds.status.sel(K=8, noise=1.0) == "").all()
    assert np.isnan(ds.test_err.sel(K=2, replicate=1)).all()
    assert np.isfinite(ds.test_err.sel(K=2, replicate=0)).all()
    assert ds.attrs["n_pending"] == 4 and ds.attrs["complete"] == 0


def test_log_point_axis_when_schedules_differ(tmp_path):
    path = tmp_path / "steps.h5"
    concept(path, steps=lambda r: [0, 10, 20] if r["K"] == 2 else [0, 50])
    ds = iclsweep.open_dataset(path)
    assert ds.traj_test_err.dims[-1] == "log_point" and ds.sizes["log_point"] == 3
    assert ds.step.sel(K=2).isel(noise=0, replicate=0).values.tolist() == [0, 10, 20]
    assert ds.step.sel(K=4).isel(noise=0, replicate=0).values.tolist() == [0, 50, -1]
    assert np.isnan(ds.traj_test_err.sel(K=4).isel(log_point=2)).all()


def test_derived_parameter_coordinates(tmp_path):
    path = tmp_path / "la.h5"
    linattn(path)
    ds = iclsweep.open_dataset(path, traj=False)
    assert ds.P.dims == ("D", "alpha")
    assert ds.P.sel(D=8, alpha=1.5).item() == 96 and ds.P_setting.item() == 1000
    assert "traj_test_mse" not in ds


def test_shards_make_one_cube(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    concept(a, status=lambda r: "done" if r["K"] == 2 else "pending")
    concept(b, status=lambda r: "done" if r["K"] != 2 else "pending")
    ds = iclsweep.open_dataset([a, b])
    assert ds.attrs["complete"] == 1
    assert np.isfinite(ds.test_err).all()


def test_extended_sweep_merges_axis_values(tmp_path):
    """A second round that added noise values: one cube over the union, values sorted in."""
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    fn = {"test_err": lambda r: r["K"] + r["noise"]}
    grid_sweep(a, dims=[("K", {"K": [2, 4]}, False), ("noise", {"noise": [0.01, 0.1]}, False)],
               replicates=1, final=fn)
    grid_sweep(b, dims=[("K", {"K": [2, 4]}, False),
                        ("noise", {"noise": [0.01, 0.03, 0.1]}, False)], replicates=1, final=fn)
    ds = iclsweep.open_dataset([a, b])
    assert ds.noise.values.tolist() == [0.01, 0.03, 0.1]
    assert ds.test_err.sel(K=4, noise=0.03, replicate=0).item() == 4.03
    assert len(iclsweep.load([a, b])) == 6
