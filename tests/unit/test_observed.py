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
    marshall_eb,
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
    r = profile_backtest(table, spec, inc, fit_before="2024-01", test_months=test,
                         observed_months=observed, residents=residents(DATA),
                         area=land_area_km2(areas), baselines=iod_baselines(DATA), n_boot=0)
    t = r.table.set_index(["ranking", "set"])["hit_rate"]
    assert r.n_areas == 354 and r.n_incidents == 6608
    assert t["IoD2025 crime domain", "top 10%"] == pytest.approx(0.247, abs=0.002)
    # Issue 13's gap: the previous default (IoD2025 only) found less than last period's counts;
    # the default, with recent observed violence, finds at least as much.
    old = profile_backtest(table, load_spec(DATA / "indicators" / "spec_iod_only.toml"), inc,
                           fit_before="2024-01", test_months=test, observed_months=observed,
                           residents=residents(DATA), n_boot=0)
    old_t = old.table.set_index(["ranking", "set"])["hit_rate"]
    assert old_t["profile", "top 10%"] < t["previous period counts", "top 10%"]
    assert t["profile", "top 10%"] >= t["previous period counts", "top 10%"]
    assert t["previous period counts", "top 10%"] == pytest.approx(0.259, abs=0.003)
    assert t["random (expected)", "top 10%"] == pytest.approx(0.10)
    assert t["ceiling (test counts)", "top 10%"] == pytest.approx(0.307, abs=0.003)
