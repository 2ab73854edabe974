"""Crossings, peaks and refine's new values against hand computations."""
import math

import numpy as np
import pytest

from iclsweep import crossing, refine


def test_linear_crossing():
    # (1, 0.5) -> (2, 0.3) -> (3, 0.05): 0.1 is crossed at 2 + (0.1-0.3)/(0.05-0.3) = 2.8
    assert crossing.crossings([1, 2, 3], [0.5, 0.3, 0.05], 0.1) == [(pytest.approx(2.8), 1, "down")]


def test_log_crossing():
    # on a log axis the crossing interpolates log x: halfway from 10 to 1000 is 100
    (loc, i, d), = crossing.crossings([10, 1000], [0.0, 1.0], 0.5, log=True)
    assert loc == pytest.approx(100.0) and (i, d) == (0, "up")
    # 3/10 of the way: 10 * 100 ** 0.3
    assert crossing.first_crossing([10, 1000], [0.0, 1.0], 0.3, log=True) == \
        pytest.approx(10 * 100 ** 0.3)


def test_touching_the_level_counts_as_above():
    # equal to the level at x = 2, then below: the crossing is at 2 (t = 0)
    assert crossing.crossings([1, 2, 3], [1.0, 0.5, 0.0], 0.5) == [(2.0, 1, "down")]
    assert crossing.crossings([1, 2], [0.4, 0.4], 0.5) == []


def test_direction_and_nan_points():
    x, y = [1, 2, 3, 4, 5], [0.0, 1.0, np.nan, 1.0, 0.0]
    assert crossing.first_crossing(x, y, 0.5, direction="up") == pytest.approx(1.5)
    assert crossing.first_crossing(x, y, 0.5, direction="down") == pytest.approx(4.5)
    assert math.isnan(crossing.first_crossing(x, y, 2.0))


def test_peak_vertex():
    # y = 3 - (x - 1.1)^2 through 0.9, 1.0, 1.3 peaks at 1.1 exactly (a parabola)
    x = np.array([0.5, 0.9, 1.0, 1.3, 2.0])
    y = 3 - (x - 1.1) ** 2
    y[0] = y[-1] = 0.0
    assert crossing.peak(x, y) == pytest.approx(1.1, abs=1e-12)
    # log axis: y = -(ln x - ln 2)^2 peaks at x = 2
    x = np.array([0.5, 1.0, 4.0, 16.0])
    assert crossing.peak(x, -(np.log(x) - np.log(2)) ** 2, log=True) == pytest.approx(2.0)
    assert crossing.peak([1, 2, 3], [3, 2, 1]) == 1.0          # maximum at an end


def test_bootstrap_interval_bounds_by_hand():
    """Means 1.5 + s0 at x = 0.3 and 2.5 + s1 at x = 0.7 with replicate offsets {0, 0.1, 0.2}:
    resampled offsets s lie in [0, 0.2], so the crossing of 2 lies in
    [0.3 + 0.4 * 0.3 / 1.0, 0.3 + 0.4 * 0.5 / 1.0] = [0.42, 0.5]; the full-sample one is 0.46."""
    x = np.array([0.3, 0.7])
    samples = [1.5 + np.array([0, 0.1, 0.2]), 2.5 + np.array([0, 0.1, 0.2])]
    loc = crossing.first_crossing(x, [np.mean(s) for s in samples], 2.0)
    assert loc == pytest.approx(0.46)
    lo, hi, found = crossing.bootstrap(x, samples, level=2.0, n_resamples=2000)
    assert 0.42 - 1e-12 <= lo < loc < hi <= 0.5 + 1e-12 and found == 1.0
    # identical replicates: no spread, the interval is the point
    lo, hi, found = crossing.bootstrap(x, [np.full(3, 1.5), np.full(3, 2.5)], level=2.0,
                                       n_resamples=200)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)
    # a level some resamples never reach: found < 1, the interval over those that do
    lo, hi, found = crossing.bootstrap(x, samples, level=2.65, n_resamples=2000)
    assert 0 < found < 1 and lo <= hi <= 0.7


def test_new_values_linear_log_integer():
    assert refine.new_values([(1.0, 2.0)], 3) == [1.25, 1.5, 1.75]
    assert refine.new_values([(0.01, 1.0)], 1, log=True) == [0.1]
    assert refine.new_values([(0.01, 1.0)], 3, log=True) == pytest.approx(
        [10 ** -1.5, 0.1, 10 ** -0.5], rel=1e-6)
    assert refine.new_values([(100, 200)], 3, integer=True) == [125, 150, 175]
    assert refine.new_values([(1, 3)], 3, integer=True) == [2]          # rounded, deduplicated
    assert refine.new_values([(1.0, 2.0), (2.0, 3.0)], 1, existing=[1.5]) == [2.5]


def test_interval_follows_the_crossing_it_is_about():
    """Up across 0.5 between x = 1 and 2, down between 3 and 4. A quarter of the resamples lift
    x = 1 to 0.6 (both replicates 0.6) and lose the first crossing: they count as not found, and
    the second crossing at 3.5 stays out of the interval."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    samples = [np.array([0.3, 0.6]), np.array([1.0, 1.0]), np.array([1.0, 1.0]),
               np.array([0.2, 0.2])]
    assert crossing.first_crossing(x, [0.45, 1, 1, 0.2], 0.5) == pytest.approx(1 + 0.05 / 0.55)
    lo, hi, found = crossing.bootstrap(x, samples, level=0.5, n_resamples=4000)
    assert found == pytest.approx(0.75, abs=0.03)
    assert 1.0 <= lo <= hi <= 2.0
    # the resamples with a crossing have mean 0.45 (half of them, at 1 + 0.05 / 0.55) or 0.3 (a
    # quarter, at 1 + 0.2 / 0.7, later): the interval runs from one to the other
    assert lo == pytest.approx(1 + 0.05 / 0.55) and hi == pytest.approx(1 + 0.2 / 0.7)


def test_replicate_interval_is_honest_with_two_replicates():
    """A straight curve y = x crossing 0.5 at x = 0.5, measured at 5 grid values with 2 noisy
    replicates each (sd 0.05): over 100 such curves the replicates' interval (the hull of its
    bootstrap and parametric parts) holds the true crossing about 95% of the time, while the
    bootstrap alone, which never leaves two values' range, holds it far less often."""
    rng = np.random.default_rng(7)
    x = np.linspace(0.3, 0.7, 5)
    boot_hits = hull_hits = 0
    for _ in range(100):
        samples = [xi + rng.normal(0, 0.05, 2) for xi in x]
        blo, bhi, _ = crossing.bootstrap(x, samples, level=0.5, n_resamples=200)
        tlo, thi = crossing.parametric(x, samples, level=0.5, n_resamples=200)
        boot_hits += bool(blo <= 0.5 <= bhi)
        hull_hits += bool(min(blo, tlo) <= 0.5 <= max(bhi, thi))
    assert hull_hits >= 88, hull_hits
    assert boot_hits <= hull_hits - 10, (boot_hits, hull_hits)
