"""Where a curve crosses a level, or peaks, along an axis, and the bootstrap interval of that
location over replicates. Shared by `threshold` and `refine`.

A curve is the mean of a metric over the done tasks at each value x of the axis. It is read as
piecewise linear in u = log x on log-spaced axes (else u = x), linear in the metric. A value equal
to the level counts as above it, so a curve that touches the level from above and leaves below
crosses where it touched. The peak is the vertex of the parabola (in u) through the largest
mean and its two neighbours, or the largest mean's x at an end of the axis.

The interval resamples the replicates at each x independently (scipy.stats.bootstrap with
paired=False: different x are different tasks), recomputes the location from the resampled means,
and takes the percentile interval over the resamples that have one (2000 resamples, seed 0);
`found` is their share.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from .stats import LEVEL, SEED

# Resamples for a location's interval (each recomputes the curve in Python; 2000 is the usual
# count for a 95% percentile interval).
N_RESAMPLES = 2000


def _space(x, log):
    x = np.asarray(x, dtype=float)
    return np.log(x) if log else x


def crossings(x, y, level, log=False):
    """Every crossing of level by the curve through (x, y), x increasing: a list of
    (location, i, direction) with x[i] <= location <= x[i+1] and direction 'down' (from >= level
    to below) or 'up'. NaN points are left out of the curve first."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    idx = np.nonzero(ok)[0]
    x, y = x[ok], y[ok]
    u = _space(x, log)
    above = y >= level
    out = []
    for i in range(len(y) - 1):
        if above[i] == above[i + 1]:
            continue
        t = (level - y[i]) / (y[i + 1] - y[i])
        loc = u[i] + t * (u[i + 1] - u[i])
        out.append((float(np.exp(loc) if log else loc), int(idx[i]),
                    "down" if above[i] else "up"))
    return out


def first_crossing(x, y, level, log=False, direction="any"):
    """Location of the first crossing in the given direction ('down', 'up' or 'any'); NaN when
    there is none."""
    for loc, _, d in crossings(x, y, level, log):
        if direction in ("any", d):
            return loc
    return np.nan


def peak(x, y, log=False):
    """Location of the curve's maximum (parabolic vertex through the top three points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if not len(y):
        return np.nan
    i = int(np.argmax(y))
    if i == 0 or i == len(y) - 1:
        return float(x[i])
    (u0, u1, u2), (y0, y1, y2) = _space(x[i - 1:i + 2], log), y[i - 1:i + 2]
    # The parabola through the three points (Lagrange form): its vertex is -b / 2a.
    d = (u0 - u1) * (u0 - u2) * (u1 - u2)
    a = (u2 * (y1 - y0) + u1 * (y0 - y2) + u0 * (y2 - y1)) / d
    b = (u2 ** 2 * (y0 - y1) + u1 ** 2 * (y2 - y0) + u0 ** 2 * (y1 - y2)) / d
    if a >= 0:
        return float(x[i])
    v = -b / (2 * a)
    return float(np.exp(v) if log else v)


def locate(x, means, *, level=None, log=False, direction="any"):
    """The location the caller asked for: the first crossing of level, or the peak (level None)."""
    if level is None:
        return peak(x, means, log)
    return first_crossing(x, means, level, log, direction)


def nearest_crossing(x, y, level, near, log=False, direction="any"):
    """The crossing in the given direction nearest to `near` (in u); NaN when there is none."""
    found = [(loc, d) for loc, _, d in crossings(x, y, level, log) if direction in ("any", d)]
    if not found:
        return np.nan
    u0 = _space([near], log)[0]
    return min(found, key=lambda c: abs(_space([c[0]], log)[0] - u0))[0]


def bootstrap(x, samples, *, level=None, log=False, direction="any", confidence=LEVEL,
              seed=SEED, n_resamples=N_RESAMPLES):
    """(lo, hi, found) for the location of the mean curve through samples (one array of done
    values per x). A crossing is followed across resamples: each resample contributes its
    crossing in the same direction nearest to the full sample's (so a second crossing elsewhere
    on the axis does not widen the interval); without a full-sample crossing, its first one.
    Samples with one value stay fixed; no interval without any sample of two."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    vary = [k for k, s in enumerate(samples) if len(s) >= 2]
    if not vary:
        return np.nan, np.nan, np.nan
    means = np.array([np.mean(s) if len(s) else np.nan for s in samples])
    follow = None
    if level is not None:
        first = [c for c in crossings(x, means, level, log) if direction in ("any", c[2])]
        follow = (first[0][0], first[0][2]) if first else None

    def statistic(*resampled):
        m = means.copy()
        for k, s in zip(vary, resampled):
            m[k] = np.mean(s)
        if follow is not None:
            return nearest_crossing(x, m, level, follow[0], log, follow[1])
        return locate(x, m, level=level, log=log, direction=direction)

    res = sps.bootstrap([samples[k] for k in vary], statistic, paired=False, vectorized=False,
                        n_resamples=n_resamples, method="percentile", random_state=seed)
    dist = np.asarray(res.bootstrap_distribution, dtype=float)
    found = float(np.mean(np.isfinite(dist)))
    if found == 0:
        return np.nan, np.nan, 0.0
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.nanpercentile(dist, [tail, 100 - tail])
    return float(lo), float(hi), found
