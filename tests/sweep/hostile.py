"""Crafted result files: one valid file from a real sweep, then one mutation per case, each of a
kind a damaged or hostile file could hold (an array where a scalar belongs, a string where a number
belongs, an enum with other members, storage that claims more rows than the file has, ...).

Used by tests/sweep/test_hostile.py (status and run --resume must refuse each with exit 2, never
crash or hang) and as the seed corpus of the result-file fuzzer (tests/fuzz/). INTEGRITY_CASES
(issue 20: links, float layouts, damaged coordinates, unfinished creations, damaged rows) are built
by build_integrity and checked by tests/sweep/test_integrity.py, each with what status and a
resume must answer.
Build the corpus by hand: /usr/bin/python3 tests/sweep/hostile.py VALID.h5 OUT_DIR
"""
import os
import shutil
import sys

import h5py
import numpy as np


def replace(f, name, data=None, dtype=None, **kw):
    """Deletes dataset `name` and writes it again as data (with dtype), keeping its attributes."""
    attrs = dict(f[name].attrs)
    attrs.pop("DIMENSION_LIST", None)
    del f[name]
    ds = f.create_dataset(name, data=data, dtype=dtype, **kw)
    for k, v in attrs.items():
        ds.attrs[k] = v


def set_attr(f, name, value, dtype=None):
    if name in f.attrs:
        del f.attrs[name]
    if dtype is None:
        f.attrs[name] = value
    else:
        f.attrs.create(name, value, dtype=dtype)


def other_enum(T, extra=False, names=None):
    names = names or ["pending", "running", "done", "failed", "diverged"]
    members = {n: i for i, n in enumerate(names)}
    if extra:
        members["zombie"] = len(members)
    return np.full(T, 2, dtype="u1"), h5py.enum_dtype(members, basetype="u1")


STR = h5py.string_dtype()

# name -> (mutation, the commands that read what it breaks: "status", "resume" or both; status reads
# /traj and /final too, to check finished rows against their checksums)
CASES = {
    "format_array": (lambda f, T: set_attr(f, "format", ["iclsweep/2"] * 64, STR), "both"),
    "sweep_array": (lambda f, T: set_attr(f, "sweep", ["model: concept"] * 64, STR), "both"),
    "model_array": (lambda f, T: set_attr(f, "model", ["concept"] * 64, STR), "both"),
    "name_array": (lambda f, T: set_attr(f, "name", ["x"] * 64, STR), "both"),
    "seed_array": (lambda f, T: set_attr(f, "seed", ["7"] * 64, STR), "both"),
    "n_tasks_array": (lambda f, T: set_attr(f, "n_tasks", np.arange(64, dtype="i8")), "both"),
    "n_tasks_string": (lambda f, T: set_attr(f, "n_tasks", "8", STR), "both"),
    "n_tasks_huge": (lambda f, T: set_attr(f, "n_tasks", np.int64(10**9)), "both"),
    "n_tasks_negative": (lambda f, T: set_attr(f, "n_tasks", np.int64(-5)), "both"),
    "format_int": (lambda f, T: set_attr(f, "format", np.int64(2)), "both"),
    "format_missing": (lambda f, T: f.attrs.__delitem__("format"), "both"),
    "format_v1": (lambda f, T: set_attr(f, "format", "iclsweep/1"), "both"),
    "format_escape": (lambda f, T: set_attr(f, "format", "\x1b[2J\x1b[31mowned"), "both"),
    "layout_incomplete": (lambda f, T: f.attrs.__delitem__("layout_complete"), "both"),
    "name_escape": (lambda f, T: set_attr(f, "name", "\x1b]0;owned\x07\x1b[2J"), "none"),
    "status_u8": (lambda f, T: replace(f, "tasks/status", np.full(T, 2, dtype="u1")), "both"),
    "status_f8": (lambda f, T: replace(f, "tasks/status", np.full(T, 2.0)), "both"),
    "status_string": (lambda f, T: replace(f, "tasks/status", np.array(["done"] * T, dtype=object), STR), "both"),
    "status_2d": (lambda f, T: replace(f, "tasks/status", *other_enum_2d(T)), "both"),
    "status_other_enum": (lambda f, T: replace(f, "tasks/status", *other_enum(T, names=["a", "b", "c", "d", "e"])), "both"),
    "status_extra_member": (lambda f, T: replace(f, "tasks/status", *other_enum(T, extra=True)), "both"),
    "status_value_7": (lambda f, T: write_raw_status(f, 7), "both"),
    "status_chunked": (lambda f, T: replace(f, "tasks/status", *other_enum(T), chunks=(1,)), "both"),
    "traj_int8": (lambda f, T: replace(f, "traj/train_loss", np.zeros(f["traj/train_loss"].shape, dtype="i1")), "both"),
    "final_missing": (lambda f, T: f.__delitem__("final/test_err"), "both"),
    "traj_group_missing": (lambda f, T: f.__delitem__("traj"), "both"),
    "key_string": (lambda f, T: replace(f, "tasks/key", np.array(["k"] * T, dtype=object), STR), "both"),
    "key_2d": (lambda f, T: replace(f, "tasks/key", np.zeros((T, 2), dtype="u8")), "both"),
    "error_vlen": (lambda f, T: replace(f, "tasks/error", np.array([""] * T, dtype=object), STR), "both"),
    "error_escape": (lambda f, T: write_error(f, "\x1b[2J\x1b[31mowned"), "none"),
    "wall_string": (lambda f, T: replace(f, "tasks/wall_s", np.array(["1.0"] * T, dtype=object), STR), "both"),
    "task_scale_missing": (lambda f, T: f.__delitem__("task"), "both"),
    "tasks_group_missing": (lambda f, T: f.__delitem__("tasks"), "both"),
    "status_group_link": (lambda f, T: (f.__delitem__("tasks/status"), f.create_group("tasks/status")), "both"),
}


def other_enum_2d(T):
    data, dt = other_enum(T)
    return np.stack([data, data], axis=1), dt


def write_raw_status(f, value):
    """Writes a raw value outside the enum's members into row 0 (through a plain u1 view)."""
    ds = f["tasks/status"]
    ds.id.write(h5py.h5s.create_simple((1,)), _row0(ds), np.array([value], dtype="u1"),
                mtype=h5py.h5t.NATIVE_UINT8)


def _row0(ds):
    space = ds.id.get_space()
    space.select_hyperslab((0,), (1,))
    return space


def write_error(f, text):
    status = f["tasks/status"]
    data = status[:]
    data[0] = 3  # failed
    status[:] = data
    raw = np.zeros(1, dtype="S96")
    raw[0] = text.encode()
    err = f["tasks/error"]
    err.id.write(h5py.h5s.create_simple((1,)), _row0(err), raw, mtype=err.id.get_type())


def link(f, name, target):
    """Replaces dataset `name` by a link (h5py.SoftLink, ExternalLink, or a dataset: a hard link)."""
    del f[name]
    f[name] = target


def narrow_float(f, name):
    """Rewrites float64 dataset `name` with an 8-byte float type of another layout (a 20-bit mantissa;
    one flipped byte of the type message makes such a type): its values are stored rounded."""
    vals = f[name][()]
    del f[name]
    t = h5py.h5t.IEEE_F64LE.copy()
    t.set_fields(63, 52, 11, 32, 20)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.CONTIGUOUS)
    ds = h5py.h5d.create(f.id, name.encode(), t, h5py.h5s.create_simple(vals.shape), dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(vals, dtype="f8"))


def swapped_enum(f, T):
    """/tasks/status as an enum of the same labels with other values (done = 0, pending = 2)."""
    members = {"done": 0, "running": 1, "pending": 2, "failed": 3, "diverged": 4}
    replace(f, "tasks/status", np.zeros(T, dtype="u1"), h5py.enum_dtype(members, basetype="u1"))


def unfinished(f, T):
    """What a creation killed after its datasets were filled leaves: no layout_complete, every row
    pending, no results."""
    del f.attrs["layout_complete"]
    f["tasks/status"][...] = np.zeros(T, dtype="u1")
    for name in f["final"]:
        f["final"][name][...] = np.nan
    for name in f["traj"]:
        if name != "step":
            f["traj"][name][...] = np.nan


def bump(f, name, row=0, col=None):
    """Changes one value of a dataset in place (raw, keeping every other byte)."""
    ds = f[name]
    data = ds[()]
    idx = (row,) if col is None else (row, col)
    data[idx] = data[idx] + 1 if data.dtype.kind in "iu" else data[idx] * 1.5 + 0.25
    ds[...] = data


# name -> (mutation, status's exit code, run --resume's exit code, what the refusal names). A resume
# refused names the problem; 0: a resume finishes the file.
INTEGRITY_CASES = {
    "final_external_link": (lambda f, T: link(f, "final/test_err", h5py.ExternalLink("victim.h5", "/final/test_err")),
                            2, 2, "external link"),
    "status_external_link": (lambda f, T: link(f, "tasks/status", h5py.ExternalLink("victim.h5", "/tasks/status")),
                             2, 2, "external link"),
    "fifo_external_link": (lambda f, T: link(f, "final/test_err", h5py.ExternalLink("fifo", "/x")), 2, 2,
                           "external link"),
    "final_soft_link": (lambda f, T: link(f, "final/test_err", h5py.SoftLink("/final/train_err")), 2, 2, "soft link"),
    "traj_soft_link": (lambda f, T: link(f, "traj/test_err", h5py.SoftLink("/traj/train_err")), 2, 2, "soft link"),
    "traj_group_soft_link": (lambda f, T: link(f, "traj", h5py.SoftLink("/final")), 2, 2, "soft link"),
    "soft_link_cycle": (lambda f, T: f.__setitem__("traj/loop", h5py.SoftLink("/traj/loop")), 2, 2, "soft link"),
    "final_hard_link": (lambda f, T: link(f, "final/test_err", f["final/train_err"]), 2, 2, "hard links"),
    "traj_hard_link": (lambda f, T: link(f, "traj/test_err", f["traj/train_err"]), 2, 2, "hard links"),
    "final_narrow_float": (lambda f, T: narrow_float(f, "final/test_err"), 2, 2, "another layout"),
    "traj_narrow_float": (lambda f, T: narrow_float(f, "traj/train_loss"), 2, 2, "another layout"),
    "status_swapped_enum": (lambda f, T: swapped_enum(f, T), 2, 2, "members or values"),
    "layout_complete_zero": (lambda f, T: set_attr(f, "layout_complete", np.int64(0)), 2, 2, "layout_complete"),
    "task_values": (lambda f, T: f["task"].__setitem__(Ellipsis, np.arange(T)[::-1]), 2, 2, "/task"),
    "log_point_values": (lambda f, T: bump(f, "log_point", 3), 0, 2, "/log_point"),
    "unfinished": (unfinished, 3, 0, "never finished"),
    # a finished row's data changed after it was written: its checksum fails; status counts it as
    # damaged (work remains), a resume runs it again
    "final_nan_done": (lambda f, T: f["final/test_err"].__setitem__(3, np.nan), 3, 0, "row 3"),
    "final_value_done": (lambda f, T: bump(f, "final/test_err", 3), 3, 0, "row 3"),
    "traj_value_done": (lambda f, T: bump(f, "traj/train_loss", 3, 2), 3, 0, "row 3"),
    "step_value_done": (lambda f, T: bump(f, "traj/step", 3, 1), 3, 0, "row 3"),
    "param_done": (lambda f, T: bump(f, "tasks/noise", 5), 3, 0, "row 5"),
    "choice_param_done": (lambda f, T: f["tasks/label_map"].__setitem__(5, b"ranxom"), 3, 0, "row 5"),
    "key_done": (lambda f, T: bump(f, "tasks/key", 2), 3, 0, "row 2"),
    "steps_done_done": (lambda f, T: bump(f, "tasks/steps_done", 6), 3, 0, "row 6"),
    "checksum_done": (lambda f, T: bump(f, "tasks/checksum", 4), 3, 0, "row 4"),
    "done_to_diverged": (lambda f, T: f["tasks/status"].__setitem__(1, 4), 3, 0, "row 1"),
    "checksum_zero": (lambda f, T: f["tasks/checksum"].__setitem__(0, 0), 3, 0, "row 0"),
    # the checksums themselves unreadable: nothing can be trusted
    "covers_damaged": (lambda f, T: f["tasks/checksum"].attrs.__setitem__(
        "covers", f["tasks/checksum"].attrs["covers"].replace("final/test_err", "final/nothing")), 2, 2, "covers"),
    "covers_drops_metric": (lambda f, T: f["tasks/checksum"].attrs.__setitem__(
        "covers", f["tasks/checksum"].attrs["covers"].replace(" final/test_err", "")), 2, 2, "covers"),
    # an older format: no checksums to check; a resume rewrites it with them
    "older_format": (lambda f, T: (f["tasks"].__delitem__("checksum"), set_attr(f, "format", "iclsweep/2")), 0, 0,
                     "no checksums"),
}


def build_integrity(valid, out_dir):
    """Writes one mutated copy of `valid` per INTEGRITY_CASES entry into out_dir, beside victim.h5
    (a copy of valid, the target of the external links); returns {case: path}."""
    os.makedirs(out_dir, exist_ok=True)
    shutil.copyfile(valid, os.path.join(out_dir, "victim.h5"))
    with h5py.File(valid, "r") as f:
        T = int(f.attrs["n_tasks"])
    made = {}
    for name, (mutate, *_) in INTEGRITY_CASES.items():
        path = os.path.join(out_dir, name + ".h5")
        shutil.copyfile(valid, path)
        with h5py.File(path, "r+") as f:
            mutate(f, T)
        made[name] = path
    return made


def build(valid, out_dir):
    """Writes one mutated copy of `valid` per case into out_dir; returns {case: (path, who)}."""
    os.makedirs(out_dir, exist_ok=True)
    made = {}
    with h5py.File(valid, "r") as f:
        T = int(f.attrs["n_tasks"])
    for name, (mutate, who) in CASES.items():
        path = os.path.join(out_dir, name + ".h5")
        shutil.copyfile(valid, path)
        with h5py.File(path, "r+") as f:
            mutate(f, T)
        made[name] = (path, who)
    # A truncated file: the header is there, the data is not.
    path = os.path.join(out_dir, "truncated.h5")
    with open(valid, "rb") as src, open(path, "wb") as dst:
        data = src.read()
        dst.write(data[: len(data) // 2])
    made["truncated"] = (path, "both")
    return made


if __name__ == "__main__":
    for case, (path, who) in build(sys.argv[1], sys.argv[2]).items():
        print(case, path, who)
    for case, path in build_integrity(sys.argv[1], sys.argv[2]).items():
        print(case, path)
