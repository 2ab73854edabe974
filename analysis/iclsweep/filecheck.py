"""What a readable result file is (docs/file-format.md), checked before anything is read: the
Python reader's side of the C store's checks (src/store/read.c, schema.c).

A result file is input like any other: damaged on disk, or crafted. So before the reader trusts a
byte of it, `probe(path)` opens it in a forked child (contain.isolated), reads every attribute of
every object there (what could crash HDF5 crashes the child, not the reader) and runs
`check_open` on it:
- the path is a regular file; the file holds hard links only, each object under one name (no soft
  link that would make one metric read as another, no external link into another file or a FIFO);
- the root attributes are single values of their types, text valid UTF-8, counts in range, the
  format one this reader reads, the creation finished (layout_complete 1), grid and theory JSON of
  the expected shapes;
- every dataset of /tasks, /traj, /final, /theory and the coordinates is of its type in its whole
  layout (a float of 8 bytes with another mantissa is refused), of shape [T] or [T, S], stored
  contiguously, allocated and inside the file; /tasks/status is the state enum with values in it,
  and /task increases.
Every refusal is a NotAnIclsweepFile whose one line names the file and what is wrong, with text
from the file escaped for a terminal. The verdict is kept per file identity (device, inode, size,
modification time), so load(), load_traj() and the cube probe a file once.
"""
from __future__ import annotations

import json
import os
import stat

import h5py
import numpy as np

from . import contain
from . import theory as theory_mod

FORMAT = "iclsweep/3"
READ_FORMATS = (FORMAT, "iclsweep/2")
STATUS_MEMBERS = {"pending": 0, "running": 1, "done": 2, "failed": 3, "diverged": 4}
MAX_TASKS = 10**9
MAX_LINKS = 10**6
MAX_TEXT_CELL = 4096
REQUIRED_ATTRS = ("format", "name", "model", "seed", "grid", "n_tasks", "n_log_points", "replicates")
REQUIRED_TASK_COLUMNS = ("replicate", "key", "seed", "point", "status")


class NotAnIclsweepFile(ValueError):
    """The path is not a readable iclsweep result file; the message names the file and why."""


def fail(path, what):
    """A NotAnIclsweepFile for path, its message escaped for a terminal."""
    return NotAnIclsweepFile(contain.escape(f"{path}: {what}"))


# ---- attributes -----------------------------------------------------------------------------------

def attr_text(value, path, name):
    """A text attribute's value as str: one value, valid UTF-8; else NotAnIclsweepFile."""
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise fail(path, f"the root attribute {name} is not a single value")
        value = value[()]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise fail(path, f"the root attribute {name} is not UTF-8 text ({e.reason} at byte "
                             f"{e.start})") from None
    if isinstance(value, str):
        return value
    raise fail(path, f"the root attribute {name} is not text")


def attr_int(value, path, name, lo, hi):
    """An integer attribute's value: one integer in [lo, hi]; else NotAnIclsweepFile."""
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise fail(path, f"the root attribute {name} is not a single integer")
        value = value[()]
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise fail(path, f"the root attribute {name} is not a single integer")
    if not lo <= int(value) <= hi:
        raise fail(path, f"the root attribute {name} is {int(value)}; expected {lo}..{hi}")
    return int(value)


def root_attrs(f, path):
    """Every root attribute as a Python value: text decoded (strict UTF-8, else refused naming the
    attribute), numbers as Python numbers, other values as they are."""
    out = {}
    for name in f.attrs:
        value = f.attrs[name]
        if isinstance(value, bytes) or (isinstance(value, np.ndarray) and value.shape == ()
                                        and isinstance(value[()], bytes)):
            value = attr_text(value, path, name)
        elif isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, np.generic):
            value = value.item()
        out[name] = value
    return out


def _check_grid(grid, path):
    """The grid attribute's parsed JSON has the shape the reader uses."""
    dims = grid.get("dims") if isinstance(grid, dict) else None
    ok = isinstance(dims, list) and all(
        isinstance(d, dict) and isinstance(d.get("name"), str) and isinstance(d.get("params"), list)
        and all(isinstance(p, str) for p in d["params"]) and isinstance(d.get("size"), int)
        and not isinstance(d.get("size"), bool) and d["size"] >= 1 and isinstance(d.get("zip", False), bool)
        for d in dims)
    if not ok:
        raise fail(path, "the 'grid' attribute does not describe dimensions (dims: name, params, "
                         "size, zip)")


def header(f, path):
    """The checked root attributes: (attrs, T, S, grid, theory or None)."""
    if "format" not in f.attrs:
        raise fail(path, "not an iclsweep result file (no 'format' attribute at the root)")
    attrs = root_attrs(f, path)
    fmt = attr_text(f.attrs["format"], path, "format")
    if fmt not in READ_FORMATS:
        hint = (": it was written by another iclsweep; read it with that one, or run the sweep again"
                if fmt.startswith("iclsweep/") else "")
        raise fail(path, f"format is '{fmt}', this reader reads {', '.join(READ_FORMATS)}{hint}")
    if "layout_complete" not in f.attrs:
        raise fail(path, "the file was never completely created (no 'layout_complete' attribute): "
                         "the run creating it was stopped; iclsweep run SWEEP -o FILE --resume "
                         "starts it again")
    if attr_int(f.attrs["layout_complete"], path, "layout_complete", 0, 1) != 1:
        raise fail(path, "the root attribute layout_complete is not 1 (damaged or forged)")
    missing = [a for a in REQUIRED_ATTRS if a not in f.attrs]
    if missing:
        raise fail(path, f"root attribute(s) {', '.join(missing)} missing")
    for name in ("name", "model", "seed", "grid"):
        attr_text(f.attrs[name], path, name)
    T = attr_int(f.attrs.get("n_tasks"), path, "n_tasks", 1, MAX_TASKS)
    S = attr_int(f.attrs.get("n_log_points"), path, "n_log_points", 1, MAX_TASKS)
    attr_int(f.attrs.get("replicates"), path, "replicates", 1, MAX_TASKS)
    try:
        grid = json.loads(attrs["grid"])
    except ValueError as e:
        raise fail(path, f"the 'grid' attribute is not JSON ({e})") from None
    _check_grid(grid, path)
    spec = None
    if "theory" in attrs:
        try:
            spec = theory_mod.parse(attr_text(f.attrs["theory"], path, "theory"))
        except (ValueError, TypeError, AttributeError) as e:
            raise fail(path, str(e)) from None
    return attrs, T, S, grid, spec


# ---- links ----------------------------------------------------------------------------------------

_LINK_WORDS = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL: "an external link (into "
               "another file)"}


def check_links(f, path):
    """Refuses any link but a hard one, and any object reached by more than one name; follows
    no link to find out."""
    seen = [0]
    problem = []

    def visit(name, info):
        seen[0] += 1
        shown = "/" + name.decode("utf-8", errors="backslashreplace")
        if seen[0] > MAX_LINKS:
            problem.append(f"more than {MAX_LINKS} objects; not a result file")
        elif info.type != h5py.h5l.TYPE_HARD:
            problem.append(f"{shown} is {_LINK_WORDS.get(info.type, 'a user-defined link')}; a "
                           f"result file holds no links")
        else:
            rc = h5py.h5o.get_info(f.id, name).rc
            if rc != 1:
                problem.append(f"{shown} is one of {rc} names of one object (hard links); a result "
                               f"file holds no links")
        return 1 if problem else None

    f.id.links.visit(visit, info=True)
    if problem:
        raise fail(path, problem[0])


# ---- datasets -------------------------------------------------------------------------------------

_STANDARD = {"i8": h5py.h5t.STD_I64LE, "i4": h5py.h5t.STD_I32LE, "u8": h5py.h5t.STD_U64LE,
             "u1": h5py.h5t.STD_U8LE, "f8": h5py.h5t.IEEE_F64LE}


def _type_name(ds):
    t = ds.id.get_type()
    for name, std in _STANDARD.items():
        if t.equal(std):
            return name
    cls = t.get_class()
    if cls == h5py.h5t.ENUM:
        return "enum"
    if cls == h5py.h5t.STRING:
        return "vlen text" if t.is_variable_str() else "text"
    if cls == h5py.h5t.FLOAT:
        return "float of another layout"
    if cls == h5py.h5t.INTEGER:
        return "integer of another layout"
    return "another type"


def _storage_inside(ds, file_size):
    """Contiguous, allocated, its bytes exactly the dataset's, inside the file."""
    try:
        if ds.id.get_create_plist().get_layout() != h5py.h5d.CONTIGUOUS:
            return False
        offset = ds.id.get_offset()
        size = ds.id.get_storage_size()
    except (OSError, ValueError, RuntimeError):
        return False
    return offset is not None and size == ds.id.get_type().get_size() * int(np.prod(ds.shape)) \
        and offset + size <= file_size


def _dataset(f, group, name, path):
    """f[group/name] as a dataset, refusing a group or anything else in its place."""
    obj = f[group][name] if group else f[name]
    if not isinstance(obj, h5py.Dataset):
        raise fail(path, f"/{group + '/' if group else ''}{name} is not a dataset")
    return obj


_WORDS = {"i8": "64-bit integers", "i4": "32-bit integers", "u8": "unsigned 64-bit integers",
          "u1": "unsigned bytes", "f8": "IEEE 754 little-endian doubles", "enum": "an enum",
          "text": "fixed-length text", "vlen text": "variable-length text",
          "float of another layout": "floating-point numbers of another layout (byte order, "
                                     "precision, exponent or mantissa)",
          "integer of another layout": "integers of another byte order or size",
          "another type": "values of another type"}


def _check_dataset(ds, shown, allowed, shape, file_size, path):
    kind = _type_name(ds)
    if kind not in allowed:
        raise fail(path, f"dataset {shown} holds {_WORDS[kind]}; expected "
                         f"{' or '.join(_WORDS[k] for k in sorted(allowed))}")
    if ds.shape != shape:
        raise fail(path, f"dataset {shown} has shape {ds.shape}, the file's n_tasks and "
                         f"n_log_points say {shape}")
    if kind == "text" and ds.id.get_type().get_size() > MAX_TEXT_CELL:
        raise fail(path, f"dataset {shown} holds text cells of more than {MAX_TEXT_CELL} bytes")
    if not _storage_inside(ds, file_size):
        raise fail(path, f"dataset {shown}'s storage is not the contiguous rows the file claims "
                         f"(truncated or forged)")
    return kind


def _check_status(ds, T, path):
    mapping = h5py.check_enum_dtype(ds.dtype)
    if mapping is None or {k: int(v) for k, v in mapping.items()} != STATUS_MEMBERS \
            or ds.dtype.itemsize != 1:
        raise fail(path, "dataset /tasks/status holds an enum whose members or values are not "
                         "pending 0, running 1, done 2, failed 3, diverged 4")
    values = ds[()]
    if values.size and int(values.max()) >= len(STATUS_MEMBERS):
        row = int(np.argmax(values >= len(STATUS_MEMBERS)))
        raise fail(path, f"/tasks/status of row {row} is {int(values[row])}, not a task state")


GROUPS = (("tasks", "cell"), ("final", "f8"), ("traj", "row"), ("theory", "f8"))
TASK_TYPES = {"i8", "i4", "u8", "u1", "f8", "text", "enum"}


def check_datasets(f, path, T, S):
    """Every dataset the reader reads: its type, shape and storage (see the header)."""
    file_size = os.path.getsize(path)
    for group, _ in GROUPS:
        if group in ("tasks", "final", "traj") or group in f:
            if not isinstance(f.get(group), h5py.Group):
                raise fail(path, f"not a complete iclsweep file: no group /{group}")
    for name, shape in (("task", (T,)), ("log_point", (S,))):
        if name in f:
            _check_dataset(_dataset(f, "", name, path), "/" + name, {"i8"}, shape, file_size, path)
    missing = [c for c in REQUIRED_TASK_COLUMNS if c not in f["tasks"]]
    if "step" not in f["traj"]:
        missing.append("/traj/step")
    if missing:
        raise fail(path, f"dataset(s) {', '.join(missing)} missing from /tasks")
    for group, kind in GROUPS:
        if group not in f:
            continue
        for name in f[group]:
            ds = _dataset(f, group, name, path)
            shown = f"/{group}/{name}"
            if group == "tasks":
                got = _check_dataset(ds, shown, TASK_TYPES, (T,), file_size, path)
                if got == "enum" and name != "status":
                    raise fail(path, f"dataset {shown} holds an enum; only /tasks/status does")
            elif group == "traj":
                _check_dataset(ds, shown, {"i8"} if name == "step" else {"f8"}, (T, S), file_size, path)
            else:
                _check_dataset(ds, shown, {"f8"}, (T,), file_size, path)
    _check_status(f["tasks/status"], T, path)
    if "task" in f:
        task = f["task"][()]
        if (task < 0).any() or (np.diff(task) <= 0).any():
            raise fail(path, "/task does not increase from row to row (the file is damaged)")


# The attributes of a dataset the reader reads (the rest, such as HDF5's dimension lists, it never
# touches, and neither does the probe).
DATASET_ATTRS = ("description", "units", "_Encoding", "flag_values", "flag_meanings", "covers")


def _read_attributes(f):
    """Reads once every attribute the reader will read (all of the root's, the documented ones of
    each dataset), so that what would crash HDF5 on a crafted file crashes the probe's child,
    never the reader."""
    def attrs_of(obj, names):
        for name in names:
            try:
                if name in obj.attrs:
                    obj.attrs[name]
            except (OSError, ValueError, TypeError, RuntimeError, KeyError):
                pass
    attrs_of(f, list(f.attrs))
    for group, _ in GROUPS:
        if isinstance(f.get(group), h5py.Group):
            for name in f[group]:
                attrs_of(f[group][name], DATASET_ATTRS)


def check_open(f, path):
    """All the checks of the header on an open file; returns (attrs, T, S, grid, theory)."""
    check_links(f, path)
    out = header(f, path)
    check_datasets(f, path, out[1], out[2])
    return out


def _probe_here(path):
    """The child's work: open, read every attribute, check. None, or raises NotAnIclsweepFile."""
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as e:
        raise fail(path, f"not an iclsweep result file: HDF5 cannot open it ({e})") from None
    with f:
        check_links(f, path)  # before anything is read through a link
        _read_attributes(f)
        _, T, S, _, _ = header(f, path)
        check_datasets(f, path, T, S)
    return None


_verdicts = {}


def _identity(path):
    st = os.stat(path)
    return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def probe(path):
    """Refuses (NotAnIclsweepFile, FileNotFoundError) what the reader must not read: anything but a
    regular file, and a file that fails check_open or crashes or stalls HDF5 in a child."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{contain.escape(path)}: no such file") from None
    except OSError as e:
        raise fail(path, f"cannot read it ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise fail(path, "not a regular file; a result file is an HDF5 file")
    key = _identity(path)
    if _verdicts.get(key) is True:
        return
    try:
        contain.isolated(_probe_here, path)
    except contain.Crashed as e:
        if e.signal == 14:  # SIGALRM
            raise fail(path, "the HDF5 library was still reading it when its time ran out "
                             "(looping on damaged or crafted metadata?); it cannot be used") from None
        raise fail(path, f"the HDF5 library crashed reading it (signal {e.signal}): the file is "
                         f"damaged or crafted and cannot be used") from None
    except contain.ChildError as e:
        if e.kind == "NotAnIclsweepFile":
            raise NotAnIclsweepFile(str(e)) from None
        raise fail(path, f"damaged or unreadable ({e.kind}: {e})") from None
    _verdicts[key] = True
