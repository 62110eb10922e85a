"""Observed-violence indicators: counts, Marshall EB rates, quadrants, the shipped backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiler.errors import ProfilerError
from profiler.observed import (
    QUADRANTS,
    count_incidents,
    covariate_eb,
    marshall_eb,
    nb_posterior_mean,
    nb_prior,
    observed_rate,
    quadrants,
)

DATA = Path(__file__).resolve().parents[2] / "data"


def test_obs001_count_incidents_filters_and_zero_fills():
    inc = pd.DataFrame({
        "month": ["2024-01", "2024-01", "2024-02", "2024-01", "2024-01"],
        "crime_type": ["Robbery", "Bicycle theft", "Robbery", "Public order", "Robbery"],
        "lsoa21_code": ["E01000001", "E01000001", "E01000001", "E01000002", None],
    })
    out = count_incidents(inc, ["E01000002", "E01000001", "E01000003"], months=["2024-01"])
    assert out.tolist() == [1, 1, 0]
    assert count_incidents(inc, ["E01000001"], crime_types=None).item() == 3
    with pytest.raises(ProfilerError, match="missing column.*lsoa21_code"):
        count_incidents(inc.drop(columns="lsoa21_code"), ["E01000001"])


def test_obs002_marshall_hand_worked():
    # y = 0, 10, 20; n = 100, 100, 200 -> m = 30/400 = 0.075; r = 0, 0.1, 0.1;
    # s2 = (100 * 0.075^2 + 100 * 0.025^2 + 200 * 0.025^2) / 400 = 0.001875;
    # A = s2 - m / mean(n) = 0.001875 - 0.075 / (400/3) = 0.0013125;
    # w_i = A / (A + m / n_i) = 0.636..., 0.636..., 0.777...
    y, n = np.array([0.0, 10, 20]), np.array([100.0, 100, 200])
    a = 0.001875 - 0.075 / (400 / 3)
    w = a / (a + 0.075 / n)
    expected = 0.075 + w * (y / n - 0.075)
    np.testing.assert_allclose(marshall_eb(y, n), expected)
    # Annualised per 1,000 over a 2-month window.
    np.testing.assert_allclose(observed_rate(y, n, "eb_global", months=2), expected * 6000)


def test_obs003_no_extra_variance_shrinks_fully():
    n = np.full(50, 1000.0)
    y = np.full(50, 5.0)  # all equal: s2 = 0 < m / mean(n) -> every area gets the pooled rate
    np.testing.assert_allclose(marshall_eb(y, n), 0.005)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(20, 3000)), min_size=3, max_size=60))
def test_obs004_eb_lies_between_raw_rate_and_pooled_rate(rows):
    y = np.array([r[0] for r in rows], dtype=float)
    n = np.array([r[1] for r in rows], dtype=float)
    if y.sum() == 0:
        return
    eb, raw, m = marshall_eb(y, n), y / n, y.sum() / n.sum()
    assert (np.minimum(raw, m) - 1e-12 <= eb).all() and (eb <= np.maximum(raw, m) + 1e-12).all()
    # Permuting areas permutes the rates.
    perm = np.random.default_rng(len(rows)).permutation(len(rows))
    np.testing.assert_allclose(marshall_eb(y[perm], n[perm]), eb[perm])


def test_obs005_small_population_shrinks_more():
    y = np.array([2.0, 200, 5, 7, 9, 30])
    n = np.array([100.0, 10000, 1000, 1000, 1000, 2000])
    eb, raw = marshall_eb(y, n), y / n
    m = y.sum() / n.sum()
    # Same raw rate (0.02), the small area moves further toward the pooled rate.
    assert raw[0] == raw[1] and abs(eb[0] - m) < abs(eb[1] - m)


def test_obs006_local_eb_shrinks_within_groups():
    y = np.array([1.0, 3, 2, 20, 30, 25])
    n = np.full(6, 1000.0)
    g = ["a", "a", "a", "b", "b", "b"]
    local = observed_rate(y, n, "eb_local", groups=g)
    alone = observed_rate(y[3:], n[3:], "eb_global")
    np.testing.assert_allclose(local[3:], alone)
    assert observed_rate(y, n, "count").tolist() == y.tolist()
    np.testing.assert_allclose(observed_rate(y, n, "raw_rate"), y / n * 12000)
    with pytest.raises(ProfilerError, match="eb_local needs groups"):
        observed_rate(y, n, "eb_local")
    with pytest.raises(ProfilerError, match="no residents"):
        observed_rate(y, np.zeros(6))
    with pytest.raises(ProfilerError, match="method 'x'; use one of"):
        observed_rate(y, n, "x")


def test_obs007_quadrants_thresholds():
    risk = np.arange(10, dtype=float)  # top quintile: 7.2 and above -> areas 8, 9
    obs = np.array([9.0, 0, 0, 0, 0, 0, 0, 0, 9, 0])  # top quintile: areas 0 and 8
    q = quadrants(risk, obs)
    assert list(q.categories) == list(QUADRANTS)
    assert q[8] == "high risk, high violence"
    assert q[9] == "high risk, low recorded violence"
    assert q[0] == "low risk, high violence"
    assert q[1] == "low risk, low violence"
    flags = np.zeros(10, dtype=bool)
    flags[[0, 1]] = True
    q2 = quadrants(risk, obs, risk_high=flags)
    assert q2[0] == "high risk, high violence" and q2[8] == "low risk, high violence"
    with pytest.raises(ProfilerError, match="risk_quantile must be in"):
        quadrants(risk, obs, risk_quantile=1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 50)), min_size=2, max_size=50))
def test_obs008_quadrants_partition_and_permute(rows):
    s = np.array([r[0] for r in rows])
    o = np.array([r[1] for r in rows])
    q = np.asarray(quadrants(s, o))
    assert set(q) <= set(QUADRANTS)
    perm = np.random.default_rng(len(rows)).permutation(len(rows))
    assert (np.asarray(quadrants(s[perm], o[perm])) == q[perm]).all()


@pytest.mark.skipif(not (DATA / "sources" / "police_uk").exists(), reason="no shipped police.uk")
def test_obs009_shipped_backtest_reproduces_the_measured_baselines():
    from profiler.backtest import profile_backtest
    from profiler.backtest_data import (
        SHIPPED_BACKTESTS,
        iod_baselines,
        land_area_km2,
        load_shipped_incidents,
        residents,
    )
    from profiler.geo import load_lsoa_boundaries
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(DATA / "indicators" / "spec.toml")
    table = load_indicator_table(DATA / "indicators" / "lsoa21_indicators.csv", spec)
    areas = load_lsoa_boundaries(DATA, "warwickshire")
    test = ("2024-01", "2024-02", "2024-03", "2024-04")
    observed = ("2018-10", "2018-11", "2018-12", "2019-01", "2019-02")
    inc = load_shipped_incidents(DATA, observed + test, areas)
    scope = SHIPPED_BACKTESTS[0]["area"]  # the shipped force's county
    r = profile_backtest(table, spec, inc, fit_before="2024-01", test_months=test, scope=scope,
                         observed_months=observed, residents=residents(DATA),
                         area=land_area_km2(areas), baselines=iod_baselines(DATA), n_boot=0)
    t = r.table.set_index(["ranking", "set"])["hit_rate"]
    assert r.n_areas == 354 and r.n_incidents == 6608
    assert t["IoD2025 crime domain", "top 10%"] == pytest.approx(0.247, abs=0.002)
    # Issue 13's gap: the previous default (IoD2025 only) found less than last period's counts;
    # the default, with recent observed violence, finds at least as much.
    old = profile_backtest(table, load_spec(DATA / "indicators" / "spec_iod_only.toml"), inc,
                           fit_before="2024-01", test_months=test, observed_months=observed,
                           residents=residents(DATA), scope=scope, n_boot=0)
    old_t = old.table.set_index(["ranking", "set"])["hit_rate"]
    assert old_t["profile", "top 10%"] < t["previous period counts", "top 10%"]
    assert t["profile", "top 10%"] >= t["previous period counts", "top 10%"]
    assert t["previous period counts", "top 10%"] == pytest.approx(0.259, abs=0.003)
    assert t["random (expected)", "top 10%"] == pytest.approx(0.10)
    assert t["ceiling (test counts)", "top 10%"] == pytest.approx(0.307, abs=0.003)


def test_obs010_nb_posterior_mean_hand_worked():
    # Gamma prior of mean 2 and shape 2 (variance 2): posterior Gamma(2 + y, rate 2/2 + 1 = 2),
    # mean (2 + y) / 2: y = 0 -> 1, y = 6 -> 4; the count's weight mu / (alpha + mu) = 1/2.
    np.testing.assert_allclose(nb_posterior_mean([0, 6], [2, 2], 2.0), [1.0, 4.0])
    np.testing.assert_allclose(nb_posterior_mean([0, 6], [2, 2], np.inf), [2.0, 2.0])
    np.testing.assert_allclose(nb_posterior_mean([0, 6], [2, 2], 0.0), [0.0, 6.0])
    # A larger prior mean gives the count more weight: mu = 8 -> 8 (2 + 6) / 10 = 6.4.
    np.testing.assert_allclose(nb_posterior_mean([6], [8], 2.0), [6.4])


def test_obs011_intercept_only_prior_is_the_mean_count():
    # Equal residents and a constant covariate leave only the intercept; its NB maximum-
    # likelihood equation sum alpha (y - mu) / (alpha + mu) = 0 gives mu = mean(y) = 4.
    y = np.array([0.0, 2, 4, 10])
    mu, alpha = nb_prior(y, np.ones((4, 1)), np.full(4, 1500.0))
    np.testing.assert_allclose(mu, 4.0, rtol=1e-5)
    assert 0 < alpha < np.inf
    post = covariate_eb(y, np.ones((4, 1)), np.full(4, 1500.0))
    np.testing.assert_allclose(post, nb_posterior_mean(y, mu, alpha))
    # Per month and per 1,000 residents a year over a 2-month window.
    np.testing.assert_allclose(observed_rate(y, np.full(4, 1500.0), "count_eb", months=2,
                                             covariates=np.ones((4, 1))), post / 2)
    np.testing.assert_allclose(observed_rate(y, np.full(4, 1500.0), "eb_covariate", months=2,
                                             covariates=np.ones((4, 1))), post / 1500 * 6000)
    with pytest.raises(ProfilerError, match="count_eb needs covariates"):
        observed_rate(y, np.full(4, 1500.0), "count_eb")
    assert nb_prior(np.zeros(4), np.ones((4, 1)), np.full(4, 1500.0))[1] == np.inf


def test_obs012_prior_follows_the_covariate():
    # Counts driven by a covariate: the prior recovers the ordering, the shrunk counts track the
    # true means better than the raw counts.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 3))
    n = rng.integers(1000, 3000, 400).astype(float)
    lam = np.exp(0.8 + 0.7 * x[:, 0]) * rng.gamma(4.0, 0.25, 400)
    y = rng.poisson(lam).astype(float)
    mu, alpha = nb_prior(y, x, n)
    assert np.corrcoef(np.log(mu), x[:, 0])[0, 1] > 0.95
    assert 1.5 < alpha < 10
    post = covariate_eb(y, x, n)
    assert np.corrcoef(post, lam)[0, 1] > np.corrcoef(y, lam)[0, 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3), st.integers(200, 3000)),
                min_size=4, max_size=40))
def test_obs013_covariate_eb_between_count_and_prior_and_monotone(rows):
    y = np.array([r[0] for r in rows], dtype=float)
    x = np.array([[float(r[1])] for r in rows])
    n = np.array([float(r[2]) for r in rows])
    if y.sum() == 0:
        return
    mu, alpha = nb_prior(y, x, n)
    post = nb_posterior_mean(y, mu, alpha)
    lo, hi = np.minimum(y, mu), np.maximum(y, mu)
    assert (lo - 1e-9 <= post).all() and (post <= hi + 1e-9).all()
    # Areas alike in covariates and residents keep the order of their counts.
    key = x[:, 0] * 1e5 + n
    for k in np.unique(key):
        same = key == k
        order = np.argsort(y[same], kind="stable")
        assert (np.diff(post[same][order]) >= -1e-9).all()
    # Permuting areas permutes the result.
    perm = np.random.default_rng(len(rows)).permutation(len(rows))
    np.testing.assert_allclose(covariate_eb(y[perm], x[perm], n[perm]), post[perm], rtol=1e-3,
                               atol=1e-4)
