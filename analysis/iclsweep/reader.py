"""Reading iclsweep result files (format iclsweep/3, docs/file-format.md) into pandas.

The file is the contract between the C engine and every analysis: /tasks, /final (one row per
task) and /traj (task x log point), named dimensions, a JSON `grid` attribute describing the
sweep's dimensions. This module opens files read-only without HDF5 file locking (a sweep may be
writing them), checks that they are iclsweep/3 files, and turns /tasks + /final into one tidy
DataFrame, one row per task; several files (shards, extended sweeps) combine by task identity.

Workload: a handful to ~10^6 tasks and a few dozen columns; /tasks and /final always fit in
memory and are read whole. /traj (tasks x log points x metrics) is read only by `load_traj` and
the cube (cube.py).

Only `done` rows are results: the final metrics of every other row are masked to NaN (unless
done_only=False), and a file that is not complete says so (a warning and DataFrame.attrs).

Files are input that may be damaged or crafted: each is checked in a child process before it is
read (filecheck.py), and every finished row is checked against its checksum (checksum.py); a row
that fails is not a result (it reads as failed, with the reason in `error`, and a
DamagedRowsWarning says so). Files of older formats have no checksums to check.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field

import h5py
import numpy as np
import pandas as pd

from . import checksum, contain, filecheck
from . import theory as theory_mod

FORMAT = filecheck.FORMAT
# Formats this reader reads: iclsweep/2 is iclsweep/3 without /theory.
READ_FORMATS = filecheck.READ_FORMATS

# The status enum of /tasks/status, in value order (also read back from the file's enum).
STATUS_LABELS = ("pending", "running", "done", "failed", "diverged")

# /tasks columns that are bookkeeping rather than model parameters (docs/file-format.md).
# A column the engine adds here or it is read as a model parameter (test_adapt checks a real file).
BOOKKEEPING = ("replicate", "key", "seed", "point", "cost", "status", "attempts", "rank", "wall_s",
               "steps_done", "error", "origin", "cpu_s", "peak_rss", "resumes", "ckpt_step",
               "checksum")
REQUIRED_TASK_COLUMNS = filecheck.REQUIRED_TASK_COLUMNS
REQUIRED_ATTRS = filecheck.REQUIRED_ATTRS

# When the same task (key) is in several files, the row kept is the most advanced one: done,
# then diverged, failed, running, pending; ties go to the file named first.
_STATUS_PRIORITY = {"done": 0, "diverged": 1, "failed": 2, "running": 3, "pending": 4}


NotAnIclsweepFile = filecheck.NotAnIclsweepFile


class IncompatibleFiles(ValueError):
    """Files that cannot be combined (another model, seed or data generator)."""


class IncompleteSweepWarning(UserWarning):
    """Some tasks of the file(s) are not done: statistics use the done ones only."""


class DamagedRowsWarning(UserWarning):
    """Some finished rows fail their checksum: they are not results (they read as failed)."""


@dataclass
class Column:
    """One dataset's documentation: its group, name, `description` and `units` attributes."""
    group: str
    name: str
    description: str = ""
    units: str = ""


@dataclass
class SweepFile:
    """What a result file says about itself (root attributes, grid, columns), without the data."""
    path: str
    attrs: dict
    grid: dict
    params: list            # model parameters in /tasks, as used
    settings: list          # <param>_setting columns (derived parameters as set)
    final: list             # /final metric names
    traj: list              # /traj metric names (without step)
    columns: dict = field(default_factory=dict)    # (group, name) -> Column
    theory: dict = None     # the parsed `theory` attribute (theory.py), None in older files
    theory_columns: list = field(default_factory=list)    # /theory dataset names
    checksums: bool = None  # the file has checksums (None until its rows are read)
    damaged: list = field(default_factory=list)    # rows failing their checksum

    @property
    def model(self):
        return self.attrs["model"]

    @property
    def name(self):
        return self.attrs["name"]

    @property
    def dims(self):
        """The grid's dimensions, slowest first: dicts with name, params, size, zip."""
        return self.grid.get("dims", [])

    @property
    def grid_params(self):
        """Every parameter the grid varies, in the order of its dimensions."""
        return [p for d in self.dims for p in d["params"]]


def _text(v):
    """An HDF5 attribute value as a Python value (text decoded, numpy scalars unwrapped)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, np.generic):
        return v.item()
    return v


@contextlib.contextmanager
def reading(path, what="the file"):
    """Turns the errors HDF5 raises on a damaged file (a bad block in the middle, a truncated
    dataset) into one NotAnIclsweepFile naming the file and what was being read."""
    try:
        yield
    except (NotAnIclsweepFile, FileNotFoundError):
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError,
            IndexError) as e:
        reason = str(e).strip() or type(e).__name__
        raise filecheck.fail(path, f"damaged or unreadable: reading {what} failed "
                                   f"({reason})") from None


def open_h5(path):
    """Opens path read-only without file locking (a running sweep may hold it), once a child
    process has checked it (filecheck.probe). Raises FileNotFoundError or NotAnIclsweepFile
    naming the file."""
    path = os.fspath(path)
    filecheck.probe(path)
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as e:
        raise filecheck.fail(path, f"not an iclsweep result file: HDF5 cannot open it ({e})") from None


def _doc_text(v):
    """A documentation attribute as str, whatever it holds (undecodable bytes shown escaped)."""
    v = _text(v) if not isinstance(v, bytes) else v.decode("utf-8", errors="backslashreplace")
    return str(v)


def _column(ds, group, name):
    return Column(group, name, _doc_text(ds.attrs.get("description", "")),
                  _doc_text(ds.attrs.get("units", "")))


def _check_layout(f, path):
    """Raises NotAnIclsweepFile saying what makes f not a complete, readable iclsweep file (the
    checks the probe ran in its child: filecheck.check_open)."""
    filecheck.check_open(f, path)


def inspect(path):
    """Reads a result file's description (attributes, grid, column names and docs) without its
    data. Raises NotAnIclsweepFile (naming the file and the problem) for anything else."""
    path = os.fspath(path)
    with open_h5(path) as f, reading(path, "its description"):
        # open_h5's probe checked the links and datasets of this very file (its identity)
        attrs, _, _, grid, theory = filecheck.header(f, path)
        names = list(f["tasks"].keys())
        settings = [n for n in names if n.endswith("_setting") and n[:-8] in names]
        params = [n for n in names if n not in BOOKKEEPING and n not in settings]
        groups = ("tasks", "final", "traj") + (("theory",) if "theory" in f else ())
        columns = {(g, n): _column(ds, g, n) for g in groups for n, ds in f[g].items()}
        final = list(f["final"].keys())
        traj = [n for n in f["traj"].keys() if n != "step"]
        theory_columns = list(f["theory"].keys()) if "theory" in f else []
    sf = SweepFile(path, attrs, grid, params, settings, final, traj, columns, theory,
                   theory_columns)
    if theory is not None:
        missing = [c for c in theory_mod.columns({"theory": theory}) if c not in theory_columns]
        if missing:
            raise filecheck.fail(path, f"the 'theory' attribute names /theory/"
                                       f"{', /theory/'.join(missing)}, which the file does not have")
    unknown = [p for p in sf.grid_params if p not in params]
    if unknown:
        raise filecheck.fail(path, f"the grid names parameter(s) {', '.join(unknown)} that "
                                   f"/tasks does not have")
    return sf


def read_column(ds):
    """A whole /tasks or /final dataset as numpy: text decoded to str, status to its labels' codes
    (the enum's integers), bool parameters (uint8 0/1) kept as stored."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        raw = ds[()]
        return np.array([(b.decode("utf-8") if isinstance(b, bytes) else str(b)).rstrip("\0")
                         for b in raw], dtype=object)
    return ds[()]


def _status(ds):
    """/tasks/status as a pandas Categorical over the enum's labels in value order."""
    codes = ds[()]
    mapping = h5py.check_enum_dtype(ds.dtype)
    if mapping is None:     # a tool that dropped the enum: fall back on flag_meanings
        meanings = _text(ds.attrs.get("flag_meanings", " ".join(STATUS_LABELS)))
        values = ds.attrs.get("flag_values", np.arange(len(STATUS_LABELS)))
        mapping = dict(zip(str(meanings).split(), np.asarray(values).tolist()))
    by_value = sorted(mapping.items(), key=lambda kv: kv[1])
    labels = [k for k, _ in by_value]
    lookup = np.full(max(v for _, v in by_value) + 1, -1)
    for i, (_, v) in enumerate(by_value):
        lookup[v] = i
    return pd.Categorical.from_codes(lookup[codes], categories=labels)


def _is_bool_param(ds, name, sf):
    return name in sf.params + sf.settings and ds.dtype == np.uint8


def _read_one(sf):
    """One file's /tasks and /final as a DataFrame (unmasked), with `task` from the /task scale and
    `_row` (the row in the file) for the trajectories."""
    with open_h5(sf.path) as f, reading(sf.path, "/tasks, /final and /theory"):
        tasks = f["tasks"]
        cols = {}
        T = int(sf.attrs["n_tasks"])
        cols["task"] = f["task"][()] if "task" in f else np.arange(T)
        for name, ds in tasks.items():
            if name == "status":
                cols[name] = _status(ds)
            elif _is_bool_param(ds, name, sf):
                cols[name] = ds[()].astype(bool)
            else:
                cols[name] = read_column(ds)
        clash = [m for m in sf.final if m in cols]
        for m in sf.final:
            cols["final_" + m if m in clash else m] = f["final"][m][()]
        for c in sf.theory_columns:
            cols[theory_mod.PREFIX + c] = f["theory"][c][()].astype(float)
        _check_finished_rows(f, sf, cols)
    df = pd.DataFrame(cols)
    df["_row"] = np.arange(T)
    return df


def _check_finished_rows(f, sf, cols):
    """Checks every finished row against its checksum (read after the status: what a running sweep
    writes before a row's status is there); a row that fails is no result: its status becomes
    failed and its error says why. Notes on sf whether the file has checksums and which rows
    failed."""
    status = cols["status"]
    values = np.array([filecheck.STATUS_MEMBERS[c] for c in status.categories], dtype=np.uint8)
    codes = values[status.codes]
    try:
        bad = checksum.check_file_rows(f, sf.path, codes, BOOKKEEPING)
    except checksum.ChecksumsUnreadable as e:
        raise filecheck.fail(sf.path, str(e).split(": ", 1)[-1]) from None
    sf.checksums = bad is not None
    sf.damaged = [] if bad is None else [int(r) for r in np.nonzero(bad)[0]]
    if not sf.damaged:
        return
    cols["status"] = pd.Categorical(np.where(bad > 0, "failed", np.asarray(status, dtype=object)),
                                    categories=status.categories)
    error = np.asarray(cols.get("error", np.full(len(codes), "", dtype=object)), dtype=object).copy()
    for r in sf.damaged:
        error[r] = "damaged: " + checksum.WHY[int(bad[r])]
    cols["error"] = error


def _check_compatible(sfs):
    """Raises IncompatibleFiles when the files are not of one sweep family (model, seed,
    generator)."""
    first = sfs[0]
    for sf in sfs[1:]:
        for attr in ("model", "seed", "generator"):
            a, b = first.attrs.get(attr), sf.attrs.get(attr)
            if a != b:
                raise IncompatibleFiles(
                    f"cannot combine {first.path} and {sf.path}: {attr} '{a}' vs '{b}' (results "
                    f"combine by task identity only within one model, sweep seed and data "
                    f"generator)")


def _combine(frames):
    """Concatenates per-file frames and keeps one row per task identity (key): the most advanced
    status, ties to the earlier file. Adds `_file` (index into the list of files)."""
    for i, df in enumerate(frames):
        df["_file"] = i
    df = pd.concat(frames, ignore_index=True)
    if len(frames) == 1:
        return df
    prio = df["status"].astype(str).map(_STATUS_PRIORITY).fillna(9)
    order = np.lexsort((np.arange(len(df)), prio.to_numpy()))
    keep = df.iloc[order].drop_duplicates("key", keep="first").index
    return df.loc[np.sort(keep)].reset_index(drop=True)


def counts(status):
    """Tasks per status label (every label, zeros included), as a dict."""
    c = pd.Series(status).value_counts()
    return {label: int(c.get(label, 0)) for label in STATUS_LABELS}


def completion_text(n_by_status, where=""):
    """'12 of 30 tasks done (18 pending)' style summary of a counts() dict."""
    total = sum(n_by_status.values())
    rest = [f"{n} {label}" for label, n in n_by_status.items() if label != "done" and n]
    text = f"{n_by_status['done']} of {total} tasks done"
    if rest:
        text += " (" + ", ".join(rest) + ")"
    return (where + ": " if where else "") + text


def _warn_incomplete(paths, n_by_status):
    if n_by_status["done"] < sum(n_by_status.values()):
        warnings.warn(completion_text(n_by_status, ", ".join(paths)) +
                      "; only done tasks are results", IncompleteSweepWarning, stacklevel=3)


def damage_text(sfs):
    """'FILE: rows 3, 5 fail their checksums' for each file with damaged rows ('' when none)."""
    parts = []
    for sf in sfs:
        if sf.damaged:
            rows = ", ".join(str(r) for r in sf.damaged[:8]) + (", ..." if len(sf.damaged) > 8 else "")
            parts.append(f"{sf.path}: {len(sf.damaged)} finished row(s) fail their checksums "
                         f"(rows {rows}; iclsweep verify names each): they are not results")
    return contain.escape("; ".join(parts))


def _warn_damaged(sfs):
    text = damage_text(sfs)
    if text:
        warnings.warn(text, DamagedRowsWarning, stacklevel=3)


def as_list(paths):
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no result file given")
    return paths


def read(paths):
    """(list of SweepFile, combined unmasked DataFrame with _file and _row) for one or several
    files. Shared by load, load_traj and the cube."""
    paths = as_list(paths)
    sfs = [inspect(p) for p in paths]
    _check_compatible(sfs)
    return sfs, _combine([_read_one(sf) for sf in sfs])


def column_order(sfs, df):
    """task, grid parameters (grid order), other parameters, settings, bookkeeping, metrics."""
    grid = list(dict.fromkeys(p for sf in sfs for p in sf.grid_params))
    params = list(dict.fromkeys(p for sf in sfs for p in sf.params if p not in grid))
    settings = list(dict.fromkeys(s for sf in sfs for s in sf.settings))
    book = [c for c in BOOKKEEPING if c in df.columns]
    first = ["task"] + grid + params + settings + book
    return first + [c for c in df.columns if c not in first and not c.startswith("_")]


def final_names(sfs, df):
    """The /final metric columns of df (renamed final_<m> where a /tasks column has the name)."""
    names = list(dict.fromkeys(m for sf in sfs for m in sf.final))
    return [("final_" + m) if ("final_" + m) in df.columns else m for m in names]


def describe_files(sfs, n_by_status):
    """The attrs every reader result carries: the sweep, its provenance, how complete it is."""
    first = sfs[0]
    docs = {}
    for sf in sfs:
        for (group, name), col in sf.columns.items():
            docs.setdefault(name if group in ("tasks", "final") else f"{group}/{name}", col)
    return {
        "name": first.name, "model": first.model, "format": FORMAT,
        "files": [sf.path for sf in sfs], "seed": first.attrs.get("seed"),
        "generator": first.attrs.get("generator", ""), "grid": first.grid,
        "grid_params": list(dict.fromkeys(p for sf in sfs for p in sf.grid_params)),
        "params": list(dict.fromkeys(p for sf in sfs for p in sf.params)),
        "final_metrics": list(dict.fromkeys(m for sf in sfs for m in sf.final)),
        "traj_metrics": list(dict.fromkeys(m for sf in sfs for m in sf.traj)),
        "counts": n_by_status, "n_tasks": sum(n_by_status.values()),
        "n_done": n_by_status["done"],
        "complete": n_by_status["done"] == sum(n_by_status.values()),
        "columns": {k: {"description": c.description, "units": c.units}
                    for k, c in docs.items()},
        "root_attrs": first.attrs,
        "checksums": {sf.path: sf.checksums for sf in sfs},
        "damaged_rows": {sf.path: sf.damaged for sf in sfs if sf.damaged},
        "theory": first.theory,
        "theory_columns": [theory_mod.PREFIX + c for c in first.theory_columns],
    }


def load(paths, *, done_only=True, warn=True):
    """The sweep's tasks as a tidy DataFrame, one row per task.

    paths: one result file or a list of them (shards, extended sweeps), combined by task identity
    (`key`); files of another model, sweep seed or data generator are refused (IncompatibleFiles).
    Columns: task (index in the sweep), every parameter as used (grid parameters first),
    `<p>_setting` for derived parameters, replicate, key, seed, point, cost, status (Categorical
    over pending/running/done/failed/diverged), attempts, rank, wall_s, steps_done, error (str),
    then every final metric (NaN unless the task is done, when done_only), and `file` when several
    files were read. df.attrs: name, model, grid, counts by status, complete, column docs, ...
    A file with tasks not done gives an IncompleteSweepWarning (unless warn=False)."""
    sfs, df = read(paths)
    metrics = final_names(sfs, df)
    if done_only:
        df.loc[df["status"] != "done", metrics] = np.nan
    if len(sfs) > 1:
        df["file"] = [sfs[i].path for i in df["_file"]]
    out = df[column_order(sfs, df)].copy()
    n_by_status = counts(out["status"])
    out.attrs = describe_files(sfs, n_by_status)
    if warn:
        _warn_damaged(sfs)
        _warn_incomplete([sf.path for sf in sfs], n_by_status)
    return out


def load_traj(paths, *, metrics=None, done_only=True, warn=True):
    """Trajectories in long format: one row per (task, log point) with step >= 0.

    Columns: task, key, replicate, the grid parameters, status, partial, step, then every /traj
    metric (or those in `metrics`). partial is True on the rows of tasks still training (pending or
    running): they hold their log points up to the task's last checkpoint, NaN after it. When
    done_only, metrics are NaN on the rows of tasks that are neither done nor partial. attrs as in
    load()."""
    sfs, df = read(paths)
    names = list(dict.fromkeys(m for sf in sfs for m in sf.traj))
    if metrics is not None:
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise KeyError(f"no trajectory metric {', '.join(unknown)} in "
                           f"{', '.join(sf.path for sf in sfs)}; there are: {', '.join(names)}")
        names = list(metrics)
    grid = list(dict.fromkeys(p for sf in sfs for p in sf.grid_params))
    parts = []
    for i, sf in enumerate(sfs):
        rows = df[df["_file"] == i]
        if rows.empty:
            continue
        sel = rows["_row"].to_numpy()
        with open_h5(sf.path) as f, reading(sf.path, "/traj"):
            step = f["traj/step"][()][sel]
            data = {m: (f["traj"][m][()][sel] if m in f["traj"] else np.full(step.shape, np.nan))
                    for m in names}
        ti, li = np.nonzero(step >= 0)
        part = rows.iloc[ti][["task", "key", "replicate"] + grid + ["status"]]
        part = part.reset_index(drop=True)
        part["step"] = step[ti, li]
        for m in names:
            part[m] = data[m][ti, li]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["task", "key", "replicate"] + grid + ["status", "step"] + names)
    out.insert(out.columns.get_loc("step"), "partial", out["status"].isin(["pending", "running"]))
    if done_only and len(out):
        out.loc[(out["status"] != "done") & ~out["partial"], names] = np.nan
    n_by_status = counts(df["status"])
    out.attrs = describe_files(sfs, n_by_status)
    if warn:
        _warn_damaged(sfs)
        _warn_incomplete([sf.path for sf in sfs], n_by_status)
    return out
