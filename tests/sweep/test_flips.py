"""Byte flips of result files (issue 20): the attack round that found what the crafted cases now
pin, as tests.
- 300 files with 1..4 random bytes flipped (of a valid file of the tiny sweep and of the crafted
  corpus): `iclsweep status` never crashes, hangs or calls a file complete whose finished rows'
  data changed; the Python reader (tests/fuzz/fuzz_reader.py, seed 1) never crashes, hangs,
  raises anything but a one-line refusal naming the file, or reads a changed row as a result; and
  the analysis command refuses with one line and exit 2.
- 1000 files with one byte of a finished row's data flipped: `iclsweep verify` names exactly that
  row in each, and the reader's checksum check finds the same row.
Seeded: a failure is replayed by its seed and number.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sweep/test_flips.py
"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flips  # noqa: E402
import hostile  # noqa: E402
from common import ENV, SRC, command, run  # noqa: E402
from sweeps import TINY  # noqa: E402

ANALYSIS = os.path.join(os.path.abspath(SRC), "analysis")
sys.path.insert(0, ANALYSIS)
import iclsweep  # noqa: E402
from iclsweep import checksum  # noqa: E402

SEED = 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A valid file of the tiny sweep (made by this build: with checksums) and the crafted corpus."""
    d = tmp_path_factory.mktemp("flips")
    sweep = str(d / "tiny.yaml")
    with open(sweep, "w") as f:
        f.write(TINY)
    valid = str(d / "valid.h5")
    rc, log = run(1, "run", sweep, "-o", valid, "--quiet")
    assert rc == 0, log
    crafted = [p for p, _ in hostile.build(valid, str(d / "corpus")).values()]
    crafted += list(hostile.build_integrity(valid, str(d / "corpus")).values())
    return {"dir": d, "valid": valid, "crafted": sorted(crafted)}


def test_status_300_flips(corpus, tmp_path):
    """No crash, no hang, no false "complete": exit 0 only where no flipped byte was a finished
    row's data (or the file's answer is unchanged because the flip missed everything read)."""
    with open(corpus["valid"], "rb") as f:
        valid = f.read()
    ranges = flips.data_ranges(corpus["valid"])
    seeds = [valid] * 3 + [open(p, "rb").read() for p in corpus["crafted"]]
    findings, exits = [], {}
    path = str(tmp_path / "flipped.h5")
    env = dict(ENV, ICLSWEEP_READ_TIMEOUT="10")
    for i in range(300):
        k = i % len(seeds)
        data, where = flips.flip_anywhere(seeds[k], flips.rng_for(SEED, i))
        with open(path, "wb") as f:
            f.write(data)
        try:
            p = subprocess.run(command(1, "status", path), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", timeout=120)
        except subprocess.TimeoutExpired:
            findings.append(f"run {i}: status hung")
            continue
        exits[p.returncode] = exits.get(p.returncode, 0) + 1
        if p.returncode not in (0, 2, 3, 4) or "Process received signal" in p.stdout or \
                "Sanitizer" in p.stdout or "\x1b" in p.stdout:
            findings.append(f"run {i}: exit {p.returncode}: {p.stdout[-300:]}")
        elif p.returncode == 0 and k < 3 and any(s <= w < e for w in where for s, e, _ in ranges):
            findings.append(f"run {i}: complete, though bytes {where} of finished rows' data changed")
    print(f"status over 300 flipped files: exits {exits}")
    assert not findings, "\n".join(findings)


def test_reader_300_flips(corpus, tmp_path):
    """The Python reader over the same kind of flips, in tests/fuzz/fuzz_reader.py's loop."""
    arts = str(tmp_path / "artifacts")
    p = subprocess.run([sys.executable, os.path.join(os.path.abspath(SRC), "tests", "fuzz", "fuzz_reader.py"),
                        "--seed", str(SEED), "--runs", "300", "--flips", "4", "--timeout", "60",
                        "--artifacts", arts, corpus["valid"], corpus["valid"], corpus["valid"], *corpus["crafted"]],
                       env=dict(ENV, ICLSWEEP_READ_TIMEOUT="10"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    print(p.stdout)
    findings = open(os.path.join(arts, "findings.txt")).read() if os.path.exists(arts) else ""
    assert p.returncode == 0 and "300 runs" in p.stdout and " 0 crash, 0 hang, 0 traceback, 0 wrong, 0 message" \
        in p.stdout, findings


def test_analysis_command_refuses_in_one_line(corpus, tmp_path):
    """What a user sees: one line naming the file, exit 2, no traceback, no raw escapes."""
    with open(corpus["valid"], "rb") as f:
        valid = f.read()
    env = dict(ENV, PYTHONPATH=ANALYSIS, ICLSWEEP_READ_TIMEOUT="10")
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
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and path in lines[0] and "Traceback" not in p.stderr \
            and "\x1b" not in p.stderr, f"run {i}: exit {p.returncode}: {p.stderr[-600:]}"
        seen += 1
        if seen == 5:
            break
    assert seen == 5, "five refused files were met"
    crafted = [p for p in corpus["crafted"] if os.path.basename(p) in ("name_escape.h5", "format_escape.h5")]
    for path in crafted:
        p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "table", path, "-o", str(tmp_path / "t.csv")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        assert "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stdout + p.stderr, p.stdout + p.stderr


def test_verify_finds_1000_flips(corpus, tmp_path):
    """One byte of one finished row's data flipped, 1000 times: verify names that row and no
    other in every file; the reader's checksum check (the same function) finds the same row."""
    with open(corpus["valid"], "rb") as f:
        valid = f.read()
    ranges = flips.data_ranges(corpus["valid"])
    want = {}
    for i in range(1000):
        data, row = flips.flip_row_data(valid, ranges, flips.rng_for(SEED + 2, i))
        path = str(tmp_path / f"f{i:04d}.h5")
        with open(path, "wb") as f:
            f.write(data)
        want[path] = row
    paths = sorted(want)
    got = {}
    for first in range(0, len(paths), 250):
        p = subprocess.run(command(1, "verify", "--json", *paths[first:first + 250]), env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        assert p.returncode == 2, p.stdout[-500:]
        for line in p.stdout.splitlines():
            doc = json.loads(line)
            got[doc["file"]] = [b["row"] for b in doc.get("bad", [])] if "error" not in doc else doc["error"]
    missed = {p: (want[p], got.get(p)) for p in paths if got.get(p) != [want[p]]}
    assert not missed, f"{len(missed)} of 1000 flips not found as their row: {list(missed.items())[:5]}"
    missed = []
    for path in paths:
        with h5py.File(path, "r") as f:
            bad = checksum.check_rows(f, path, f["tasks/status"][()], iclsweep.reader.BOOKKEEPING)
        if list(bad.nonzero()[0]) != [want[path]]:
            missed.append((path, want[path], list(bad.nonzero()[0])))
    assert not missed, f"the reader's check missed {len(missed)}: {missed[:5]}"
    for path in paths[:50]:  # the whole reader, on a sample
        df = iclsweep.load(path, warn=False)
        assert df.attrs["damaged_rows"] == {path: [want[path]]}


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
