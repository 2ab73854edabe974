"""Byte flips of result files through the C program (issue 20): the attack round that found what
the crafted cases now pin, as tests.
- 300 files with 1..4 random bytes flipped (of a valid file of the tiny sweep and of the crafted
  corpus): `iclsweep status` never crashes, hangs or calls a file complete whose finished rows'
  data changed;
- 1000 files with one byte of a finished row's data flipped: `iclsweep verify` names exactly that
  row, and no other, in each.
The Python reader's side of the same runs is tests/analysis/test_reader_flips.py. Seeded: a
failure is replayed by its seed and number.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sweep/test_flips.py
"""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flips  # noqa: E402
from common import ENV, command  # noqa: E402

SEED = 20


@pytest.fixture(scope="module")
def corpus(tiny_corpus):
    """A valid file of the tiny sweep (made by this build: with checksums) and the crafted corpus."""
    return tiny_corpus


def test_status_300_flips(corpus, tmp_path):
    """No crash, no hang, no false "complete": status exits 0 on a flipped copy of the valid file
    only when no flipped byte was a finished row's data."""
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


def test_verify_finds_1000_flips(corpus, tmp_path):
    """One byte of one finished row's data flipped, 1000 times: verify names that row and no
    other in every file."""
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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
