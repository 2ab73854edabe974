"""End to end on sweeps the built program runs ($ICLSWEEP_BIN): a tiny concept K x noise sweep
under `mpirun -np 2` and a tiny linattn alpha sweep on one rank without a launcher. The reader
equals raw h5py reads, the cube has the grid's shape and the file's exact values, every command
runs from the command line and writes its files, the CSVs' numbers equal the HDF5's, refine's
sweep is accepted by `iclsweep plan` and keeps every task's identity, the linattn peak sits near
the interpolation threshold with the theory drawn, and a file is read while the sweep writes it.
Run by hand: ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest \
  tests/analysis/test_e2e.py
"""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import iclsweep
from iclsweep import threshold

BIN = os.environ.get("ICLSWEEP_BIN")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not BIN, reason="ICLSWEEP_BIN is not set (ctest sets it)")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")

CONCEPT = """\
name: e2e-concept
description: tiny K x noise phase diagram
model: concept
seed: 11
replicates: 2
fixed: {d: 16, K_irr: 4, L: 8, width: 8, steps: 120, log_every: 20, n_test: 256, n_train: 256,
        L_long: 16}
grid:
  K: [1, 2]
  noise: {geomspace: [0.01, 1.0, 3]}
"""
# D = 8: the interpolation threshold P = D(D+1) is alpha = 9/8. A small init keeps the
# directions the data do not fix near 0, so the test MSE peaks at the threshold.
LINATTN = """\
name: e2e-linattn
model: linattn
seed: 3
replicates: 3
fixed: {D: 8, N: 40, steps: 4000, log_every: 100, P_test: 500, optimizer: adam, lr: 0.01,
        weight_decay: 0, init: 0.1}
grid:
  alpha: {linspace: [0.25, 2.0, 8]}
"""


def launch(yaml_path, out, ranks):
    cmd = [BIN, "run", str(yaml_path), "-o", str(out), "--force", "--progress", "none"]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--oversubscribe"] + cmd
    return cmd


def run_sweep(workdir, name, text, ranks):
    """Runs the sweep into workdir/name.h5 and returns the path (in the reader's format)."""
    sweep = workdir / f"{name}.yaml"
    sweep.write_text(text)
    out = workdir / f"{name}.h5"
    subprocess.run(launch(sweep, out, ranks), env=ENV, check=True, capture_output=True)
    with h5py.File(out, "r", locking=False) as f:
        fmt = f.attrs["format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    assert fmt == iclsweep.FORMAT, f"{BIN} writes {fmt}; the reader's format is {iclsweep.FORMAT}"
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def concept_h5(work):
    return run_sweep(work, "concept", CONCEPT, ranks=2)


@pytest.fixture(scope="module")
def linattn_h5(work):
    return run_sweep(work, "linattn", LINATTN, ranks=1)


def cli(*args, cwd=None):
    env = dict(ENV, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.run([sys.executable, "-m", "iclsweep.cli"] + [str(a) for a in args],
                       env=env, capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def h5_table(path):
    """/tasks and /final as numpy, read with h5py alone."""
    with h5py.File(path, "r") as f:
        cols = {k: v[()] for k, v in f["tasks"].items()}
        cols.update({k: v[()] for k, v in f["final"].items()})
        grid = json.loads(f.attrs["grid"])
    return cols, grid


def test_reader_equals_h5py(concept_h5):
    df = iclsweep.load(concept_h5)
    cols, grid = h5_table(concept_h5)
    assert len(df) == len(cols["key"]) == grid["n_points"] * grid["replicates"]
    for name, raw in cols.items():
        if name == "status":
            assert (df["status"] == "done").all() and (raw == 2).all()
        elif raw.dtype.kind == "S":
            assert list(df[name]) == [b.decode() for b in raw], name
        else:
            assert np.array_equal(df[name].to_numpy(), raw, equal_nan=True), name
    assert df.attrs["complete"] and df.attrs["model"] == "concept"
    assert [d["name"] for d in grid["dims"]] == ["K", "noise"]


def test_cube_has_the_grid_shape_and_exact_values(concept_h5):
    ds = iclsweep.open_dataset(concept_h5)
    cols, grid = h5_table(concept_h5)
    assert ds.test_err.shape == tuple(d["size"] for d in grid["dims"]) + (grid["replicates"],)
    assert ds.noise.values.tolist() == sorted(set(cols["noise"].tolist()))
    assert ds.K.values.tolist() == [1, 2]
    got = ds.test_err.mean("replicate")
    df = iclsweep.load(concept_h5)
    means = df.groupby(["K", "noise"]).test_err.mean()
    for (K, n), v in means.items():
        assert got.sel(K=K, noise=n).item() == v
    assert ds.traj_test_err.dims == ("K", "noise", "replicate", "step")
    assert ds.step.values[-1] == 120


def test_generated_axis_values_follow_numpy(concept_h5):
    """Issue 8's contract on the engine: a generated range has the written endpoints exactly and
    numpy's values between them, so `df.noise == 0.01` finds the points of
    {geomspace: [0.01, 1.0, 3]}."""
    values = iclsweep.open_dataset(concept_h5, traj=False).noise.values
    assert (values[0], values[-1]) == (0.01, 1.0), \
        f"the engine wrote noise {values.tolist()!r}: the endpoints are not 0.01 and 1.0"
    assert np.allclose(values, np.geomspace(0.01, 1.0, 3), rtol=1e-15, atol=0)
    assert (iclsweep.load(concept_h5).noise == 0.01).sum() == 4


def test_groups_open_in_xarray_with_named_dims(concept_h5):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for group, dims in (("tasks", ("task",)), ("final", ("task",)),
                            ("traj", ("task", "log_point"))):
            with xr.open_dataset(concept_h5, engine="h5netcdf", group=group) as ds:
                assert all(v.dims == dims for v in ds.data_vars.values()), group


def test_every_command_and_csv_equals_hdf5(concept_h5, work):
    cols, _ = h5_table(concept_h5)
    out = work / "cmds"
    out.mkdir()
    text = cli("table", concept_h5, "-o", out / "table.csv")
    assert "12 of 12 tasks done" in text and f"wrote {out / 'table.csv'}" in text
    for r in csv.DictReader(open(out / "table.csv")):
        sel = (cols["K"] == int(r["K"])) & (cols["noise"] == float(r["noise"]))
        assert float(r["mean"]) == np.mean(cols["test_err"][sel])
        assert int(r["n"]) == sel.sum() == 2
    cli("phase", concept_h5, "--x", "noise", "--y", "K", "--level", "0.1", "-o", out / "ph.png")
    cli("curves", concept_h5, "--color", "K", "--where", "noise=0.01", "-o", out / "cu.png")
    cli("threshold", concept_h5, "--along", "noise", "--level", "0.25", "-o", out / "th.csv")
    cli("report", concept_h5, "-o", out / "report")
    for name in ("ph.png", "ph.pdf", "cu.png", "cu.pdf", "th.csv", "th.png", "th.pdf",
                 "report/index.html"):
        assert (out / name).stat().st_size > 200, name
    for r in csv.DictReader(open(out / "th.csv")):
        if r["location"] in ("", "nan"):
            continue
        lo, hi, loc = float(r["bracket_lo"]), float(r["bracket_hi"]), float(r["location"])
        K = int(r["K"])
        m = {n: np.mean(cols["test_err"][(cols["K"] == K) & (cols["noise"] == n)])
             for n in (lo, hi)}
        assert lo <= loc <= hi and (m[lo] - 0.25) * (m[hi] - 0.25) <= 0


def plan_keys(sweep):
    out = subprocess.run([BIN, "plan", str(sweep), "--list", "100000"], env=ENV, text=True,
                         capture_output=True)
    assert out.returncode == 0, out.stderr
    rows = [l.split() for l in out.stdout.splitlines() if re.match(r"^\s+\d+\s+\d+\s", l)]
    return {int(r[-2], 16) for r in rows}


def test_refine_writes_a_sweep_plan_accepts(concept_h5, work):
    out = work / "next.yaml"
    text = cli("refine", concept_h5, "--along", "noise", "--level", "0.25", "--points", "2",
               "-o", out)
    assert f"wrote {out}" in text
    keys = plan_keys(out)
    old = set(int(k) for k in h5_table(concept_h5)[0]["key"])
    assert old <= keys and len(keys) > len(old)


def test_linattn_peak_near_the_interpolation_threshold(linattn_h5, work):
    df = iclsweep.load(linattn_h5)
    assert (df["P"] == np.maximum(1, np.round(df["alpha"] * 64))).all()
    assert (df["P_setting"] == 1000).all()
    res, fig, written = threshold.threshold(linattn_h5, along="alpha", metric="test_mse",
                                            peak=True, output=work / "peak.csv")
    loc = res["location"].item()
    assert 0.85 <= loc <= 1.45, res.T          # P = D(D+1) is alpha = 1.125
    texts = [t.get_text() for ax in fig.axes if ax.get_legend()
             for t in ax.get_legend().get_texts()]
    for want in ("interpolation threshold alpha = (D+1)/D", "Gibbs mean (closed form)",
                 "ridge (Bayes, fresh tasks)", "large-P floor (D+1)/(N+D+1)"):
        assert want in texts
    plt.close(fig)
    text = cli("curves", linattn_h5, "--color", "alpha", "-o", work / "la_curves.png")
    assert "wrote" in text and (work / "la_curves.pdf").exists()


def test_reads_while_the_sweep_writes(work):
    """Loads the file over and over while `iclsweep run` is still writing it: tasks long enough
    (~0.5 s each) that the sweep outlasts the reads by construction, stopped by SIGTERM once the
    reads saw tasks finish (the run drains and exits 3)."""
    sweep = work / "live.yaml"
    sweep.write_text(LINATTN.replace("steps: 4000", "steps: 200000").replace("log_every: 100", "log_every: 20000"))
    out = work / "live.h5"
    proc = subprocess.Popen(launch(sweep, out, 1), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seen = []
    try:
        while proc.poll() is None and len([n for n in seen if n > 0]) < 3:
            try:
                df = iclsweep.load(out, warn=False)
            except (FileNotFoundError, iclsweep.NotAnIclsweepFile):
                time.sleep(0.05)       # not created yet, or created halfway
                continue
            if proc.poll() is None:
                seen.append(df.attrs["n_done"])
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    with h5py.File(out, "r") as f:
        fmt = f.attrs["format"]
    if (fmt.decode() if isinstance(fmt, bytes) else fmt) != iclsweep.FORMAT:
        pytest.skip(f"{BIN} writes {fmt}")
    assert seen and proc.returncode == 3, f"the reads came while the sweep ran: {seen} {proc.returncode}"
    assert not iclsweep.load(out, warn=False).attrs["complete"]
    assert seen == sorted(seen)
