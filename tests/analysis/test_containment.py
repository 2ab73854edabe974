"""The reader's containment (issue 20): damaged and crafted files give one NotAnIclsweepFile naming
the file and what is wrong, never a traceback of another kind, a crash of the process or a hang;
text from a file reaches a terminal escaped; finished rows are checked against their checksums
(the numpy function against a slow word-by-word reference written here).
Run by hand: PYTHONPATH=analysis /usr/bin/python3 -m pytest -q tests/analysis/test_containment.py
"""
import json
import os
import shutil
import signal
import sys
import time

import h5py
import numpy as np
import pytest

import iclsweep
from iclsweep import checksum, cli, contain, filecheck
from files import concept

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweep"))
import hostile  # noqa: E402  (the crafted cases' mutations)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    return str(path)


def refused(path, words):
    with pytest.raises(iclsweep.NotAnIclsweepFile) as e:
        iclsweep.load(path, warn=False)
    text = str(e.value)
    assert path in text and words in text and "\n" not in text, text
    return text


# ---- the child process ------------------------------------------------------------------------------

def test_isolated_returns_raises_crashes_and_times_out():
    assert contain.isolated(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(contain.ChildError, match="boom") as e:
        contain.isolated(lambda: (_ for _ in ()).throw(KeyError("boom")))
    assert e.value.kind == "KeyError"
    with pytest.raises(contain.Crashed) as e:
        contain.isolated(lambda: os.kill(os.getpid(), signal.SIGSEGV))
    assert e.value.signal == signal.SIGSEGV
    t0 = time.time()
    with pytest.raises(contain.Crashed) as e:
        contain.isolated(time.sleep, 60, timeout=1)
    assert e.value.signal == signal.SIGALRM and time.time() - t0 < 30


@pytest.mark.parametrize("name", ["hdf5_crash_global_heap.h5", "hdf5_loop_global_heap.h5"])
def test_files_that_crash_or_stall_hdf5(name, tmp_path, monkeypatch):
    """Files on which HDF5 itself crashes or loops (found by the C fuzzer): refused, the process
    lives on."""
    monkeypatch.setenv("ICLSWEEP_READ_TIMEOUT", "3")
    path = str(tmp_path / name)
    shutil.copyfile(os.path.join(DATA, name), path)
    t0 = time.time()
    refused(path, "")
    assert time.time() - t0 < 60


# ---- what a file must be ------------------------------------------------------------------------------

def test_not_a_regular_file(tmp_path):
    fifo = str(tmp_path / "fifo.h5")
    os.mkfifo(fifo)
    refused(fifo, "not a regular file")


@pytest.mark.parametrize("make, words", [
    (lambda f: f.__setitem__("final/alias", h5py.SoftLink("/final/test_err")), "soft link"),
    (lambda f: f.__setitem__("traj/loop", h5py.SoftLink("/traj/loop")), "soft link"),
    (lambda f: f.__setitem__("final/other", h5py.ExternalLink("fifo", "/x")), "external link"),
    (lambda f: f.__setitem__("final/twice", f["final/test_err"]), "2 names of one object"),
])
def test_links_are_refused(toy, tmp_path, make, words):
    os.mkfifo(tmp_path / "fifo")
    with h5py.File(toy, "a") as f:
        make(f)
    refused(toy, words)


def set_status(f, row, value):
    ds = f["tasks/status"]
    space = ds.id.get_space()
    space.select_hyperslab((row,), (1,))
    ds.id.write(h5py.h5s.create_simple((1,)), space, np.array([value], "u1"), mtype=h5py.h5t.NATIVE_UINT8)


@pytest.mark.parametrize("damage, words", [
    (lambda f: hostile.narrow_float(f, "final/test_err"), "another layout"),
    (lambda f: set_status(f, 3, 200), "/tasks/status of row 3 is 200"),
    (lambda f: f.attrs.__setitem__("name", np.bytes_(b"caf\xe9 \xff")), "attribute name is not UTF-8"),
    (lambda f: f.attrs.__setitem__("grid", json.dumps([1, 2])), "does not describe dimensions"),
    (lambda f: f.attrs.__setitem__("grid", json.dumps({"dims": [{"name": "K", "params": [3], "size": 2}]})),
     "does not describe dimensions"),
    (lambda f: f.attrs.__setitem__("theory", json.dumps({"levels": 3})), "levels is not a list"),
    (lambda f: f.attrs.__setitem__("n_tasks", np.arange(3)), "n_tasks is not a single integer"),
    (lambda f: f.attrs.__setitem__("layout_complete", np.int64(0)), "layout_complete is not 1"),
    (lambda f: f.attrs.__setitem__("format", "iclsweep/9"), "format is 'iclsweep/9'"),
    (lambda f: f["task"].__setitem__(Ellipsis, f["task"][()][::-1]), "/task does not increase"),
])
def test_damaged_files_one_line(toy, damage, words):
    """Each was a traceback (TypeError, AttributeError, IndexError, a codec error without the file's
    name) or a silent conversion before."""
    with h5py.File(toy, "a") as f:
        damage(f)
    refused(toy, words)


def test_older_format_reads(toy):
    """iclsweep/2 files are read (the reader named iclsweep/3 twice and refused them)."""
    with h5py.File(toy, "a") as f:
        f.attrs["format"] = "iclsweep/2"
    df = iclsweep.load(toy, warn=False)
    assert len(df) == 24 and df.attrs["checksums"] == {toy: False}


# ---- text from a file on a terminal --------------------------------------------------------------------

def test_escape():
    assert contain.escape("a\x1b[2Jb\x07\n") == "a\\x1b[2Jb\\x07\\n"
    assert contain.escape("x\u009by\u202ez\u2066") == "x\\x9by\\u202ez\\u2066"
    assert contain.escape(b"caf\xc3\xa9 \xff") == "café \\xff"
    assert contain.escape("ok é ✓") == "ok é ✓"
    assert contain.escape("\udcff") == "\\udcff"
    assert contain.escape_lines("a\x1b\nb") == "a\\x1b\nb"


def test_command_output_is_escaped(toy, tmp_path, capsys):
    with h5py.File(toy, "a") as f:
        f.attrs["name"] = "\x1b]0;owned\x07\x1b[2J\u202e"
    assert cli.main(["table", toy, "-o", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr()
    assert "\\x1b]0;owned" in out.out and "\x1b" not in out.out + out.err and "\u202e" not in out.out


def test_command_refusal_is_one_line(toy, tmp_path, capsys):
    with h5py.File(toy, "a") as f:
        f["final/alias"] = h5py.SoftLink("/final/test_err")
    assert cli.main(["table", toy, "-o", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and toy in err[0] and "soft link" in err[0], err


# ---- checksums ------------------------------------------------------------------------------------------

MASK = (1 << 64) - 1
SEED, P1, P2 = 0x27D4EB2F165667C5, 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F


def reference_checksum(words):
    """The row hash, one word at a time, in plain integers (docs/file-format.md)."""
    h = SEED
    for w in words:
        x = h ^ ((w * P1) & MASK)
        h = ((((x << 31) | (x >> 33)) & MASK) * P2) & MASK
    x = h ^ len(words)
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, None)):
        x ^= x >> shift
        if mult:
            x = (x * mult) & MASK
    return x or 1


def reference_words(f, r, names):
    """Row r's words, as the format defines them, one cell at a time."""
    words = []
    n = None
    for name in names:
        ds = f[name]
        if name == "traj/step":
            steps = [int(v) for v in ds[r]]
            n = next((j for j, v in enumerate(steps) if v < 0), len(steps))
            words += [n] + [v & MASK for v in steps[:n]]
        elif name.startswith("traj/"):
            words += [int(np.float64(v).view(np.uint64)) for v in ds[r][:n]]
        elif ds.dtype.kind == "S":
            raw = bytes(ds[r]).split(b"\0")[0].ljust(ds.dtype.itemsize, b"\0")
            raw += b"\0" * (-len(raw) % 8)
            words += [int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8)]
        elif ds.dtype.kind == "f":
            words.append(int(np.float64(ds[r]).view(np.uint64)))
        else:
            words.append(int(ds[r]) & MASK)
    return words


def add_checksums(path):
    """Gives a fixture file what the engine writes: /tasks/checksum with its covers attribute, each
    finished row's checksum computed by the reference."""
    with h5py.File(path, "a") as f:
        params = [n for n in f["tasks"] if n not in iclsweep.reader.BOOKKEEPING]
        names = (["tasks/replicate", "tasks/key", "tasks/seed", "tasks/point", "tasks/cost"]
                 + [f"tasks/{p}" for p in params] + ["tasks/status", "tasks/steps_done", "traj/step"]
                 + [f"traj/{m}" for m in f["traj"] if m != "step"] + [f"final/{m}" for m in f["final"]])
        status = f["tasks/status"][()]
        sums = np.array([reference_checksum(reference_words(f, r, names)) if status[r] in (2, 4) else 0
                         for r in range(len(status))], dtype=np.uint64)
        ds = f["tasks"].create_dataset("checksum", data=sums)
        ds.attrs["covers"] = " ".join(names)


def test_checksums_match_the_reference_and_find_a_changed_row(tmp_path):
    path = str(tmp_path / "sums.h5")
    odd = {(8, 1.0, 1): "pending", (8, 1.0, 0): "diverged", (4, 1.0, 1): "failed", (4, 1.0, 0): "running"}
    concept(path, status=lambda r: odd.get((r["K"], r["noise"], r["replicate"]), "done"))
    add_checksums(path)
    df = iclsweep.load(path, warn=False)
    assert df.attrs["checksums"] == {path: True} and df.attrs["damaged_rows"] == {}
    with h5py.File(path, "a") as f:
        ds = f["traj/test_err"]
        data = ds[()]
        data[5, 1] += 1e-12
        ds[...] = data
    with pytest.warns(iclsweep.DamagedRowsWarning, match="rows 5"):
        df = iclsweep.load(path, warn=True)
    assert df.attrs["damaged_rows"] == {path: [5]}
    assert df["status"].iloc[5] == "failed" and df["error"].iloc[5].startswith("damaged:")
    assert np.isnan(df["test_err"].iloc[5]) and not np.isnan(df["test_err"].iloc[4])


def test_damaged_covers_refuses_the_file(tmp_path):
    path = str(tmp_path / "sums.h5")
    concept(path)
    add_checksums(path)
    with h5py.File(path, "a") as f:
        covers = f["tasks/checksum"].attrs["covers"].split(" ")
        f["tasks/checksum"].attrs["covers"] = " ".join(n for n in covers if n != "final/test_err")
    refused(path, "do not cover /final/test_err")


def test_checksum_of_text_stops_at_its_nul(tmp_path):
    """A text cell counts up to its first NUL: what any reader of it sees."""
    words = checksum._cell_words(np.array([b"ab\0zz", b"ab"], dtype="S5"))
    assert (words[0] == words[1]).all() and words.shape == (2, 1)
