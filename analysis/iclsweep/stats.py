"""Statistics over replicates (or any grouping of tasks), from scipy.stats.

Per group and metric: n (done tasks with a finite value), mean, std (ddof 1), standard error,
a 95% percentile-bootstrap interval of the mean (scipy.stats.bootstrap, fixed seed, 9999
resamples; the same seed for every group, so a group's interval does not depend on the others)
and the Student t interval (scipy.stats.t), min, max; and the tasks left out, counted by status
(pending, running, failed, diverged) and done tasks whose metric is undefined (NaN).

The percentile bootstrap is used rather than BCa: with few replicates and 0-1 errors many
resampled means tie, where BCa's acceleration estimate is undefined.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SEED = 0
N_RESAMPLES = 9999
LEVEL = 0.95
EXCLUDED = ("pending", "running", "failed", "diverged")
COLUMNS = ["n", "mean", "std", "sem", "boot_lo", "boot_hi", "t_lo", "t_hi", "min", "max"]


def bootstrap_ci(x, *, level=LEVEL, seed=SEED, n_resamples=N_RESAMPLES, axis=0):
    """(lo, hi) percentile-bootstrap interval of the mean of x along axis; NaN with fewer than
    two values."""
    x = np.asarray(x, dtype=float)
    if x.shape[axis] < 2:
        nan = np.full(np.delete(x.shape, axis), np.nan) if x.ndim > 1 else np.nan
        return nan, nan
    res = stats.bootstrap((x,), np.mean, confidence_level=level, n_resamples=n_resamples,
                          method="percentile", random_state=seed, axis=axis, vectorized=True)
    return res.confidence_interval.low, res.confidence_interval.high


def t_ci(x, *, level=LEVEL):
    """(lo, hi) Student t interval of the mean of x (1-D); NaN with fewer than two values, the
    mean itself when every value is the same."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return np.nan, np.nan
    mean, sem = np.mean(x), stats.sem(x)
    if sem == 0:
        return mean, mean
    return stats.t.interval(level, len(x) - 1, loc=mean, scale=sem)


def describe(x, *, level=LEVEL, seed=SEED, n_resamples=N_RESAMPLES):
    """The summary of one sample (NaNs dropped) as a dict over COLUMNS."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return dict(zip(COLUMNS, [0] + [np.nan] * (len(COLUMNS) - 1)))
    boot = bootstrap_ci(x, level=level, seed=seed, n_resamples=n_resamples)
    t = t_ci(x, level=level)
    return {"n": n, "mean": np.mean(x), "std": np.std(x, ddof=1) if n > 1 else np.nan,
            "sem": stats.sem(x) if n > 1 else np.nan, "boot_lo": boot[0], "boot_hi": boot[1],
            "t_lo": t[0], "t_hi": t[1], "min": np.min(x), "max": np.max(x)}


def groups(df, by):
    """(key tuple, rows) per group of the columns `by` (sorted; one group of all rows when by is
    empty)."""
    by = list(by)
    if not by:
        yield (), df
        return
    for key, g in df.groupby(by if len(by) > 1 else by[0], sort=True, observed=True):
        yield (key if isinstance(key, tuple) else (key,)), g


def summarize(df, by, metrics, *, level=LEVEL, seed=SEED, n_resamples=N_RESAMPLES):
    """Long table, one row per (group, metric): the `by` columns, metric, COLUMNS, then the tasks
    left out: n_pending, n_running, n_failed, n_diverged (every task of the group in that state)
    and n_undefined (done tasks whose metric is NaN). Only done tasks enter the statistics.
    by=[] summarizes all tasks as one group."""
    by = list(by)
    done = df["status"] == "done"
    rows = []
    for key, g in groups(df, by):
        left = g["status"].astype(str).value_counts()
        gd = g[done.loc[g.index]]
        for m in metrics:
            values = gd[m].to_numpy(dtype=float)
            row = dict(zip(by, key))
            row["metric"] = m
            row.update(describe(values, level=level, seed=seed, n_resamples=n_resamples))
            row.update({f"n_{s}": int(left.get(s, 0)) for s in EXCLUDED})
            row["n_undefined"] = int(np.sum(~np.isfinite(values)))
            rows.append(row)
    cols = by + ["metric"] + COLUMNS + [f"n_{s}" for s in EXCLUDED] + ["n_undefined"]
    return pd.DataFrame(rows, columns=cols)


def group_means(df, by, metric):
    """Mean of metric over done tasks per group of `by`, with n (a DataFrame indexed by `by`)."""
    done = df[df["status"] == "done"]
    g = done.groupby(list(by), sort=True)[metric]
    return pd.DataFrame({"mean": g.mean(), "n": g.count()})
