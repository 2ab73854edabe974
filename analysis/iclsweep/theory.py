"""What the analysis knows about the two models (the one place that names their metrics): the
headline metric and emergence level a command uses when none is given, and the theory each plot
draws by default (the repository's SCIENCE notes):

- concept: a 0-1 error (a metric `*_err` in units `fraction`) has chance level 0.5.
- linattn: on the test MSE, the large-P floor (D+1)/(N+D+1) (noiseless, y = w.x/sqrt(D)), the
  ridge and dMMSE baselines and the Gibbs-mean MSE (final metrics of the file), and the
  interpolation threshold P = D(D+1) (alpha = P/D^2 = (D+1)/D) on axes P and alpha when every
  prompt has its own task (M = 0).

Everything else (metric names, their meanings and units) is read from the file.
"""
from __future__ import annotations

import numpy as np

# Metric a command uses by default, and the level that marks emergence for it: concept's test
# error below 10%; linattn's test MSE below 1, the MSE of predicting 0 (E y^2 = 1 when
# y = w.x/sqrt(D)), i.e. better than ignoring the context.
HEADLINE = {"concept": ("test_err", 0.1), "linattn": ("test_mse", 1.0)}

# linattn's baselines for each test-MSE metric: (final metric, legend label, line style).
_LINATTN_BASELINES = {
    "test_mse": [("ridge_mse", "ridge (Bayes, fresh tasks)", ":"),
                 ("dmmse_mse", "dMMSE (pool posterior)", (0, (5, 2, 1, 2))),
                 ("theory_mse", "Gibbs mean (closed form)", "-.")],
    "test_mse_pool": [("ridge_mse_pool", "ridge (Bayes)", ":"),
                      ("dmmse_mse_pool", "dMMSE (pool posterior)", (0, (5, 2, 1, 2))),
                      ("theory_mse_pool", "Gibbs mean (closed form)", "-.")],
}
_LINATTN_BASELINES["test_mse_avg"] = _LINATTN_BASELINES["test_mse"]


def headline(meta):
    """(metric, level) a command defaults to for this file's model; the first final metric and
    no level for a model this module does not know."""
    metric, level = HEADLINE.get(meta["model"], (None, None))
    if metric in meta["final_metrics"]:
        return metric, level
    return meta["final_metrics"][0], None


def chance(meta, metric):
    """Chance level of metric, or None: concept's 0-1 errors are 0.5."""
    units = meta["columns"].get(metric, {}).get("units", "")
    if meta["model"] == "concept" and metric.endswith("_err") and units == "fraction":
        return 0.5
    return None


def baselines(meta, metric):
    """[(final metric, label, linestyle)] drawn beside metric, those the file has."""
    if meta["model"] != "linattn":
        return []
    return [b for b in _LINATTN_BASELINES.get(metric, []) if b[0] in meta["final_metrics"]]


def _constant(rows, name):
    if name not in rows or len(rows) == 0:
        return None
    values = rows[name].unique()
    return values[0] if len(values) == 1 else None


def floor(meta, metric, rows):
    """linattn's large-P test MSE (D+1)/(N+D+1) for the tasks in rows (one D, one N, y scaled by
    1/sqrt(D), no label noise), else None."""
    if meta["model"] != "linattn" or metric not in ("test_mse", "test_mse_avg"):
        return None
    D, N = _constant(rows, "D"), _constant(rows, "N")
    if D is None or N is None or _constant(rows, "y_scale") not in (None, "sqrt_d"):
        return None
    if (_constant(rows, "label_noise") or 0) != 0:
        return None
    return (D + 1) / (N + D + 1)


def interpolation_threshold(meta, axis, D):
    """Where P = D(D+1) lies on axis (P or alpha) for input dimension D; None elsewhere."""
    if meta["model"] != "linattn" or D is None:
        return None
    if axis == "P":
        return float(D * (D + 1))
    if axis == "alpha":
        return (D + 1) / D
    return None


def threshold_applies(meta, rows):
    """The interpolation threshold is drawn for single-instance task diversity only (M = 0)."""
    return meta["model"] == "linattn" and (_constant(rows, "M") or 0) == 0


def baseline_values(rows, name):
    """Mean of a baseline final metric over the done tasks in rows (NaN when undefined)."""
    done = rows[rows["status"] == "done"][name].to_numpy(dtype=float)
    done = done[np.isfinite(done)]
    return float(np.mean(done)) if len(done) else np.nan
