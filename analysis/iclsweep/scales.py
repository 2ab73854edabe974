"""Axis values without matplotlib: short labels for grid values, whether values are numbers,
whether they are log-spaced, and cell edges around centre values. Shared by the commands that draw
and by those that only compute (table, refine, threshold without a figure), so that computing never
loads matplotlib."""
from __future__ import annotations

import numpy as np


def numeric(values):
    v = np.asarray(values)
    return v.dtype.kind in "iuf"


def is_log_spaced(values):
    """True when the (numeric, positive) values are closer to evenly spaced in log than in linear
    terms: geomspace, powers of two. Two values: log when they differ by a factor of 10 or more."""
    if not numeric(values):
        return False
    v = np.unique(np.asarray(values, dtype=float))
    if len(v) < 2 or v[0] <= 0:
        return False
    if len(v) == 2:
        return v[1] / v[0] >= 10
    lin, log = np.diff(v), np.diff(np.log(v))
    return np.std(log) / np.mean(log) < np.std(lin) / np.mean(lin)


def edges(values, log):
    """Cell edges around sorted centre values: midpoints (geometric on log axes), the outer
    edges half a step beyond."""
    v = np.asarray(values, dtype=float)
    u = np.log(v) if log else v
    if len(u) == 1:
        half = 0.5 if log else (abs(u[0]) * 0.5 or 0.5)
        e = np.array([u[0] - half, u[0] + half])
    else:
        mid = (u[:-1] + u[1:]) / 2
        e = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return np.exp(e) if log else e


def fmt(v, digits=3):
    """A grid value as a short label: 0.01, 0.0316, 2, 1e-05 (digits significant digits)."""
    if isinstance(v, (str, bool, np.bool_)):
        return str(v)
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.{digits}g}"


def fmt_distinct(values, digits=3):
    """Labels for sorted values, with as many digits as it takes to tell neighbours apart (a
    refined axis: 0.1, 0.115, 0.13 rather than 0.1, 0.1, 0.1)."""
    values = list(values)
    for d in range(digits, 13):
        labels = [fmt(v, d) for v in values]
        if len(set(labels)) == len(set(values)):
            return labels
    return [repr(v) for v in values]
