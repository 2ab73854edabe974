"""`iclsweep train` is the same computation as a sweep's task: its jsonl trajectory and final
metrics equal the rows `iclsweep run` writes for that task, bit for bit; csv carries the same
numbers; text shows the chosen metrics; SIGINT stops it at the next log point with exit 3.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_train.py"""
import json
import math
import signal
import subprocess
import time

import h5py
import pytest

from common import BIN, ENV, run, run_ok
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

SWEEPS = {"concept": TINY, "linattn": LINATTN, "iccls": ICCLS_TINY}


def same(a, b):
    """jsonl value a (null for NaN and Inf, which JSON lacks) against the file's double b."""
    if a is None:
        return not math.isfinite(b)
    return a == b


@pytest.fixture(scope="module", params=list(SWEEPS))
def swept(request, shared):
    """Each sweep run once on 2 ranks: (sweep, result file)."""
    name = request.param
    sweep = shared.file(f"{name}.yaml", SWEEPS[name])
    return sweep, run_ok(2, sweep, shared.file(f"{name}.h5"), f"{name} run")


@pytest.mark.parametrize("t", (0, 3, 5))
def test_train_equals_the_sweeps_row(swept, t):
    sweep, out = swept
    rc, text = run(1, "train", sweep, "--task", str(t), "--format", "jsonl")
    assert rc == 0, f"train task {t}: {rc} {text}"
    lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    points, final = lines[:-1], lines[-1]
    with h5py.File(out, "r") as f:
        for name in f["traj"]:
            if name == "step":
                continue
            row = f["traj"][name][t]
            got = [p[name] for p in points]
            ok = len(got) <= len(row) and all(same(g, float(r)) for g, r in zip(got, row))
            assert ok, f"task {t}: /traj/{name} {row[:4]} vs train {got[:4]}"
        for name in f["final"]:
            assert same(final[name], float(f["final"][name][t])), \
                f"task {t}: /final/{name} {f['final'][name][t]} vs train {final[name]}"
    rc, csv = run(1, "train", sweep, "--task", str(t), "--format", "csv")
    rows = [l.split(",") for l in csv.strip().splitlines() if "," in l]
    assert rows[0][0] == "step" and len(rows) == len(points) + 1, f"csv header and rows: {rows[:2]}"
    assert all(float(r[0]) == p["step"] for r, p in zip(rows[1:], points)), "csv steps == jsonl steps"


def test_text_shows_the_chosen_metrics(work):
    rc, text = run(1, "train", work.file("concept.yaml", TINY), "--metrics", "test_err,caw_sel")
    header = [l for l in text.splitlines() if l.strip().startswith("step")]
    assert rc == 0 and header and header[0].split() == ["step", "test_err", "caw_sel"], f"text: {text}"


def test_task_past_the_end(work):
    rc, text = run(1, "train", work.file("concept.yaml", TINY), "--task", "8")
    assert rc == 2 and "out of range" in text, f"--task past the end: {rc} {text}"


def test_unknown_metric(work):
    rc, text = run(1, "train", work.file("concept.yaml", TINY), "--metrics", "nosuch")
    assert rc == 2 and "no metric 'nosuch'" in text, f"unknown metric: {rc} {text}"


def test_sigint_stops_train(work):
    slow = work.file("slow.yaml", "model: concept\nfixed: {steps: 100000, log_every: 10}\n")
    p = subprocess.Popen([BIN, "train", slow], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 3 and "stopped" in out, f"SIGINT stops train with exit 3: {p.returncode} {out[-300:]}"
