"""The sweep as an xarray cube: one dimension per grid dimension (+ replicate, + the log axis).

A task's grid point is /tasks/point, its position along each dimension follows by mixed radix
over the sizes in the `grid` attribute (last dimension fastest); the coordinate values are the
parameter values the file holds at those positions, bit for bit. A zip group is one dimension
(named as in `grid`, e.g. zip0) with each zipped parameter as a coordinate on it. Several files
(shards, an extended sweep) must have the same dimensions; their values are merged (new values of
an extended axis are sorted in). Grid positions without a task (skip_invalid) hold NaN.

Variables: every final metric (grid dims + replicate), every trajectory metric as
traj_<metric> (+ `step` as the log axis when every task logs at the same steps, else `log_point`
with a `step` variable), and status, task, key, wall_s per task. Parameters that are not grid
axes are scalar coordinates when constant, else coordinates over the grid dimensions.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from . import reader


def _positions(sf, points):
    """Positions along each grid dimension of each grid point index (mixed radix, last fastest)."""
    sizes = [d["size"] for d in sf.dims]
    if not sizes:
        return []
    return list(np.unravel_index(np.asarray(points, dtype=np.int64), sizes))


def _dim_values(sfs, df):
    """For each grid dimension: the list of value tuples (one per position, in the sweep's order),
    merged over files. Raises ValueError when the files' dimensions differ."""
    shape = [(d["name"], tuple(d["params"])) for d in sfs[0].dims]
    for sf in sfs[1:]:
        other = [(d["name"], tuple(d["params"])) for d in sf.dims]
        if other != shape:
            raise ValueError(f"cannot build one cube from {sfs[0].path} and {sf.path}: their "
                             f"grids have dimensions {shape} and {other} (load() still combines "
                             f"them as a table)")
    merged = []
    for k, (name, params) in enumerate(shape):
        values, first = [], None
        for i, sf in enumerate(sfs):
            rows = df[df["_file"] == i]
            pos = _positions(sf, rows["point"])[k]
            table = rows[list(params)].assign(_pos=pos).drop_duplicates("_pos").sort_values("_pos")
            tuples = [tuple(r) for r in table[list(params)].itertuples(index=False)]
            first = tuples if first is None else first
            values += [t for t in tuples if t not in values]
        if values != first and len(params) == 1:
            values = sorted(values)
        merged.append((name, list(params), values))
    return merged


def _fill(shape, dtype):
    if np.dtype(dtype).kind == "f":
        return np.full(shape, np.nan)
    if np.dtype(dtype).kind in "iu":
        return np.full(shape, -1 if np.dtype(dtype).kind == "i" else 0, dtype=dtype)
    if np.dtype(dtype).kind == "b":
        return np.zeros(shape, dtype=bool)
    return np.full(shape, "", dtype=object)


def _scatter(index, shape, values):
    """An array of `shape` (NaN / -1 / '' where no task) with values at index."""
    values = np.asarray(values)
    out = _fill(shape, values.dtype)
    out[index] = values
    return out


def _coordinate(dims, index, shape, values):
    """A non-grid parameter: a scalar when constant, else an array over the grid dimensions (its
    value does not depend on the replicate), or over grid + replicate if it does."""
    values = np.asarray(values)
    if len(values) and (values == values[0]).all():
        return values[0]
    grid_shape, grid_index = tuple(shape[:-1]), index[:-1]
    point = np.ravel_multi_index(grid_index, grid_shape) if grid_index else np.zeros(len(values))
    if (pd.Series(values).groupby(point).nunique() <= 1).all():
        full = len(np.unique(point)) == int(np.prod(grid_shape))
        arr = _fill(grid_shape, values.dtype if full or values.dtype.kind not in "iub" else float)
        arr[grid_index] = values
        return (dims[:-1], arr)
    return (dims, _scatter(index, shape, values))


def _log_axis(step_rows):
    """(dimension name, its values or None): `step` when every task logs at the same steps."""
    if len(step_rows) and (step_rows == step_rows[0]).all():
        keep = step_rows[0] >= 0
        return "step", step_rows[0][keep]
    return "log_point", None


def _read_traj(sfs, df, names):
    """(step [n, S], {metric: [n, S]}) for the rows of df, padded to the longest S."""
    S = max(int(sf.attrs["n_log_points"]) for sf in sfs)
    step = np.full((len(df), S), -1, dtype=np.int64)
    data = {m: np.full((len(df), S), np.nan) for m in names}
    for i, sf in enumerate(sfs):
        where = np.nonzero(df["_file"].to_numpy() == i)[0]
        if not len(where):
            continue
        rows = df["_row"].to_numpy()[where]
        with reader.open_h5(sf.path) as f, reader.reading(sf.path, "/traj"):
            s = f["traj/step"][()][rows]
            step[where, :s.shape[1]] = s
            for m in names:
                if m in f["traj"]:
                    data[m][where, :s.shape[1]] = f["traj"][m][()][rows]
    return step, data


def _attrs(meta):
    """Dataset attributes (netCDF-friendly: text and numbers only)."""
    root = meta["root_attrs"]
    out = {k: root[k] for k in ("name", "model", "seed", "generator", "sweep", "spec_hash",
                                "iclsweep_version", "git_commit", "created") if k in root}
    out.update({"format": meta["format"], "files": "\n".join(meta["files"]),
                "grid": json.dumps(meta["grid"]), "n_tasks": meta["n_tasks"],
                "complete": int(meta["complete"]),
                "completion": reader.completion_text(meta["counts"])})
    out.update({f"n_{label}": n for label, n in meta["counts"].items()})
    return out


def _doc(meta, name):
    col = meta["columns"].get(name, {})
    return {"description": col.get("description", ""), "units": col.get("units", "")}


def open_dataset(paths, *, traj=True, done_only=True, warn=True):
    """The sweep as an xarray.Dataset over its grid dimensions (+ replicate, + step/log_point).

    paths: one result file or several of one sweep (shards, extended grids). Final metrics keep
    their names (ds.test_err), trajectories are traj_<metric>; only done tasks hold values when
    done_only. traj=False skips /traj (faster on large files). ds.attrs says how complete the data
    is (n_done, n_pending, ..., complete, completion)."""
    sfs, df = reader.read(paths)
    metrics = reader.final_names(sfs, df)
    done = (df["status"] == "done").to_numpy()
    meta = reader.describe_files(sfs, reader.counts(df["status"]))
    dims_values = _dim_values(sfs, df)

    index, dims, shape, coords = [], [], [], {}
    for name, params, values in dims_values:
        lookup = {v: j for j, v in enumerate(values)}
        keys = list(df[params].itertuples(index=False, name=None))
        index.append(np.array([lookup[k] for k in keys], dtype=np.int64))
        dims.append(name)
        shape.append(len(values))
        for j, p in enumerate(params):
            col = np.array([v[j] for v in values], dtype=df[p].dtype if df[p].dtype != object
                           else object)
            coords[p] = (name, col, _doc(meta, p))
        if len(params) > 1:
            coords[name] = (name, np.arange(len(values)), {"description": "zip group over " +
                                                          ", ".join(params)})
    n_rep = max([int(sf.attrs["replicates"]) for sf in sfs] + [int(df["replicate"].max()) + 1
                                                                  if len(df) else 0])
    index.append(df["replicate"].to_numpy().astype(np.int64))
    dims.append("replicate")
    shape.append(n_rep)
    coords["replicate"] = ("replicate", np.arange(n_rep))
    index = tuple(index)

    data = {}
    for m in metrics:
        values = np.where(done, df[m].to_numpy(), np.nan) if done_only else df[m].to_numpy()
        data[m] = (dims, _scatter(index, shape, values), _doc(meta, m))
    data["status"] = (dims, _scatter(index, shape, df["status"].astype(str).to_numpy()),
                      {"description": "the task's state"})
    for name in ("task", "key", "wall_s", "attempts"):
        if name in df:
            data[name] = (dims, _scatter(index, shape, df[name].to_numpy()), _doc(meta, name))

    grid_params = {p for _, params, _ in dims_values for p in params}
    for p in [c for c in meta["params"] + [s for sf in sfs for s in sf.settings]
              if c not in grid_params and c in df]:
        coords[p] = _coordinate(dims, index, shape, df[p].to_numpy())

    if traj and meta["traj_metrics"]:
        step, tdata = _read_traj(sfs, df, meta["traj_metrics"])
        log_dim, step_values = _log_axis(step)
        if step_values is not None:
            coords["step"] = ("step", step_values,
                              {"description": "training step", "units": "steps"})
            step_cols = np.nonzero(step[0] >= 0)[0]
        else:
            step_cols = np.arange(step.shape[1])
            coords["log_point"] = ("log_point", step_cols)
            data["step"] = (dims + ["log_point"], _scatter(index, shape + [len(step_cols)], step),
                            {"description": "training step of each log point (-1: none)",
                             "units": "steps"})
        for m, arr in tdata.items():
            if done_only:
                arr = np.where(done[:, None], arr, np.nan)
            data["traj_" + m] = (dims + [log_dim],
                                 _scatter(index, shape + [len(step_cols)], arr[:, step_cols]),
                                 _doc(meta, f"traj/{m}"))
    ds = xr.Dataset(data, coords=coords, attrs=_attrs(meta))
    if warn:
        reader._warn_incomplete([sf.path for sf in sfs], meta["counts"])
    return ds
