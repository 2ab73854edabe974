"""Small iclsweep/3 result files written with h5py exactly as docs/file-format.md specifies, with
values the tests choose, so every number the package computes can be checked by hand.

write_rows() writes a file from whole columns; grid_sweep() builds the rows of a grid (mixed radix
over the dimensions, last fastest, replicates innermost, as the engine orders them) from functions
of each row's parameters and calls write_rows()."""
import hashlib
import itertools
import json

import h5py
import numpy as np

STATUS = {"pending": 0, "running": 1, "done": 2, "failed": 3, "diverged": 4}
STATUS_T = h5py.enum_dtype(STATUS, basetype="u1")


def _doc(ds, description, units=""):
    ds.attrs["description"] = description
    ds.attrs["units"] = units


def _text_dataset(group, name, values, size):
    """Fixed-length UTF-8 text, NUL padded, with _Encoding (what the engine writes)."""
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(size)
    tid.set_cset(h5py.h5t.CSET_UTF8)
    tid.set_strpad(h5py.h5t.STR_NULLPAD)
    arr = np.array([v.encode("utf-8") for v in values], dtype=f"S{size}")
    sid = h5py.h5s.create_simple((len(values),))
    dsid = h5py.h5d.create(group.id, name.encode(), tid, sid)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=tid)
    ds = group[name]
    ds.attrs["_Encoding"] = "utf-8"
    return ds


def _column(group, name, values, scale):
    values = list(values) if not isinstance(values, np.ndarray) else values
    if len(values) and isinstance(values[0], str):
        ds = _text_dataset(group, name, values, max(8, max(len(v.encode()) for v in values)))
    elif len(values) and isinstance(values[0], (bool, np.bool_)):
        ds = group.create_dataset(name, data=np.asarray(values, dtype=np.uint8))
    elif len(values) and isinstance(values[0], (int, np.integer)):
        ds = group.create_dataset(name, data=np.asarray(values, dtype=np.int64))
    else:
        ds = group.create_dataset(name, data=np.asarray(values, dtype=np.float64))
    ds.dims[0].attach_scale(scale)
    return ds


def write_rows(path, *, attrs, params, settings=None, book, final, traj, step, docs=None,
               task_index=None, theory_columns=None):
    """Writes an iclsweep/3 file.
    attrs: root attributes beyond the computed ones (name, model, seed, grid dict, sweep, ...);
    params/settings: name -> column (list or array, T); book: replicate, key, seed, point, status
    (labels), and optionally cost, attempts, rank, wall_s, steps_done, error; final: metric -> [T];
    traj: metric -> [T, S]; step: [T, S] int (-1 padded); docs: name -> (description, units);
    theory_columns: column -> [T] for /theory (with attrs['theory'], the JSON text)."""
    docs = docs or {}
    T, S = np.asarray(step).shape
    status = np.array([STATUS[s] for s in book["status"]], dtype=np.uint8)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "iclsweep/3"
        for k, v in attrs.items():
            f.attrs[k] = json.dumps(v) if k == "grid" else v
        f.attrs["n_tasks"] = np.int64(T)
        f.attrs["n_log_points"] = np.int64(S)
        f.create_dataset("task", data=np.arange(T, dtype=np.int64) if task_index is None
                         else np.asarray(task_index, dtype=np.int64))
        f.create_dataset("log_point", data=np.arange(S, dtype=np.int64))
        f["task"].make_scale("task")
        f["log_point"].make_scale("log_point")
        tasks, fin, tr = f.create_group("tasks"), f.create_group("final"), f.create_group("traj")
        for name, col in list(params.items()) + list((settings or {}).items()):
            _doc(_column(tasks, name, col, f["task"]), *docs.get(name, (f"parameter {name}", "")))
        int_cols = {"replicate": np.int32, "key": np.uint64, "seed": np.uint64, "point": np.int64,
                    "attempts": np.uint8, "rank": np.int32, "steps_done": np.int64}
        defaults = {"cost": np.ones(T), "attempts": (status >= 2).astype(np.uint8),
                    "rank": np.where(status >= 2, 1, -1),
                    "wall_s": np.where(status >= 2, 0.5, np.nan),
                    "steps_done": np.where(status >= 2, 100, -1), "error": [""] * T}
        for name in ("replicate", "key", "seed", "point", "cost", "attempts", "rank", "wall_s",
                     "steps_done"):
            col = np.asarray(book.get(name, defaults.get(name)))
            ds = tasks.create_dataset(name, data=col.astype(int_cols.get(name, np.float64)))
            ds.dims[0].attach_scale(f["task"])
            _doc(ds, f"bookkeeping {name}", "s" if name == "wall_s" else "")
        ds = tasks.create_dataset("status", data=status, dtype=STATUS_T)
        ds.attrs["flag_values"] = np.arange(5, dtype=np.uint8)
        ds.attrs["flag_meanings"] = "pending running done failed diverged"
        ds.dims[0].attach_scale(f["task"])
        _doc(ds, "the task's state")
        _doc(_text_dataset(tasks, "error", list(book.get("error", defaults["error"])), 96),
             "why a task failed or diverged")
        tasks["error"].dims[0].attach_scale(f["task"])
        for name, col in final.items():
            ds = fin.create_dataset(name, data=np.asarray(col, dtype=np.float64))
            ds.dims[0].attach_scale(f["task"])
            _doc(ds, *docs.get(name, (f"metric {name}", "")))
        ds = tr.create_dataset("step", data=np.asarray(step, dtype=np.int64))
        _doc(ds, "training step of each log point", "steps")
        for name, col in traj.items():
            tr.create_dataset(name, data=np.asarray(col, dtype=np.float64))
            _doc(tr[name], *docs.get(name, (f"metric {name}", "")))
        for name in tr:
            tr[name].dims[0].attach_scale(f["task"])
            tr[name].dims[1].attach_scale(f["log_point"])
        write_theory(f, theory_columns or {}, docs)
        f.attrs["layout_complete"] = np.int64(1)


def write_theory(f, columns, docs=None):
    """The /theory datasets as the engine writes them: float64 [task], on the task scale, with
    description and units (NaN where a line does not apply)."""
    if not columns:
        return
    g = f.require_group("theory")
    for name, col in columns.items():
        ds = g.create_dataset(name, data=np.asarray(col, dtype=np.float64))
        ds.dims[0].attach_scale(f["task"])
        _doc(ds, *(docs or {}).get(name, (f"theory line {name}", "")))


def task_key(model, params, rep):
    """A stand-in identity: a hash of the model, the parameters (sorted) and the replicate."""
    text = model + ";" + ";".join(f"{k}={params[k]!r}" for k in sorted(params)) + f";{rep}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def sweep_yaml(name, model, seed, replicates, fixed, dims):
    """A sweep file for the grid (lists only), as the engine would have read it."""
    lines = [f"name: {name}", f"model: {model}", f"seed: {seed}", f"replicates: {replicates}"]
    if fixed:
        lines.append("fixed: {" + ", ".join(f"{k}: {v!r}" if not isinstance(v, str) else f"{k}: {v}"
                                            for k, v in fixed.items()) + "}")
    plain = [(n, p) for n, p, z in dims if not z]
    zips = [(n, p) for n, p, z in dims if z]
    if plain:
        lines.append("grid:")
        lines += [f"  {n}: [{', '.join(repr(v) if not isinstance(v, str) else v for v in p[n])}]"
                  for n, p in plain]
    for _, p in zips:
        lines.append("zip:")
        lines += [f"  {k}: [{', '.join(repr(v) for v in vals)}]" for k, vals in p.items()]
    return "\n".join(lines) + "\n"


def grid_sweep(path, *, dims, replicates, fixed=None, model="concept", name="fixture", seed="7",
               generator="fixture/1 rng/1", final=None, traj=None, steps=(0, 10, 20),
               status=None, error=None, skip=None, docs=None, settings=None, derived=None,
               extra_attrs=None, theory=None, theory_columns=None):
    """Writes a sweep over dims = [(dim name, {param: values}, is_zip), ...] (slowest first).
    final: metric -> f(row) -> float; traj: metric -> f(row) -> [S] values (row holds the
    parameters, replicate and point); steps: common log steps, or f(row) -> steps (padded with
    -1 to the longest); status/error: f(row) -> label / text (default done / "");
    skip: f(row) -> True for grid points without a task (skip_invalid); settings: name ->
    f(row) -> value for <name>_setting columns; derived: name -> f(row) -> value for parameters
    a model derives from others (written as used); theory: the `theory` attribute (a dict,
    written as JSON); theory_columns: column -> f(row) -> value for /theory. Returns the list of
    row dicts written."""
    fixed = fixed or {}
    sizes = [len(next(iter(p.values()))) for _, p, _ in dims]
    rows = []
    for point, pos in enumerate(itertools.product(*[range(s) for s in sizes])):
        params = dict(fixed)
        for (dname, p, _), j in zip(dims, pos):
            params.update({k: v[j] for k, v in p.items()})
        if skip and skip(params):
            continue
        for k, fn in (derived or {}).items():
            params[k] = fn(params)
        for rep in range(replicates):
            rows.append(dict(params, replicate=rep, point=point))
    T = len(rows)
    names = list(fixed) + [k for _, p, _ in dims for k in p] + list(derived or {})
    step_rows = [list(steps(r)) if callable(steps) else list(steps) for r in rows]
    S = max(len(s) for s in step_rows)
    step = np.array([s + [-1] * (S - len(s)) for s in step_rows], dtype=np.int64)
    labels = [status(r) if status else "done" for r in rows]
    done = np.array([s == "done" for s in labels])
    keys = [task_key(model, {k: r[k] for k in names}, r["replicate"]) for r in rows]
    book = {"replicate": [r["replicate"] for r in rows], "key": keys,
            "seed": [task_key(seed, {}, k) for k in keys], "point": [r["point"] for r in rows],
            "status": labels, "error": [error(r) if error else "" for r in rows]}
    fin = {m: np.where(done, [fn(r) for r in rows], np.nan) for m, fn in (final or {}).items()}
    tr = {}
    for m, fn in (traj or {}).items():
        arr = np.full((T, S), np.nan)
        for t, r in enumerate(rows):
            if done[t]:
                v = list(fn(r))
                arr[t, :len(v)] = v
        tr[m] = arr
    grid = {"dims": [{"name": n, "params": list(p), "size": s, "zip": z}
                     for (n, p, z), s in zip(dims, sizes)],
            "n_points": int(np.prod(sizes)), "replicates": replicates}
    attrs = {"name": name, "model": model, "seed": seed, "generator": generator,
             "sweep": sweep_yaml(name, model, seed, replicates, fixed, dims),
             "spec_hash": "0123456789abcdef", "replicates": np.int64(replicates), "grid": grid,
             "iclsweep_version": "0.1.0", "git_commit": "abc1234", "mpi_version": "test MPI",
             "hdf5_version": "1.10.8", "blas_version": "test BLAS",
             "created": "2024-01-01T00:00:00Z", "readme": "a test file"}
    if theory is not None:
        attrs["theory"] = json.dumps(theory)
    attrs.update(extra_attrs or {})
    write_rows(path, attrs=attrs, params={k: [r[k] for r in rows] for k in names},
               settings={f"{k}_setting": [fn(r) for r in rows]
                         for k, fn in (settings or {}).items()},
               book=book, final=fin, traj=tr, step=step, docs=docs,
               theory_columns={c: [fn(r) for r in rows] for c, fn in (theory_columns or {}).items()})
    return rows
