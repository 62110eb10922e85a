"""Band stability: Monte Carlo over weights, normalisations, banding schemes, exclusions."""

from __future__ import annotations

import numpy as np
import pytest
from synth import make_spec, make_table

from profiler.errors import ProfilerError
from profiler.stability import StabilitySettings, band_stability


def _clustered(n_high=20, n_low=80, k=4, seed=0):
    rng = np.random.default_rng(seed)
    high = 100 + rng.normal(0, 0.1, size=(n_high, k))
    low = rng.normal(0, 0.1, size=(n_low, k))
    return make_table(np.vstack([high, low]))


def test_stb001_fully_stable_profile_gives_probability_one_or_zero():
    table = _clustered()
    spec = make_spec(4)
    # Rank-based normalisations and quantile/Jenks classes split the tight low cluster apart by
    # construction; the distance-preserving ones with stddev or fixed bands must not.
    settings = StabilitySettings(draws=200, normalisations=("zscore", "minmax"),
                                 bandings=("stddev", "fixed"), seed=1)
    areas, _ = band_stability(table, spec, settings)
    assert set(np.unique(areas["p_high"])) == {0.0, 1.0}
    assert (areas["p_high"].iloc[:20] == 1.0).all() and (areas["p_high"].iloc[20:] == 0.0).all()


def test_stb002_reweighting_that_cannot_change_ranks_changes_no_band():
    rng = np.random.default_rng(2)
    column = rng.lognormal(size=(150, 1))
    table = make_table(np.repeat(column, 3, axis=1))  # identical indicators: weights cannot matter
    spec = make_spec(3)
    settings = StabilitySettings(draws=100, normalisations=("zscore",), bandings=("stddev",),
                                 concentration=2.0, exclusion_rate=0.5, seed=3)
    areas, sens = band_stability(table, spec, settings)
    assert set(np.unique(areas["p_modal"])) == {1.0}
    assert (areas["rank_p05"] == areas["rank_p95"]).all()
    assert (sens["bands_changed"] == 0).all()


def test_stb003_same_seed_same_result_and_progress_reported():
    table = make_table(np.random.default_rng(4).lognormal(size=(60, 3)))
    spec = make_spec(3)
    seen = []
    a1, _ = band_stability(table, spec, StabilitySettings(draws=50, seed=9),
                           progress=lambda done, total: seen.append((done, total)))
    a2, _ = band_stability(table, spec, StabilitySettings(draws=50, seed=9))
    assert a1.equals(a2)
    assert seen[-1] == (50, 50)
    assert ((a1["p_high"] >= 0) & (a1["p_high"] <= 1)).all()
    assert (a1["rank_p05"] <= a1["rank_median"]).all()
    assert (a1["rank_median"] <= a1["rank_p95"]).all()


def test_stb004_sensitivity_ranks_the_dominant_indicator_first():
    rng = np.random.default_rng(5)
    values = rng.lognormal(size=(200, 3))
    spec = make_spec(3, weights=[5.0, 0.5, 0.5])
    _, sens = band_stability(make_table(values), spec, StabilitySettings(draws=10))
    assert sens["id"].iloc[0] == "i0"


@pytest.mark.parametrize("kw,msg", [
    ({"draws": 0}, "draws"), ({"concentration": 0}, "concentration"),
    ({"exclusion_rate": 2}, "exclusion_rate"), ({"bandings": ("jenks",)}, "bandings"),
])
def test_stb005_bad_settings_named(kw, msg):
    table = make_table(np.ones((5, 2)))
    with pytest.raises(ProfilerError, match=msg):
        band_stability(table, make_spec(2), StabilitySettings(**kw))


def test_stb006_compare_bandings_side_by_side():
    from profiler.pipeline import compare_bandings

    spec = make_spec(3, fixed_thresholds=[-1.0, -0.5, 0.5, 1.0])
    table = make_table(np.random.default_rng(8).lognormal(size=(100, 3)))
    out = compare_bandings(table, spec)
    assert list(out.columns[-6:]) == ["stddev", "quantile", "natural_breaks", "fixed", "spread",
                                      "agree"]
    assert len(out) == 100 and out["score"].is_monotonic_decreasing
    assert (out["quantile"].value_counts() == 20).all()  # quintiles
    assert out["agree"].equals(out["spread"] == 1) and (~out["agree"]).any()
