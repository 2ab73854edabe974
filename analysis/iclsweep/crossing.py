"""Where a curve crosses a level, or peaks, along an axis, and the interval of that location.
Shared by `threshold`, `refine` and `adapt`.

A curve is the mean of a metric over the done tasks at each value x of the axis. It is read as
piecewise linear in u = log x on log-spaced axes (else u = x), linear in the metric. A value equal
to the level counts as above it, so a curve that touches the level from above and leaves below
crosses where it touched. The peak is the interior local maximum of largest prominence
(scipy.signal.find_peaks: how far the curve must descend from it before reaching higher ground),
so a noisy rise at an end of the axis does not hide the interior peak a user asks for; its
location is the vertex of the parabola (in u) through it and its two neighbours. A curve without
an interior local maximum peaks at an end of the axis, and the result says so (`at_edge`).

Two sources of uncertainty make up the 95% interval:
- replicates, two ways whose hull is kept, each recomputing the location from resampled mean
  curves (following the crossing found: each resample contributes its crossing in the same
  direction nearest to it; for a peak, its peak nearest to it), 2000 resamples, seed 0:
  a percentile bootstrap that resamples the replicates at each x independently
  (scipy.stats.bootstrap with paired=False: different x are different tasks; `boot_lo`,
  `boot_hi`, and `found`, the share of resamples that have a location), and a parametric
  resampling where each mean moves by t s / sqrt(n_x), t from Student's t with the pooled
  degrees of freedom sum(n_x - 1) and s the replicates' standard deviation pooled over the
  curve's points (`t_lo`, `t_hi`). A bootstrap of 2 or 3 values never leaves their range and
  underestimates the spread of their mean (its variance is (n - 1)/n of the true one); the
  parametric part, which pools the noise of the whole curve (it changes slowly along an axis),
  keeps the interval honest with few replicates;
- interpolation: between grid values the curve is unknown, so a crossing lies anywhere between the
  two grid values that bracket it, and a peak between the neighbours of its largest point (for a
  curve monotone between grid values, or unimodal near its peak).
The interval is the hull of them all (`ci_lo`, `ci_hi`). It narrows as the grid is refined (`refine`, `adapt`) and as replicates
are added.
"""
from __future__ import annotations

import numpy as np
from scipy import signal
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


def peak_index(y):
    """(index of the peak of y, at_edge): the interior local maximum of largest prominence, or
    the larger end of the curve when it has no interior local maximum. y has no NaN."""
    y = np.asarray(y, dtype=float)
    if len(y) >= 3:
        found, props = signal.find_peaks(y, prominence=0)
        if len(found):
            return int(found[np.argmax(props["prominences"])]), False
    return int(np.argmax(y)), True


def _vertex(x, y, i, log):
    """The vertex of the parabola (in u) through points i-1, i, i+1 (x[i] at an end)."""
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


def _finite(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    return x[ok], y[ok]


def peak(x, y, log=False):
    """Location of the curve's peak (module docstring); NaN for an empty curve."""
    x, y = _finite(x, y)
    if not len(y):
        return np.nan
    return _vertex(x, y, peak_index(y)[0], log)


def peak_info(x, y, log=False):
    """(location, bracket lo, bracket hi, at_edge) of the curve's peak: the bracket is the grid
    values either side of its largest point."""
    x, y = _finite(x, y)
    if not len(y):
        return np.nan, np.nan, np.nan, False
    i, edge = peak_index(y)
    return (_vertex(x, y, i, log), float(x[max(i - 1, 0)]), float(x[min(i + 1, len(x) - 1)]),
            edge)


def nearest_peak(x, y, near, log=False):
    """Of the curve's interior local maxima, the vertex nearest to `near` (in u); the peak when
    it has none."""
    x, y = _finite(x, y)
    if not len(y):
        return np.nan
    found = signal.find_peaks(y)[0] if len(y) >= 3 else []
    if not len(found):
        return peak(x, y, log)
    u0 = _space([near], log)[0]
    locs = [_vertex(x, y, int(i), log) for i in found]
    return min(locs, key=lambda v: abs(_space([v], log)[0] - u0))


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
    else:
        follow = (peak(x, means, log), None)

    def statistic(*resampled):
        m = means.copy()
        for k, s in zip(vary, resampled):
            m[k] = np.mean(s)
        if level is None:
            return nearest_peak(x, m, follow[0], log)
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


def parametric(x, samples, *, level=None, log=False, direction="any", confidence=LEVEL,
               seed=SEED, n_resamples=N_RESAMPLES):
    """(lo, hi) for the location of the mean curve through samples, from mean curves resampled as
    mean_x + t s / sqrt(n_x) (module docstring), each x independently; NaN without any sample of
    two or without spread."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    vary = [k for k, s in enumerate(samples) if len(s) >= 2]
    df = sum(len(samples[k]) - 1 for k in vary)
    if not vary:
        return np.nan, np.nan
    s = np.sqrt(sum(float(np.sum((samples[k] - np.mean(samples[k])) ** 2)) for k in vary) / df)
    means = np.array([np.mean(v) if len(v) else np.nan for v in samples])
    full = locate(x, means, level=level, log=log, direction=direction)
    if s == 0 or not np.isfinite(full):
        return (full, full) if np.isfinite(full) else (np.nan, np.nan)
    t = np.random.default_rng(seed).standard_t(df, size=(n_resamples, len(samples)))
    sem = np.array([s / np.sqrt(len(v)) if len(v) else 0.0 for v in samples])
    locs = np.empty(n_resamples)
    for r in range(n_resamples):
        m = means + t[r] * sem
        locs[r] = (nearest_peak(x, m, full, log) if level is None
                   else nearest_crossing(x, m, level, full, log, direction))
    if not np.isfinite(locs).any():
        return np.nan, np.nan
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.nanpercentile(locs, [tail, 100 - tail])
    return float(lo), float(hi)


def bracket(x, means, loc):
    """(lo, hi): the grid values either side of a crossing at loc (loc itself when on the grid)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(np.asarray(means, dtype=float))]
    if not np.isfinite(loc) or not len(x):
        return np.nan, np.nan
    below, above = x[x <= loc], x[x >= loc]
    return (float(below[-1]) if len(below) else np.nan,
            float(above[0]) if len(above) else np.nan)


def interval(x, samples, *, level=None, log=False, direction="any", confidence=LEVEL,
             seed=SEED, n_resamples=N_RESAMPLES):
    """Everything about one curve's location: a dict with location, at_edge (a peak at an end of
    the axis), bracket_lo/hi (the interpolation part), boot_lo/hi and found, t_lo/hi (the
    replicate parts), ci_lo/hi (their hull)."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    means = np.array([np.mean(s) if len(s) else np.nan for s in samples])
    if level is None:
        loc, blo, bhi, edge = peak_info(x, means, log)
    else:
        loc, edge = first_crossing(x, means, level, log, direction), False
        blo, bhi = bracket(x, means, loc)
    lo, hi, found = bootstrap(x, samples, level=level, log=log, direction=direction,
                              confidence=confidence, seed=seed, n_resamples=n_resamples)
    tlo, thi = parametric(x, samples, level=level, log=log, direction=direction,
                          confidence=confidence, seed=seed, n_resamples=n_resamples)
    parts = [v for v in (lo, hi, tlo, thi, blo, bhi) if np.isfinite(v)]
    return {"location": loc, "at_edge": bool(edge), "bracket_lo": blo, "bracket_hi": bhi,
            "boot_lo": lo, "boot_hi": hi, "found": found, "t_lo": tlo, "t_hi": thi,
            "ci_lo": min(parts) if parts and np.isfinite(loc) else np.nan,
            "ci_hi": max(parts) if parts and np.isfinite(loc) else np.nan}
