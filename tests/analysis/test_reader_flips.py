"""Byte flips of engine-made result files through the Python reader (issue 20), the reader's side
of tests/sweep/test_flips.py:
- 300 files with 1..4 random bytes flipped (a valid file of the tiny sweep and the crafted corpus
  of tests/sweep/hostile.py), read by tests/fuzz/fuzz_reader.py's loop: no crash, no hang, no
  exception but a one-line refusal naming the file, no row read as done with other data than the
  unflipped file's;
- the analysis command on refused files: one line on stderr naming the file, exit 2, no
  traceback, no raw terminal escapes;
- 300 files with one byte of a finished row's data flipped (tests/sweep/test_flips.py flips 1000
  for verify): the reader's checksum check finds that row, and no other, in each (the whole
  reader on a sample).
Run by hand: ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest -q \
  tests/analysis/test_reader_flips.py
"""
import os
import subprocess
import sys

import h5py
import pytest

import iclsweep
from iclsweep import checksum

HERE = os.path.dirname(os.path.abspath(__file__))
SWEEP_TESTS = os.path.join(HERE, "..", "sweep")
sys.path.insert(0, SWEEP_TESTS)
import flips  # noqa: E402
import hostile  # noqa: E402
from sweeps import TINY  # noqa: E402

BIN = os.environ.get("ICLSWEEP_BIN")
pytestmark = [pytest.mark.e2e, pytest.mark.flips,
              pytest.mark.skipif(not BIN, reason="ICLSWEEP_BIN is not set (ctest sets it)")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", ICLSWEEP_READ_TIMEOUT="10",
           PYTHONPATH=os.path.join(HERE, "..", "..", "analysis"))
SEED = 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("reader_flips")
    sweep = d / "tiny.yaml"
    sweep.write_text(TINY)
    valid = str(d / "valid.h5")
    subprocess.run([BIN, "run", str(sweep), "-o", valid, "--quiet"], env=ENV, check=True)
    crafted = [p for p, _ in hostile.build(valid, str(d / "corpus")).values()]
    crafted += list(hostile.build_integrity(valid, str(d / "corpus")).values())
    return {"valid": valid, "crafted": sorted(crafted)}


def test_reader_300_flips(corpus, tmp_path):
    arts = str(tmp_path / "artifacts")
    p = subprocess.run([sys.executable, os.path.join(HERE, "..", "fuzz", "fuzz_reader.py"),
                        "--seed", str(SEED), "--runs", "300", "--flips", "4", "--timeout", "60",
                        "--artifacts", arts, corpus["valid"], corpus["valid"], corpus["valid"], *corpus["crafted"]],
                       env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    print(p.stdout)
    findings = open(os.path.join(arts, "findings.txt")).read() if os.path.exists(arts) else ""
    assert p.returncode == 0 and "300 runs" in p.stdout and \
        " 0 crash, 0 hang, 0 traceback, 0 wrong, 0 message" in p.stdout, findings


def test_command_refuses_in_one_line(corpus, tmp_path):
    """What a user sees: one line naming the file, exit 2, no traceback, no raw escapes."""
    with open(corpus["valid"], "rb") as f:
        valid = f.read()
    seen = 0
    for i in range(200):
        path = str(tmp_path / f"f{i}.h5")
        with open(path, "wb") as f:
            f.write(flips.flip_anywhere(valid, flips.rng_for(SEED + 1, i))[0])
        try:
            iclsweep.load(path, warn=False)
            continue
        except iclsweep.NotAnIclsweepFile:
            pass
        p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "table", path, "-o", str(tmp_path / "t.csv")],
                           env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and path in lines[0] and "Traceback" not in p.stderr \
            and "\x1b" not in p.stderr, f"run {i}: exit {p.returncode}: {p.stderr[-600:]}"
        seen += 1
        if seen == 5:
            break
    assert seen == 5, "five refused files were met"
    for path in (p for p in corpus["crafted"] if os.path.basename(p) in ("name_escape.h5", "format_escape.h5")):
        p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "table", path, "-o", str(tmp_path / "t.csv")],
                           env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        assert "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stdout + p.stderr, p.stdout + p.stderr


def test_reader_finds_300_flips(corpus, tmp_path):
    with open(corpus["valid"], "rb") as f:
        valid = f.read()
    ranges = flips.data_ranges(corpus["valid"])
    missed = []
    for i in range(300):
        data, row = flips.flip_row_data(valid, ranges, flips.rng_for(SEED + 2, i))
        path = str(tmp_path / f"f{i:03d}.h5")
        with open(path, "wb") as f:
            f.write(data)
        if i < 30:  # the whole reader, on a sample
            df = iclsweep.load(path, warn=False)
            if df.attrs["damaged_rows"] != {path: [row]}:
                missed.append((i, row, df.attrs["damaged_rows"]))
            continue
        with h5py.File(path, "r") as f:
            bad = checksum.check_rows(f, path, f["tasks/status"][()], iclsweep.reader.BOOKKEEPING)
        if list(bad.nonzero()[0]) != [row]:
            missed.append((i, row, list(bad.nonzero()[0])))
    assert not missed, f"{len(missed)} of 300 flips not found as their row: {missed[:5]}"
