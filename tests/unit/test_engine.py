"""Engine: normalisations, banding schemes and Hypothesis properties."""

from __future__ import annotations

import warnings
from functools import partial

import mapclassify as mc
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from synth import make_spec, make_table, random_table

from profiler.engine import (
    BANDS,
    SCORE_DECIMALS,
    RiskProfiler,
    _ignoring_blanks,
    assign_bands,
    fit_band_cuts,
)
from profiler.errors import ProfilerError
from profiler.spec import BANDINGS, NORMALISATIONS

FIXED = [-1.0, -0.5, 0.5, 1.0]
PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spec(k, banding="stddev", **kw):
    return make_spec(k, banding=banding, fixed_thresholds=FIXED, **kw)


values_strategy = st.integers(min_value=3, max_value=40).flatmap(
    lambda n: st.integers(min_value=1, max_value=5).flatmap(
        lambda k: arrays(
            np.float64,
            (n, k),
            elements=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=32),
        )
    )
)


def test_eng001_zscore_matches_definition():
    table = random_table(100, 3)
    model = RiskProfiler(_spec(3)).fit(table)
    out = model.transform(table)
    x = table["c1"].to_numpy()
    np.testing.assert_allclose(out["i1_norm"], (x - x.mean()) / x.std(), atol=1e-9)
    contributions = out[[f"i{j}_contribution" for j in range(3)]].sum(axis=1)
    np.testing.assert_allclose(out["score"], contributions, atol=1e-9)


def test_eng002_lower_is_riskier_flips_sign():
    table = random_table(50, 2)
    hi = RiskProfiler(_spec(2)).fit_transform(table)
    lo = RiskProfiler(_spec(2, directions=["lower_is_riskier", "higher_is_riskier"])).fit_transform(
        table
    )
    np.testing.assert_allclose(hi["i0_norm"], -lo["i0_norm"], atol=1e-9)


def test_eng003_exponential_is_iod_transformation():
    table = make_table(np.arange(1.0, 101.0).reshape(-1, 1))
    out = RiskProfiler(_spec(1, normalisation="exponential")).fit_transform(table)
    # R = rank / N; the riskiest area (R = 1) scores exactly 100, the least R = 1/N.
    r = np.arange(1, 101) / 100
    expected = -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))
    np.testing.assert_allclose(out["i0_norm"], expected, atol=1e-9)
    assert out["i0_norm"].iloc[-1] == pytest.approx(100.0)


def test_eng004_rank_is_percentile():
    table = make_table(np.arange(10.0).reshape(-1, 1))
    out = RiskProfiler(_spec(1, normalisation="rank")).fit_transform(table)
    np.testing.assert_allclose(out["i0_norm"], (np.arange(10) + 0.5) / 10)


def test_eng005_minmax_reference_range_is_unit():
    table = random_table(30, 2)
    out = RiskProfiler(_spec(2, normalisation="minmax")).fit_transform(table)
    assert out["i0_norm"].min() == pytest.approx(0) and out["i0_norm"].max() == pytest.approx(1)


def test_eng006_stddev_cuts_equal_mapclassify_stdmean():
    y = np.random.default_rng(3).lognormal(size=500)
    cuts = fit_band_cuts(y, "stddev")
    np.testing.assert_allclose(cuts, mc.StdMean(y, multiples=[-2, -1, 1, 2]).bins[:4], atol=1e-9)


def test_eng007_quantile_bands_are_quintiles():
    y = np.arange(100.0)
    counts = np.bincount(assign_bands(y, fit_band_cuts(y, "quantile")), minlength=5)
    assert counts.tolist() == [20, 20, 20, 20, 20]


def test_eng008_natural_breaks_separates_clusters():
    y = np.concatenate([np.full(10, v) + np.linspace(0, 0.1, 10) for v in (0, 10, 20, 30, 40)])
    bands = assign_bands(y, fit_band_cuts(y, "natural_breaks"))
    assert np.bincount(bands).tolist() == [10, 10, 10, 10, 10]


def test_eng009_fixed_thresholds_upper_inclusive():
    cuts = fit_band_cuts(np.zeros(3), "fixed", FIXED)
    assert assign_bands(np.array([-1.0, -0.99, 0.5, 0.51, 1.0, 7.0]), cuts).tolist() == [
        0, 1, 2, 3, 3, 4,
    ]


def test_eng010_transform_subset_uses_reference_fit():
    table = random_table(200, 3)
    model = RiskProfiler(_spec(3)).fit(table)
    whole = model.transform(table)
    part = model.transform(table.iloc[:20])
    pd.testing.assert_frame_equal(whole.iloc[:20], part)


def test_eng011_missing_policy_error_and_median():
    table = random_table(20, 2)
    table.loc[3, "c0"] = np.nan
    with pytest.raises(ProfilerError, match=r"c0: 1 blank value.*E01000003.*missing"):
        RiskProfiler(_spec(2)).fit(table)
    out = RiskProfiler(_spec(2, missing="median")).fit_transform(table)
    assert out["score"].notna().all()
    assert np.isnan(out.loc[3, "i0_value"])  # the raw value stays visibly missing


def test_eng012_cap_winsorises_outliers():
    values = np.concatenate([np.linspace(0, 1, 99), [1000.0]]).reshape(-1, 1)
    table = make_table(values)
    capped = RiskProfiler(_spec(1, cap=0.01)).fit_transform(table)
    plain = RiskProfiler(_spec(1)).fit_transform(table)
    assert capped["i0_norm"].max() < plain["i0_norm"].max()


def test_eng013_non_numeric_value_named():
    table = random_table(10, 2)
    table["c1"] = table["c1"].astype(object)
    table.loc[4, "c1"] = "n/a"
    with pytest.raises(ProfilerError, match=r"column c1: 1 non-numeric.*E01000004='n/a'"):
        RiskProfiler(_spec(2)).fit(table)


def test_eng014_unfitted_transform_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RiskProfiler(_spec(2)).transform(random_table(5, 2))


def test_eng015_sklearn_clone_roundtrip():
    from sklearn.base import clone

    model = RiskProfiler(_spec(2), normalisation="rank", banding="quantile")
    params = clone(model).get_params()
    assert params["normalisation"] == "rank" and params["banding"] == "quantile"


# --- Hypothesis properties ----------------------------------------------------------------


@PROP
@given(
    values=values_strategy,
    norm=st.sampled_from(NORMALISATIONS),
    data=st.data(),
)
def test_eng101_raising_a_risk_indicator_never_lowers_the_score(values, norm, data):
    n, k = values.shape
    directions = data.draw(
        st.lists(st.sampled_from(["higher_is_riskier", "lower_is_riskier"]), min_size=k,
                 max_size=k)
    )
    spec = _spec(k, normalisation=norm, directions=directions)
    table = make_table(values)
    model = RiskProfiler(spec).fit(table)
    row = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, k - 1))
    step = data.draw(st.floats(min_value=0.0, max_value=500.0))
    moved = table.copy()
    sign = 1.0 if directions[j] == "higher_is_riskier" else -1.0
    moved.loc[row, f"c{j}"] = moved.loc[row, f"c{j}"] + sign * step
    before = model.transform(table.iloc[[row]])
    after = model.transform(moved.iloc[[row]])
    assert after["score"].iloc[0] >= before["score"].iloc[0] - 1e-9
    assert BANDS.index(after["band"].iloc[0]) >= BANDS.index(before["band"].iloc[0])


@PROP
@given(
    values=values_strategy,
    banding=st.sampled_from(BANDINGS),
    norm=st.sampled_from(NORMALISATIONS),
    scale=st.floats(min_value=1e-3, max_value=1e3),
    data=st.data(),
)
def test_eng102_scaling_all_weights_leaves_bands_unchanged(values, banding, norm, scale, data):
    k = values.shape[1]
    weights = data.draw(st.lists(st.floats(0.1, 10.0), min_size=k, max_size=k))
    table = make_table(values)
    base = RiskProfiler(_spec(k, banding, normalisation=norm, weights=weights)).fit_transform(table)
    scaled_w = [w * scale for w in weights]
    scaled = RiskProfiler(
        _spec(k, banding, normalisation=norm, weights=[min(w, 100.0) for w in scaled_w])
    ) if max(scaled_w) <= 100 else None
    if scaled is None:
        return  # weights above the spec maximum are refused; nothing to compare
    out = scaled.fit_transform(table)
    assert out["band"].tolist() == base["band"].tolist()
    np.testing.assert_allclose(out["score"], base["score"], atol=1e-8)


@PROP
@given(
    values=values_strategy,
    banding=st.sampled_from(BANDINGS),
    norm=st.sampled_from(NORMALISATIONS),
    seed=st.integers(0, 2**16),
)
def test_eng103_shuffling_rows_permutes_results(values, banding, norm, seed):
    k = values.shape[1]
    table = make_table(values)
    perm = np.random.default_rng(seed).permutation(len(table))
    shuffled = table.iloc[perm]
    spec = _spec(k, banding, normalisation=norm)
    base = RiskProfiler(spec).fit_transform(table)
    out = RiskProfiler(spec).fit_transform(shuffled)
    pd.testing.assert_series_equal(out["band"], base["band"].iloc[perm])
    np.testing.assert_allclose(out["score"], base["score"].iloc[perm], atol=1e-8)


@PROP
@given(
    values=values_strategy,
    banding=st.sampled_from(BANDINGS),
    norm=st.sampled_from(NORMALISATIONS),
)
def test_eng104_every_area_gets_exactly_one_band(values, banding, norm):
    k = values.shape[1]
    out = RiskProfiler(_spec(k, banding, normalisation=norm)).fit_transform(make_table(values))
    band_cols = [c for c in out.columns if c.endswith("_band") or c == "band"]
    for col in band_cols:
        assert out[col].isin(BANDS).all(), col


@PROP
@given(
    n=st.integers(2, 40),
    const=st.floats(-1e3, 1e3, allow_nan=False),
    banding=st.sampled_from(BANDINGS),
    norm=st.sampled_from(NORMALISATIONS),
)
def test_eng105_constant_column_gives_no_nan(n, const, banding, norm):
    values = np.column_stack([np.full(n, const), np.linspace(0, 1, n)])
    out = RiskProfiler(_spec(2, banding, normalisation=norm)).fit_transform(make_table(values))
    numeric = out.select_dtypes("number")
    assert not numeric.isna().any().any()
    if banding != "fixed":
        assert set(out["i0_band"]) == {"Medium"}


@pytest.mark.parametrize("rows", [7, 600, 33_755])
def test_eng016_order_statistics_ignoring_blanks_equal_numpys_nan_ones_to_the_bit(rows):
    """_ignoring_blanks gives np.nanmedian's (and nanmin's, ...) figures exactly."""
    rng = np.random.default_rng(rows)
    x = rng.lognormal(size=(rows, 13)) * rng.integers(1, 1000, size=13)
    x[rng.random(rows) < 0.9, 11] = np.nan  # most blank, as police.uk outside its forces
    x[:, 12] = np.nan  # all blank
    x[3, 4] = np.nan  # one blank in an otherwise complete column
    gappy = np.isnan(x).any(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-blank column
        pairs = [
            (np.median, np.nanmedian),
            (np.min, np.nanmin),
            (np.max, np.nanmax),
            (partial(np.quantile, q=0.03), partial(np.nanquantile, q=0.03)),
            (partial(np.quantile, q=0.5), partial(np.nanquantile, q=0.5)),
        ]
        for plain, nan_aware in pairs:
            assert np.array_equal(_ignoring_blanks(plain, x, gappy), nan_aware(x, axis=0),
                                  equal_nan=True), plain
            complete = x[:, ~gappy]
            assert np.array_equal(_ignoring_blanks(plain, complete, gappy[~gappy]),
                                  plain(complete, axis=0))
            assert np.array_equal(_ignoring_blanks(plain, x[:, gappy], gappy[gappy]),
                                  nan_aware(x[:, gappy], axis=0), equal_nan=True)


@PROP
@given(
    values=arrays(np.float64, st.integers(0, 60),
                  elements=st.one_of(st.floats(-50, 50), st.just(np.nan), st.sampled_from(
                      [-1.0, 0.0, 1.0, 2.5]))),
    cuts=st.lists(st.one_of(st.floats(-50, 50), st.sampled_from([-np.inf, np.inf, 0.0, 1.0])),
                  min_size=4, max_size=4).map(sorted),
)
def test_eng017_band_counting_equals_searchsorted(values, cuts):
    """assign_bands counts the cut points below a value: searchsorted's answer, ties included."""
    cuts = np.round(np.array(cuts), SCORE_DECIMALS)
    want = np.searchsorted(cuts, np.round(values, SCORE_DECIMALS), side="left")
    assert np.array_equal(assign_bands(values, cuts), want)
