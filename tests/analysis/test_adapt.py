"""adapt end to end on linattn's test-MSE peak (D = 8, threshold alpha = 9/8; 24 tasks of ~0.1 s
in the first round): each round keeps every finished task as it was (its final numbers and a
single attempt) and trains only the new points, the file is complete after every round, a stop
between rounds goes on from the file, the budget stops a round before it is run (exit 3), the
peak it locates sits near the threshold, and a round that fails is one line, not a traceback.
The Slurm chain (--slurm) is tested on the real Slurm in tests/slurm/test_slurm.py.
Run by hand: ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest \
  tests/analysis/test_adapt.py
"""
import os
import subprocess
import sys

import h5py
import pytest

BIN = os.environ.get("ICLSWEEP_BIN")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not BIN, reason="ICLSWEEP_BIN is not set (ctest sets it)")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
           PYTHONPATH=os.pathsep.join(sys.path))

PEAK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adapt_peak.yaml")
ARGS = ["--along", "alpha", "--metric", "test_mse", "--peak", "--tol", "0.03",
        "--launcher", "mpirun -np 3 --oversubscribe"]


def adapt(*args):
    p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "adapt"] + [str(a) for a in args],
                       env=ENV, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def rows(path):
    """key -> (final test_mse, attempts) of every row, read with h5py alone."""
    with h5py.File(path, "r") as f:
        keys, mse, att = f["tasks/key"][()], f["final/test_mse"][()], f["tasks/attempts"][()]
        status = f["tasks/status"][()]
    assert (status == 2).all(), "every task of the file is done after a round"
    return {k: (m, a) for k, m, a in zip(keys, mse, att)}


def status(path):
    return subprocess.run([BIN, "status", str(path)], env=ENV, capture_output=True).returncode


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("adapt") / "peak.yaml"
    with open(PEAK) as f:
        path.write_text(f.read())
    return path


def test_rounds_keep_tasks_and_resume(sweep):
    out = sweep.parent / "peak.h5"
    rc, text, err = adapt(sweep, "-o", out, "--budget", "400", "--rounds", "1", *ARGS)
    assert rc in (0, 3) and "round 1:" in text and "Traceback" not in err, text + err
    first = rows(out)
    assert status(out) == 0 and len(first) > 24, "round 1 added points and the file is complete"
    assert os.path.exists(f"{out}.round1.yaml")
    # The same command again goes on from the file: nothing that was done is trained again.
    rc, text, err = adapt(sweep, "-o", out, "--budget", "400", *ARGS)
    assert rc == 0, f"adapt converged within the budget: {text}{err}"
    second = rows(out)
    assert set(first) <= set(second) and len(second) > len(first), "later rounds only add tasks"
    for k, (mse, attempts) in first.items():
        assert second[k] == (mse, attempts) and attempts == 1, f"task {k} was trained again"
    assert status(out) == 0
    last = [ln for ln in text.splitlines() if ln.startswith("adapt: round")][-1]
    loc = float(last.split("tasks;")[1].split("[")[0])
    assert 0.9 < loc < 1.35, f"the peak sits near the threshold 9/8: {last}"


def test_parameters_are_the_models(sweep):
    """The reader's parameters of an engine file are the model's parameter table, no more: a /tasks
    column the engine adds must be in the reader's BOOKKEEPING."""
    import iclsweep
    out = sweep.parent / "peak.h5"
    if not out.exists():
        pytest.skip("needs the file of test_rounds_keep_tasks_and_resume")
    listed = subprocess.run([BIN, "params", "linattn"], env=ENV, capture_output=True, text=True).stdout
    names = {ln.split()[0] for ln in listed.splitlines()[2:] if ln.strip()}
    assert set(iclsweep.load(out, warn=False).attrs["params"]) == names


def test_budget_stops_before_a_round(sweep):
    out = sweep.parent / "budget.h5"
    rc, text, err = adapt(sweep, "-o", out, "--budget", "30", *ARGS)
    assert rc == 3 and "budget of 30" in text, text + err
    assert len(rows(out)) == 24, "no round past the budget was run"


def test_failed_round_is_one_line(sweep, tmp_path):
    rc, text, err = adapt(sweep, "-o", tmp_path / "x.h5", "--iclsweep", "/bin/false", "--along", "alpha",
                          "--metric", "test_mse", "--peak")
    assert rc == 2 and "Traceback" not in err and err.count("\n") == 1 and "exited 1" in err, err
