"""Result files with known values for the unit tests (h5fixture writes them as
docs/file-format.md specifies), with the `theory` attribute and /theory datasets the engine writes
for each model (the format analysis/iclsweep/theory.py reads)."""
import numpy as np

from h5fixture import grid_sweep

DOCS = {"K": ("number of task-relevant concepts", ""),
        "noise": ("standard deviation of the Gaussian word noise xi", ""),
        "test_err": ("0-1 error on n_test fresh prompts", "fraction"),
        "test_err_decay": ("exponential decay rate of test_err", "1/step"),
        "D": ("input dimension", ""), "alpha": ("task diversity P/D^2", ""),
        "P": ("training prompts", "prompts"), "test_mse": ("test MSE, fresh tasks", ""),
        "ridge_mse": ("ridge baseline", ""), "theory_mse": ("Gibbs mean MSE", ""),
        "chance_err": ("0-1 error of a guess", "fraction"),
        "floor": ("large-P test MSE (D+1)/(N+D+1)", ""),
        "interp_P": ("interpolation threshold D(D+1)", "prompts"),
        "interp_alpha": ("interpolation threshold (D+1)/D", "")}

# What the engine writes for concept and linattn (the lead's C side, issue 18).
CONCEPT_THEORY = {
    "headline": {"metric": "test_err", "level": 0.1},
    "levels": [{"column": "chance_err", "label": "chance (1/2)",
                "metrics": ["test_err", "train_err", "short_err"]}],
    "baselines": [], "marks": []}
LINATTN_THEORY = {
    "headline": {"metric": "test_mse", "level": 1.0},
    "levels": [{"column": "floor", "label": "large-P floor (D+1)/(N+D+1)",
                "metrics": ["test_mse", "test_mse_avg"]}],
    "baselines": [{"final": "ridge_mse", "label": "ridge (Bayes, fresh tasks)",
                   "metrics": ["test_mse", "test_mse_avg"]},
                  {"final": "dmmse_mse", "label": "dMMSE (pool posterior)",
                   "metrics": ["test_mse", "test_mse_avg"]},
                  {"final": "theory_mse", "label": "Gibbs mean (closed form)",
                   "metrics": ["test_mse", "test_mse_avg"]}],
    "marks": [{"column": "interp_P", "label": "interpolation threshold P = D(D+1)", "axis": "P"},
              {"column": "interp_alpha", "label": "interpolation threshold alpha = (D+1)/D",
               "axis": "alpha"}]}
LINATTN_COLUMNS = {
    "floor": lambda r: (r["D"] + 1) / (r["N"] + r["D"] + 1),
    "interp_P": lambda r: float(r["D"] * (r["D"] + 1)) if r.get("M", 0) == 0 else np.nan,
    "interp_alpha": lambda r: (r["D"] + 1) / r["D"] if r.get("M", 0) == 0 else np.nan}

# A noise value written as the sum 0.1 + 0.2 (0.30000000000000004): the cube must keep it exact.
NOISE = [0.01, 0.1, 0.1 + 0.2, 1.0]
KS = [2, 4, 8]


def concept_err(r):
    """test_err of replicate r at (K, noise): a grid of known values, replicate 1 higher by
    0.02 * K / 8, so each point's mean and spread are known."""
    base = {0.01: 0.0, 0.1: 0.05, 0.1 + 0.2: 0.3, 1.0: 0.5}[r["noise"]] + 0.01 * r["K"]
    return base + 0.02 * r["K"] / 8 * r["replicate"]


def concept(path, *, status=None, error=None, replicates=2, skip=None, steps=(0, 10, 20),
            theory=CONCEPT_THEORY, **kw):
    """K x noise concept sweep: test_err = concept_err; trajectories decay from 0.5 to it."""
    return grid_sweep(
        path, model="concept", name="toy", dims=[("K", {"K": KS}, False),
                                                 ("noise", {"noise": NOISE}, False)],
        replicates=replicates, fixed={"d": 64, "optimizer": "sgd", "d_h": 128},
        settings={"d_h": lambda r: 0},
        final={"test_err": concept_err, "test_err_decay": lambda r: 0.01 * r["K"]},
        traj={"test_err": lambda r: np.linspace(0.5, concept_err(r), len(
            steps(r) if callable(steps) else steps))},
        steps=steps, status=status, error=error, skip=skip, docs=DOCS, theory=theory,
        theory_columns={"chance_err": lambda r: 0.5} if theory else None, **kw)


def linattn(path, *, replicates=3):
    """alpha sweep at D = 4 and 8: test_mse = 3 + D/8 - |alpha - 1.1|/0.4 + replicate/10 peaks
    at alpha = 1.1; ridge and Gibbs-mean baselines known; P = round(alpha D^2) as used, the
    unused setting 1000 beside it."""
    def mse(r):
        a = r["alpha"]
        return 3 + r["D"] / 8 - abs(a - 1.1) / 0.4 + 0.1 * r["replicate"]
    return grid_sweep(
        path, model="linattn", name="la", dims=[("D", {"D": [4, 8]}, False),
                                               ("alpha", {"alpha": [0.3, 0.7, 1.1, 1.5, 1.9]},
                                                False)],
        replicates=replicates, fixed={"N": 20, "M": 0, "y_scale": "sqrt_d", "label_noise": 0.0},
        settings={"P": lambda r: 1000},
        derived={"P": lambda p: int(round(p["alpha"] * p["D"] ** 2))},
        final={"test_mse": mse, "ridge_mse": lambda r: 0.2, "theory_mse": lambda r: mse(r) - 0.1},
        traj={"test_mse": lambda r: [1.5, 1.2, mse(r)]}, docs=DOCS, theory=LINATTN_THEORY,
        theory_columns=LINATTN_COLUMNS)


# Until the engine writes the `theory` attribute (issue 18's model descriptors), the end-to-end
# tests and the docs test add what it will write to the files the built program makes; on a file
# that has the attribute this does nothing.
