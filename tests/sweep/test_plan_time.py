"""`iclsweep plan` estimates a sweep's wall time from a short timed run on this machine: the
estimate for one worker is within 2x of the time `iclsweep run` takes with one worker
(mpirun -np 2), for a small concept sweep and a small linattn sweep (a few seconds each).
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_plan_time.py"""
import re
import time

from common import Workdir, check, report, run

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


def check_sweep(w, name, yaml):
    sweep = w.file(f"{name}.yaml", yaml)
    rc, text = run(1, "plan", sweep, "--list", "0")
    check(rc == 0, f"{name}: plan exits 0: {text}")
    check("memory: about" in text, f"{name}: plan shows the memory of a task: {text}")
    est = one_worker_estimate(text)
    check(est is not None, f"{name}: plan shows the time with 1 worker: {text}")
    t0 = time.monotonic()
    rc, out = run(2, "run", sweep, "-o", w.file(f"{name}.h5"), "--progress", "none")
    wall = time.monotonic() - t0
    check(rc == 0, f"{name}: run exits 0: {out}")
    if est is not None:
        print(f"{name}: plan estimates {est:.2f} s with 1 worker, the run took {wall:.2f} s")
        check(wall / 2 <= est <= 2 * wall, f"{name}: estimate {est:.2f} s within 2x of {wall:.2f} s")


def main():
    with Workdir() as w:
        check_sweep(w, "concept", CONCEPT)
        check_sweep(w, "linattn", LINATTN)
        rc, text = run(1, "plan", w.file("concept.yaml"), "--no-time")
        check(rc == 0 and "time:" not in text, f"plan --no-time shows no time: {text}")
    report("test_plan_time")


if __name__ == "__main__":
    main()
