"""The dispatch order, as `iclsweep plan` shows it: coarse-to-fine by default (a 10% prefix of
sweeps/concept_phase.yaml already touches every value of every axis, where longest-first touches
one noise value), long tasks still first (a task 8x longer than the rest starts before them all),
and replicate 0 of every point before any replicate 1.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_order.py"""
import os
import re

import pytest

from common import SRC, run

PHASE = os.path.join(SRC, "sweeps", "concept_phase.yaml")

MIXED = """\
model: concept
seed: 3
replicates: 2
fixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 128, L_long: 16, batch: 32}
grid:
  steps: [1000, 8000]
  noise: [0.01, 0.03, 0.1, 0.3, 1.0]
"""


def coverage(text, percent):
    m = re.search(rf"first +{percent}% \(\d+ tasks\):(.*)", text)
    return {k: (int(a), int(b)) for k, a, b in re.findall(r"(\w+) (\d+)/(\d+)", m.group(1))} if m else {}


def first_tasks(text):
    m = re.search(r"first tasks handed out:(.*)", text)
    return [int(x) for x in m.group(1).split()] if m else []


def test_coarse_to_fine():
    rc, coarse = run(1, "plan", PHASE, "--list", "0")
    cov = coverage(coarse, 10)
    assert rc == 0 and cov and all(a == b for a, b in cov.values()), f"coarse: 10% touches every value: {cov}"


def test_longest_first():
    rc, longest = run(1, "plan", PHASE, "--list", "0", "--order", "longest")
    cov = coverage(longest, 20)
    assert rc == 0 and cov and any(a < b for a, b in cov.values()), f"longest-first leaves values out: {cov}"


@pytest.fixture(scope="module")
def mixed(shared):
    """`plan` of a sweep whose long tasks take 8x the short ones: (exit code, first tasks)."""
    rc, text = run(1, "plan", shared.file("mixed.yaml", MIXED), "--list", "20")
    return rc, first_tasks(text)


def test_long_tasks_first(mixed):
    rc, order = mixed
    # Tasks are point-major, replicate fastest: points 0..4 have steps 1000, 5..9 steps 8000.
    steps = ["long" if t // 2 >= 5 else "short" for t in order]
    assert rc == 0 and steps[:10] == ["long"] * 10, f"the long tasks go first: {order}"


def test_replicate_rounds(mixed):
    order = mixed[1]
    reps = [t % 2 for t in order[:10]]
    assert reps == [0] * 5 + [1] * 5, f"replicate 0 of every long point before replicate 1: {order}"
