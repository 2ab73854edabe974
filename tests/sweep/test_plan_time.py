"""`iclsweep plan` estimates a sweep's wall time from a short timed run on this machine: the
estimate for one worker is within 2x of the time `iclsweep run` takes with one worker
(mpirun -np 2), for a small concept sweep and a small linattn sweep (a few seconds each).
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_plan_time.py"""
import re
import time

import pytest

from common import run

CONCEPT = """\
model: concept
seed: 12
replicates: 2
fixed: {n_train: 1024, n_test: 512, steps: 300, log_every: 30}
grid:
  K: [2, 4]
"""

LINATTN = """\
model: linattn
seed: 12
fixed: {D: 10, N: 40, P: 400, P_test: 400, steps: 1500, log_every: 50}
grid:
  optimizer: [adam, gd, langevin]
"""

UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "days": 86400.0}


def one_worker_estimate(text):
    """Seconds that plan's output gives for the sweep with 1 worker, or None."""
    m = re.search(r"1 worker ([0-9.e+-]+) (s|min|h|days)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


@pytest.mark.parametrize("name, yaml", (("concept", CONCEPT), ("linattn", LINATTN)), ids=("concept", "linattn"))
def test_estimate_within_2x(work, name, yaml):
    sweep = work.file(f"{name}.yaml", yaml)
    rc, text = run(1, "plan", sweep, "--list", "0")
    assert rc == 0, f"{name}: plan exits 0: {text}"
    assert "memory: about" in text, f"{name}: plan shows the memory of a task: {text}"
    est = one_worker_estimate(text)
    assert est is not None, f"{name}: plan shows the time with 1 worker: {text}"
    t0 = time.monotonic()
    rc, out = run(2, "run", sweep, "-o", work.file(f"{name}.h5"), "--progress", "none")
    wall = time.monotonic() - t0
    assert rc == 0, f"{name}: run exits 0: {out}"
    print(f"{name}: plan estimates {est:.2f} s with 1 worker, the run took {wall:.2f} s")
    assert wall / 2 <= est <= 2 * wall, f"{name}: estimate {est:.2f} s within 2x of {wall:.2f} s"


def test_no_time(work):
    rc, text = run(1, "plan", work.file("concept.yaml", CONCEPT), "--no-time")
    assert rc == 0 and "time:" not in text, f"plan --no-time shows no time: {text}"
