"""`iclsweep plan` estimates a sweep's wall time from a short timed run on this machine: it shows
the memory of a task and the time per task and for the sweep at several worker counts, and the
sweep's time falls with more workers as the simulated dispatch says (never below the longest
task, never faster than perfect division). How close the estimate comes to a real run depends on
the machine's load, so that is measured by bench/sweep/plan_time.py (bench/RESULTS-sweep.md), not
here.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_plan_time.py"""
import re

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


def sweep_estimates(text):
    """{workers: seconds} of plan's sweep line, and (mean, longest) seconds per task."""
    line = re.search(r"sweep in all[^\n]*", text).group(0)
    sweep = {int(w): float(v) * UNITS[u] for w, v, u in re.findall(r"(\d+) workers? ([0-9.e+-]+) (s|min|h|days)", line)}
    per = re.search(r"time: ([0-9.e+-]+) (s|min|h|days) per task on average, ([0-9.e+-]+) (s|min|h|days) the longest",
                    text)
    return sweep, (float(per.group(1)) * UNITS[per.group(2)], float(per.group(3)) * UNITS[per.group(4)])


@pytest.mark.parametrize("name, yaml, tasks", (("concept", CONCEPT, 4), ("linattn", LINATTN, 3)),
                         ids=("concept", "linattn"))
def test_estimates_are_consistent(work, name, yaml, tasks):
    rc, text = run(1, "plan", work.file(f"{name}.yaml", yaml), "--list", "0")
    assert rc == 0, f"{name}: plan exits 0: {text}"
    assert "memory: about" in text, f"{name}: plan shows the memory of a task: {text}"
    sweep, (mean, longest) = sweep_estimates(text)
    assert sorted(sweep) == [1, 2, 8, 32, 128] and 0 < mean <= longest, f"{name}: {text}"
    work_s = tasks * mean
    for w, s in sweep.items():
        assert s >= min(work_s / w, longest) * 0.999, f"{name}: {w} workers faster than the work allows: {text}"
    assert sweep[1] >= work_s * 0.999 and sweep[2] <= sweep[1] and sweep[128] <= sweep[8], f"{name}: {text}"


def test_no_time(work):
    rc, text = run(1, "plan", work.file("concept.yaml", CONCEPT), "--no-time")
    assert rc == 0 and "time:" not in text, f"plan --no-time shows no time: {text}"
