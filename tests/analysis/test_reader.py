"""The reader against raw h5py reads of files written to docs/file-format.md: one row per task,
every column equal to the file's, status as labels, only done rows as results, partial files
said so, several files combined by identity, clear errors for anything else."""
import subprocess
import sys
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import iclsweep
from files import KS, NOISE, concept, concept_err, linattn


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "toy.h5"
    rows = concept(path)
    return path, rows


def test_dataframe_equals_raw_h5py(toy):
    path, rows = toy
    df = iclsweep.load(path)
    with h5py.File(path, "r") as f:
        T = f.attrs["n_tasks"]
        assert len(df) == T == len(rows) == 3 * 4 * 2
        for name, ds in f["tasks"].items():
            raw = ds[()]
            if name == "status":
                labels = ["pending", "running", "done", "failed", "diverged"]
                assert list(df[name].astype(str)) == [labels[v] for v in raw]
            elif raw.dtype.kind == "S":
                assert list(df[name]) == [b.decode() for b in raw]
            else:
                assert np.array_equal(df[name].to_numpy(), raw), name
                assert df[name].dtype == raw.dtype, name
        for name, ds in f["final"].items():
            assert np.array_equal(df[name].to_numpy(), ds[()], equal_nan=True), name
        assert np.array_equal(df["task"].to_numpy(), f["task"][()])


def test_columns_order_types_and_attrs(toy):
    path, _ = toy
    df = iclsweep.load(path)
    assert list(df.columns[:3]) == ["task", "K", "noise"]
    assert "d_h_setting" in df and (df["d_h_setting"] == 0).all() and (df["d_h"] == 128).all()
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)
    assert list(df["status"].cat.categories) == ["pending", "running", "done", "failed",
                                                 "diverged"]
    assert df["error"].map(type).eq(str).all()
    assert df["key"].dtype == np.uint64 and df["seed"].dtype == np.uint64
    assert df.attrs["model"] == "concept" and df.attrs["name"] == "toy"
    assert df.attrs["complete"] and df.attrs["n_done"] == 24
    assert df.attrs["grid_params"] == ["K", "noise"]
    assert df.attrs["columns"]["test_err"] == {"description": "0-1 error on n_test fresh prompts",
                                               "units": "fraction"}


def test_issue_example_groupby(toy):
    path, _ = toy
    got = iclsweep.load(path).groupby(["K", "noise"]).test_err.mean()
    for K in KS:
        for n in NOISE:
            want = np.mean([concept_err({"K": K, "noise": n, "replicate": r}) for r in (0, 1)])
            assert got.loc[(K, n)] == pytest.approx(want, abs=1e-15)
    assert (iclsweep.load(path).noise == 0.1 + 0.2).sum() == 6   # exact values


def test_partial_file_masks_and_warns(tmp_path):
    path = tmp_path / "partial.h5"
    status = {0: "done", 1: "pending", 2: "failed", 3: "diverged", 4: "running"}
    concept(path, status=lambda r: status[r["point"] % 5],
            error=lambda r: "loss is NaN at step 20" if r["point"] % 5 == 3 else "")
    with pytest.warns(iclsweep.IncompleteSweepWarning, match=r"of 24 tasks done"):
        df = iclsweep.load(path)
    assert not df.attrs["complete"]
    assert df.attrs["counts"]["done"] + df.attrs["counts"]["pending"] < 24
    assert df.loc[df.status != "done", "test_err"].isna().all()
    assert df.loc[df.status == "done", "test_err"].notna().all()
    assert set(df.loc[df.status == "diverged", "error"]) == {"loss is NaN at step 20"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iclsweep.load(path, warn=False)


def test_traj_long_format(toy):
    path, rows = toy
    t = iclsweep.load_traj(path)
    assert len(t) == 24 * 3
    assert list(t.columns[:8]) == ["task", "key", "replicate", "K", "noise", "status", "partial", "step"]
    with h5py.File(path, "r") as f:
        step, err = f["traj/step"][()], f["traj/test_err"][()]
    for task, g in t.groupby("task"):
        assert list(g["step"]) == list(step[task])
        assert np.array_equal(g["test_err"].to_numpy(), err[task])
    last = t[t.step == 20].set_index("task")["test_err"]
    assert np.allclose(last.to_numpy(), [concept_err(r) for r in rows], atol=1e-15)


def test_traj_padding_and_masking(tmp_path):
    path = tmp_path / "pad.h5"
    concept(path, steps=lambda r: [0, 10, 20] if r["K"] == 2 else [0, 10],
            status=lambda r: "pending" if r["K"] == 8 else "done")
    t = iclsweep.load_traj(path, warn=False)
    assert (t.groupby("task").size() == np.where(t.groupby("task").K.first() == 2, 3, 2)).all()
    assert t.loc[t.K == 8, "test_err"].isna().all() and t.loc[t.K != 8, "test_err"].notna().all()
    raw = iclsweep.load_traj(path, warn=False, done_only=False)
    assert raw.loc[raw.K == 8, "test_err"].isna().all()   # the file's NaN for pending rows


def _shard(rows_wanted, tmp_path, name):
    """The toy sweep with only rows_wanted done: what one of two shards would hold."""
    out = tmp_path / name
    concept(out)
    with h5py.File(out, "a") as f:
        keep = np.zeros(f.attrs["n_tasks"], dtype=bool)
        keep[rows_wanted] = True
        status = f["tasks/status"][()]
        status[~keep] = 0
        f["tasks/status"][...] = status
        for m in f["final"]:
            v = f["final"][m][()]
            v[~keep] = np.nan
            f["final"][m][...] = v
    return out


def test_combine_by_identity(tmp_path, toy):
    path, _ = toy
    a = _shard(np.arange(0, 12), tmp_path, "a.h5")
    b = _shard(np.arange(12, 24), tmp_path, "b.h5")
    df = iclsweep.load([a, b])
    whole = iclsweep.load(path)
    assert len(df) == 24 and df.attrs["complete"]
    assert df.sort_values("key")["test_err"].tolist() == \
        whole.sort_values("key")["test_err"].tolist()
    assert set(df["file"]) == {str(a), str(b)}
    assert (df.set_index("key").loc[whole.key[:12], "file"] == str(a)).all()


def test_incompatible_files_refused(tmp_path, toy):
    path, _ = toy
    other = tmp_path / "other.h5"
    linattn(other)
    with pytest.raises(iclsweep.IncompatibleFiles, match="model 'concept' vs 'linattn'"):
        iclsweep.load([path, other])
    seeded = tmp_path / "seed.h5"
    concept(seeded, seed="8")
    with pytest.raises(iclsweep.IncompatibleFiles, match="seed"):
        iclsweep.load([path, seeded])
    gen = tmp_path / "gen.h5"
    concept(gen, generator="concept/3 rng/1")
    with pytest.raises(iclsweep.IncompatibleFiles, match="generator"):
        iclsweep.load([path, gen])


@pytest.mark.parametrize("damage, message", [
    (lambda f: f.attrs.__delitem__("format"), "no 'format' attribute"),
    (lambda f: f.attrs.__setitem__("format", "iclsweep/1"), "format is 'iclsweep/1'"),
    (lambda f: f.attrs.__setitem__("format", "netcdf"), "format is 'netcdf'"),
    (lambda f: f.attrs.__delitem__("layout_complete"), "never completely created"),
    (lambda f: f.__delitem__("final"), "no group /final"),
    (lambda f: f.attrs.__delitem__("grid"), "root attribute\\(s\\) grid missing"),
    (lambda f: f["tasks"].__delitem__("status"), "status missing"),
])
def test_not_an_iclsweep_file(tmp_path, toy, damage, message):
    path, _ = toy
    with h5py.File(path, "a") as f:
        damage(f)
    with pytest.raises(iclsweep.NotAnIclsweepFile, match=message) as e:
        iclsweep.load(path)
    assert str(path) in str(e.value)


def test_not_hdf5_and_missing(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(iclsweep.NotAnIclsweepFile, match="notes.h5: not an iclsweep result file"):
        iclsweep.load(text)
    with pytest.raises(FileNotFoundError, match="nothing.h5: no such file"):
        iclsweep.load(tmp_path / "nothing.h5")


def test_reads_a_file_another_process_holds_open_for_writing(toy):
    """A running sweep holds the file open read-write (HDF5 locks it): the reader still reads."""
    path, _ = toy
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'r+'); "
         "print('open', flush=True); time.sleep(30)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(OSError):   # what a plain h5py open meets
            h5py.File(path, "r")
        assert len(iclsweep.load(path)) == 24
        assert iclsweep.open_dataset(path).test_err.shape == (3, 4, 2)
    finally:
        holder.kill()
        holder.wait()


def test_file_opens_in_xarray_with_named_dims(toy):
    """The contract the fixture (and the engine) follow: each group opens as it is."""
    path, _ = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for group, dims in (("tasks", ("task",)), ("final", ("task",)),
                            ("traj", ("task", "log_point"))):
            ds = xr.open_dataset(path, engine="h5netcdf", group=group)
            for v in ds.data_vars.values():
                assert v.dims == dims
            if group == "tasks":
                assert ds["error"].dtype == object and isinstance(ds["error"].values[0], str)
            ds.close()
