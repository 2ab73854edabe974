"""`iclsweep train` is the same computation as a sweep's task: its jsonl trajectory and final
metrics equal the rows `iclsweep run` writes for that task, bit for bit; csv carries the same
numbers; text shows the chosen metrics; SIGINT stops it at the next log point with exit 3.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_train.py"""
import json
import math
import signal
import subprocess
import time

import h5py
import numpy as np

from common import BIN, ENV, Workdir, check, report, run
from sweeps import ICCLS_TINY, TINY

LINATTN = """\
model: linattn
seed: 4
replicates: 2
fixed: {D: 4, N: 12, P_test: 64, steps: 300, log_every: 50}
grid:
  P: [10, 200]
  optimizer: [adam, langevin]
zip:
  T: [0.0, 0.001]
"""


def same(a, b):
    """jsonl value a (null for NaN and Inf, which JSON lacks) against the file's double b."""
    if a is None:
        return not math.isfinite(b)
    return a == b


def compare_task(sweep, out, t):
    rc, text = run(1, "train", sweep, "--task", str(t), "--format", "jsonl")
    check(rc == 0, f"train task {t}: {rc} {text}")
    lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    points, final = lines[:-1], lines[-1]
    with h5py.File(out, "r") as f:
        for name in f["traj"]:
            if name == "step":
                continue
            row = f["traj"][name][t]
            got = [p[name] for p in points]
            ok = len(got) <= len(row) and all(same(g, float(r)) for g, r in zip(got, row))
            check(ok, f"task {t}: /traj/{name} {row[:4]} vs train {got[:4]}")
        for name in f["final"]:
            check(same(final[name], float(f["final"][name][t])),
                  f"task {t}: /final/{name} {f['final'][name][t]} vs train {final[name]}")
    rc, csv = run(1, "train", sweep, "--task", str(t), "--format", "csv")
    rows = [l.split(",") for l in csv.strip().splitlines() if "," in l]
    check(rows[0][0] == "step" and len(rows) == len(points) + 1, f"csv header and rows: {rows[:2]}")
    check(all(float(r[0]) == p["step"] for r, p in zip(rows[1:], points)), "csv steps == jsonl steps")


def main():
    with Workdir() as w:
        for name, text in (("concept", TINY), ("linattn", LINATTN), ("iccls", ICCLS_TINY)):
            sweep = w.file(f"{name}.yaml", text)
            out = w.file(f"{name}.h5")
            rc, log = run(2, "run", sweep, "-o", out, "--quiet")
            check(rc == 0, f"{name} run: {log}")
            for t in (0, 3, 5):
                compare_task(sweep, out, t)
        rc, text = run(1, "train", w.file("concept.yaml"), "--metrics", "test_err,caw_sel")
        header = [l for l in text.splitlines() if l.strip().startswith("step")]
        check(rc == 0 and header and header[0].split() == ["step", "test_err", "caw_sel"], f"text: {text}")
        rc, text = run(1, "train", w.file("concept.yaml"), "--task", "8")
        check(rc == 2 and "out of range" in text, f"--task past the end: {rc} {text}")
        rc, text = run(1, "train", w.file("concept.yaml"), "--metrics", "nosuch")
        check(rc == 2 and "no metric 'nosuch'" in text, f"unknown metric: {rc} {text}")
        slow = w.file("slow.yaml", "model: concept\nfixed: {steps: 100000, log_every: 10}\n")
        p = subprocess.Popen([BIN, "train", slow], env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        check(p.returncode == 3 and "stopped" in out, f"SIGINT stops train with exit 3: {p.returncode} {out[-300:]}")
    report("test_train")


main()
