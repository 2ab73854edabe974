"""Statistics against hand computations: means, standard deviations, t intervals with tabulated
quantiles, percentile-bootstrap intervals whose bounds follow from counting resamples, and the
tasks each group leaves out."""
import math

import numpy as np
import pytest

import iclsweep
from files import concept, concept_err
from iclsweep import stats

T_975 = {1: 12.706204736174703, 2: 4.302652729749464, 3: 3.182446305284263}   # t(0.975, df)


def test_describe_by_hand():
    d = stats.describe([1.0, 2.0, 4.0])
    mean = 7 / 3
    std = math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 2)
    sem = std / math.sqrt(3)
    assert d["n"] == 3 and d["mean"] == pytest.approx(mean, abs=1e-15)
    assert d["std"] == pytest.approx(std, rel=1e-14) and d["sem"] == pytest.approx(sem, rel=1e-14)
    assert d["t_lo"] == pytest.approx(mean - T_975[2] * sem, rel=1e-9)
    assert d["t_hi"] == pytest.approx(mean + T_975[2] * sem, rel=1e-9)
    assert (d["min"], d["max"]) == (1.0, 4.0)


def test_bootstrap_bounds_by_counting():
    """Resampled means of [0, 0, 0, 1] are k/4 with k ~ Binomial(4, 1/4): P(k = 0) = 0.316 >
    0.025, so the 2.5% point is 0; P(k >= 3) = 0.051 > 0.025 >= P(k = 4) = 0.004, so the 97.5%
    point is 3/4."""
    assert stats.bootstrap_ci([0, 0, 0, 1]) == (0.0, 0.75)
    # [1, 2, 3]: P(mean = 1) = 1/27 > 0.025, so the interval is the whole range [1, 3].
    assert stats.bootstrap_ci([1.0, 2.0, 3.0]) == (1.0, 3.0)
    assert stats.bootstrap_ci([5.0, 5.0]) == (5.0, 5.0)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([1.0]))
    # fixed seed: the same interval every time
    x = np.random.default_rng(3).normal(size=7)
    assert stats.bootstrap_ci(x) == stats.bootstrap_ci(x)


def test_small_samples():
    one = stats.describe([0.5])
    assert one["n"] == 1 and one["mean"] == 0.5 and math.isnan(one["std"])
    assert math.isnan(one["boot_lo"]) and math.isnan(one["t_lo"])
    none = stats.describe([np.nan])
    assert none["n"] == 0 and math.isnan(none["mean"])
    same = stats.describe([0.2, 0.2])
    assert same["t_lo"] == same["t_hi"] == 0.2 and same["std"] == 0


def test_summarize_counts_what_it_leaves_out(tmp_path):
    path = tmp_path / "p.h5"
    status = ["done", "pending", "failed", "diverged", "running", "done"]
    concept(path, replicates=6, status=lambda r: status[r["replicate"]])
    df = iclsweep.load(path, warn=False)
    s = stats.summarize(df, ["K", "noise"], ["test_err"])
    assert len(s) == 12
    row = s[(s.K == 4) & (s.noise == 0.1)].iloc[0]
    vals = [concept_err({"K": 4, "noise": 0.1, "replicate": r}) for r in (0, 5)]
    assert row["n"] == 2 and row["mean"] == pytest.approx(np.mean(vals), abs=1e-15)
    assert row["std"] == pytest.approx(abs(vals[1] - vals[0]) / math.sqrt(2), rel=1e-12)
    assert (row["n_pending"], row["n_running"], row["n_failed"], row["n_diverged"]) == (1, 1, 1, 1)
    assert (row["boot_lo"], row["boot_hi"]) == (min(vals), max(vals))
    half = T_975[1] * abs(vals[1] - vals[0]) / 2
    assert row["t_hi"] - row["mean"] == pytest.approx(half, rel=1e-9)


def test_summarize_other_groupings_and_undefined(tmp_path):
    path = tmp_path / "u.h5"
    concept(path)
    df = iclsweep.load(path)
    df.loc[df.K == 8, "test_err_decay"] = np.nan          # undefined on done tasks
    s = stats.summarize(df, ["K"], ["test_err", "test_err_decay"])
    r = s[(s.K == 8) & (s.metric == "test_err_decay")].iloc[0]
    assert r["n"] == 0 and r["n_undefined"] == 8
    r = s[(s.K == 2) & (s.metric == "test_err")].iloc[0]
    want = np.mean([concept_err({"K": 2, "noise": n, "replicate": k})
                    for n in (0.01, 0.1, 0.1 + 0.2, 1.0) for k in (0, 1)])
    assert r["n"] == 8 and r["mean"] == pytest.approx(want, abs=1e-15)
    everything = stats.summarize(df, [], ["test_err"])
    assert everything["n"].item() == 24
