"""The dispatch order, as `iclsweep plan` shows it: coarse-to-fine by default (a 10% prefix of
sweeps/concept_phase.yaml already touches every value of every axis, where longest-first touches
one noise value), long tasks still first (a task 8x longer than the rest starts before them all),
and replicate 0 of every point before any replicate 1.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 tests/sweep/test_order.py"""
import os
import re

from common import SRC, Workdir, check, report, run


def coverage(text, percent):
    m = re.search(rf"first +{percent}% \(\d+ tasks\):(.*)", text)
    return {k: (int(a), int(b)) for k, a, b in re.findall(r"(\w+) (\d+)/(\d+)", m.group(1))} if m else {}


def first_tasks(text):
    m = re.search(r"first tasks handed out:(.*)", text)
    return [int(x) for x in m.group(1).split()] if m else []


def phase():
    path = os.path.join(SRC, "sweeps", "concept_phase.yaml")
    rc, coarse = run(1, "plan", path, "--list", "0")
    cov = coverage(coarse, 10)
    check(rc == 0 and cov and all(a == b for a, b in cov.values()), f"coarse: 10% touches every value: {cov}")
    rc, longest = run(1, "plan", path, "--list", "0", "--order", "longest")
    cov = coverage(longest, 20)
    check(rc == 0 and cov and any(a < b for a, b in cov.values()), f"longest-first leaves values out: {cov}")


def long_first_and_rounds(w):
    sweep = w.file("mixed.yaml", """\
model: concept
seed: 3
replicates: 2
fixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 128, L_long: 16, batch: 32}
grid:
  steps: [1000, 8000]
  noise: [0.01, 0.03, 0.1, 0.3, 1.0]
""")
    rc, text = run(1, "plan", sweep, "--list", "20")
    order = first_tasks(text)
    # Tasks are point-major, replicate fastest: points 0..4 have steps 1000, 5..9 steps 8000.
    steps = ["long" if t // 2 >= 5 else "short" for t in order]
    check(rc == 0 and steps[:10] == ["long"] * 10, f"the long tasks go first: {order}")
    reps = [t % 2 for t in order[:10]]
    check(reps == [0] * 5 + [1] * 5, f"replicate 0 of every long point before replicate 1: {order}")


with Workdir() as w:
    phase()
    long_first_and_rounds(w)
report("test_order")
