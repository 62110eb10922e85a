"""Getis-Ord Gi* hot spots on a synthetic grid with a planted cluster."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from profiler.errors import ProfilerError
from profiler.hotspots import CLASSES, getis_ord


def _grid(n=12):
    cells = [box(x, y, x + 1, y + 1) for y in range(n) for x in range(n)]
    codes = [f"E01{i:06d}" for i in range(n * n)]
    return gpd.GeoDataFrame({"lsoa21_code": codes}, geometry=cells, crs="EPSG:27700")


def test_hot001_planted_cluster_found_and_survives_fdr():
    grid = _grid()
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1, size=len(grid))
    planted = [y * 12 + x for y in range(4, 7) for x in range(4, 7)]
    values[planted] += 6.0
    out = getis_ord(grid, values, permutations=999, seed=1)
    centre = 5 * 12 + 5
    # 999 permutations give p >= 0.001; with 144 areas tested, FDR at 1% needs 15 such
    # discoveries, so a 9-cell cluster is significant at 95% after the correction.
    assert out.loc[centre, "hotspot"] in ("Hot spot (95%)", "Hot spot (99%)")
    hot = out["hotspot"].str.startswith("Hot")
    assert set(np.flatnonzero(hot)) <= set(planted) | {
        i for p in planted for i in (p - 1, p + 1, p - 12, p + 12, p - 13, p - 11, p + 11, p + 13)
    }
    assert hot.sum() >= 5


def test_hot002_random_field_has_few_false_hotspots_after_fdr():
    grid = _grid()
    values = np.random.default_rng(7).normal(size=len(grid))
    out = getis_ord(grid, values, permutations=499, seed=2)
    assert (out["hotspot"] != "Not significant").sum() <= 3


def test_hot003_cold_spot_is_mirror_of_hot_spot():
    grid = _grid()
    values = np.zeros(len(grid)) + np.random.default_rng(3).normal(0, 0.1, len(grid))
    planted = [y * 12 + x for y in range(4, 7) for x in range(4, 7)]
    values[planted] -= 5.0
    out = getis_ord(grid, values, seed=4)
    assert out.loc[5 * 12 + 5, "hotspot"].startswith("Cold spot")


def test_hot004_constant_values_and_bad_input():
    grid = _grid(4)
    out = getis_ord(grid, np.ones(16))
    assert (out["hotspot"] == CLASSES[3]).all()
    with pytest.raises(ProfilerError, match="3 values for 16 areas"):
        getis_ord(grid, np.ones(3))
    with pytest.raises(ProfilerError, match="NaN"):
        getis_ord(grid, np.full(16, np.nan))


def test_hot005_analytic_pvalues_reach_99_percent_after_fdr():
    grid = _grid()
    values = np.random.default_rng(0).normal(0, 1, size=len(grid))
    planted = [y * 12 + x for y in range(4, 7) for x in range(4, 7)]
    values[planted] += 6.0
    out = getis_ord(grid, values)  # permutations=0: normal approximation, two-sided
    assert out.loc[5 * 12 + 5, "hotspot"] == "Hot spot (99%)"
    assert (out["p_sim"] <= 1).all() and (out["p_sim"] >= 0).all()
    noise = getis_ord(grid, np.random.default_rng(7).normal(size=len(grid)))
    assert (noise["hotspot"] != "Not significant").sum() <= 3
