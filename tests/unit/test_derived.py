"""Derived tables for any area (profiler.derived): hot spots, band stability, change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from profiler import derived
from profiler.change import CHANGE_COLUMNS, police_columns
from profiler.engine import BANDS
from profiler.errors import ProfilerError
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.stability import StabilitySettings
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
WORCESTERSHIRE = "E10000034"
COVENTRY = "E08000026"
CORNWALL, SCILLY = "E06000052", "E06000053"
FEW = StabilitySettings(draws=100, seed=7)


@pytest.fixture(scope="module")
def spec():
    return load_spec(DATA / "indicators" / "spec.toml")


@pytest.fixture(scope="module")
def table(spec):
    return load_indicator_table(DATA / "indicators" / "lsoa21_indicators.csv", spec)


def _codes(table, column, value):
    return table.loc[table[column] == value, "lsoa21_code"].tolist()


@pytest.fixture(scope="module")
def worcs(table, spec):
    return score_scope(table, spec, scope=WORCESTERSHIRE)


def _grid(n=5, extra=()):
    cells = [box(x, y, x + 1, y + 1) for y in range(n) for x in range(n)] + list(extra)
    codes = [f"E01{i:06d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"lsoa21_code": codes}, geometry=cells, crs="EPSG:27700")


def test_drv001_worcestershire_hotspots_one_row_per_lsoa_valid_classes(worcs):
    out = derived.area_hotspots(worcs, DATA)
    assert len(out) == len(worcs) == 374
    assert sorted(out["lsoa21_code"]) == sorted(worcs["lsoa21_code"])
    assert out["lsoa21_code"].is_monotonic_increasing
    assert out.notna().all().all()
    for prefix in derived.HOTSPOT_COLUMNS:
        assert out[f"{prefix}_hotspot"].isin(derived.CLASSES).all()
        assert out[f"{prefix}_p"].between(0, 1).all()
    assert out.attrs["boundaries"] == "england_lsoa21_bsc.gpkg"
    assert out.attrs["islands"] == []
    assert out["overall_hotspot"].str.startswith("Hot").any()


def test_drv002_worcestershire_stability_one_row_per_lsoa(table, spec):
    codes = _codes(table, "utla_code", WORCESTERSHIRE)
    seen = []
    out = derived.area_stability(table, spec, codes, FEW, progress=lambda d, t: seen.append(d))
    assert out["lsoa21_code"].tolist() == sorted(codes)
    assert list(out.columns) == ["lsoa21_code", "p_high", "modal_band", "p_modal", "rank_p05",
                                 "rank_median", "rank_p95"]
    assert out.notna().all().all()
    assert out["p_high"].between(0, 1).all() and out["modal_band"].isin(BANDS).all()
    assert (out["rank_p05"] <= out["rank_median"]).all()
    assert (out["rank_median"] <= out["rank_p95"]).all() and out["rank_p95"].max() <= len(codes)
    assert seen and seen[-1] == FEW.draws and seen == sorted(seen)


def test_drv003_worcestershire_change_without_police_records(table, spec):
    codes = _codes(table, "utla_code", WORCESTERSHIRE)
    out = derived.area_change(DATA, spec, table, codes)
    assert out["lsoa21_code"].tolist() == sorted(codes)
    assert set(CHANGE_COLUMNS) <= set(out.columns)
    assert out[list(CHANGE_COLUMNS)].notna().all().all()
    assert out["band_2019"].isin(BANDS).all() and out["band_2025"].isin(BANDS).all()
    assert out[["rank_2019", "rank_2025"]].min().tolist() == [1, 1]
    police = police_columns()
    assert set(police) <= set(out.columns) and out[police].isna().all().all()
    assert out.attrs["police_uk"] == "none" and out.attrs["police_uk_lsoas"] == 0
    assert "Warwickshire" in out.attrs["police_uk_note"]
    # The 2019 edition is scored against Worcestershire's own 2011 LSOAs.
    parents = {c for cell in out["lsoa11_codes"] for c in cell.split(";")}
    assert 330 < len(parents) <= len(codes)


def test_drv004_island_is_linked_to_its_nearest_lsoa(table, spec):
    scored = score_scope(table, spec, scope=CORNWALL)
    scilly = score_scope(table, spec, scope=SCILLY)
    both = pd.concat([scored, scilly], ignore_index=True)
    out = derived.area_hotspots(both, DATA)
    assert out.attrs["islands"] == scilly["lsoa21_code"].tolist() == ["E01019077"]
    assert len(out) == len(both) and out.notna().all().all()
    # On a grid: a detached cell gets one neighbour, the nearest cell.
    grid = _grid(extra=[box(7, 0, 8, 1)])
    adjacency, islands = derived.attach_islands(derived.queen_adjacency(grid.geometry.values),
                                                grid.geometry)
    assert islands.tolist() == [25]
    assert adjacency[25].indices.tolist() == [4] and 25 in adjacency[4].indices
    assert (adjacency != adjacency.T).nnz == 0


def test_drv005_one_district(table, spec):
    codes = _codes(table, "lad24_code", COVENTRY)
    scored = score_scope(table, spec, scope=COVENTRY)
    hot = derived.area_hotspots(scored, DATA)
    stab = derived.area_stability(table, spec, codes, FEW)
    change = derived.area_change(DATA, spec, table, codes)
    for frame in (hot, stab, change):
        assert frame["lsoa21_code"].tolist() == sorted(codes)
    assert hot.notna().all().all() and stab.notna().all().all()
    assert change["band_2025"].isin(BANDS).all()
    # A Warwickshire district is cut from Warwickshire's detailed boundaries.
    rugby = score_scope(table, spec, scope="E07000220")
    assert derived.area_hotspots(rugby, DATA).attrs["boundaries"] == "warwickshire_lsoa21.gpkg"


def test_drv006_deterministic_with_a_seed(table, spec, worcs):
    codes = _codes(table, "lad24_code", COVENTRY)
    first = derived.area_stability(table, spec, codes, FEW)
    pd.testing.assert_frame_equal(first, derived.area_stability(table, spec, codes[::-1], FEW))
    other = derived.area_stability(table, spec, codes, StabilitySettings(draws=100, seed=8))
    assert not first["p_high"].equals(other["p_high"])
    shuffled = worcs.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(derived.area_hotspots(worcs, DATA),
                                  derived.area_hotspots(shuffled, DATA))


def test_drv007_gi_star_matches_esda(worcs):
    from profiler.hotspots import hotspot_table

    areas = derived.area_boundaries(DATA, worcs["lsoa21_code"])
    ours = derived.area_hotspots(worcs, DATA)
    esda_way = hotspot_table(areas, worcs, derived.HOTSPOT_COLUMNS)
    assert ours["lsoa21_code"].tolist() == esda_way["lsoa21_code"].tolist()
    for prefix in derived.HOTSPOT_COLUMNS:
        assert (ours[f"{prefix}_hotspot"] == esda_way[f"{prefix}_hotspot"]).all()
        np.testing.assert_allclose(ours[f"{prefix}_gi_z"], esda_way[f"{prefix}_gi_z"], atol=1e-4)
        np.testing.assert_allclose(ours[f"{prefix}_p"], esda_way[f"{prefix}_p"], rtol=1e-9,
                                   atol=1e-12)


def test_drv008_queen_adjacency_matches_libpysal():
    from libpysal.weights import Queen

    grid = _grid(extra=[box(7, 0, 8, 1), box(4.5, 5, 5.5, 6)])  # an island; a cell on corners
    ours = derived.queen_adjacency(grid.geometry.values)
    theirs = Queen.from_dataframe(grid, use_index=False, silence_warnings=True).sparse
    assert abs(ours - theirs).nnz == 0


def test_drv009_errors_name_the_input_and_the_fix(table, spec, worcs):
    with pytest.raises(ProfilerError, match="not 2021 LSOA codes.*E01031005"):
        derived.area_stability(table, spec, ["E01031005", "W01000001"])
    with pytest.raises(ProfilerError, match="one string"):
        derived.area_change(DATA, spec, table, "E01031005")
    with pytest.raises(ProfilerError, match="no LSOA codes"):
        derived.area_boundaries(DATA, [])
    with pytest.raises(ProfilerError, match="not in the table"):
        derived.area_stability(table, spec, ["E01031005", "E01999999"])
    with pytest.raises(ProfilerError, match="no boundary for 1 LSOA"):
        derived.area_boundaries(DATA, ["E01031005", "E01999999"])
    with pytest.raises(ProfilerError, match="lacks column.*knife_score"):
        derived.area_hotspots(worcs.drop(columns="knife_score"), DATA)
    with pytest.raises(ProfilerError, match="at least 3 LSOAs"):
        derived.area_hotspots(worcs.head(2), DATA)
    with pytest.raises(ProfilerError, match="repeats"):
        derived.area_hotspots(pd.concat([worcs, worcs.head(1)]), DATA)
    with pytest.raises(ProfilerError, match="no police.uk records for 374"):
        derived.area_change(DATA, spec, table, worcs["lsoa21_code"], police=True)


def test_drv010_classes_match_profiler_hotspots():
    from profiler import hotspots

    assert derived.CLASSES == hotspots.CLASSES and derived.LEVELS == hotspots.LEVELS


def test_drv011_police_counts_only_where_records_exist(table, spec):
    warks = _codes(table, "utla_code", "E10000031")
    coventry = _codes(table, "lad24_code", COVENTRY)
    out = derived.area_change(DATA, spec, table, warks + coventry).set_index("lsoa21_code")
    assert out.attrs["police_uk"] == "some" and out.attrs["police_uk_lsoas"] == len(warks)
    assert f"other {len(coventry)} LSOAs" in out.attrs["police_uk_note"]
    police = police_columns()
    assert out.loc[coventry, police].isna().all().all()
    shipped = pd.read_csv(DATA / "indicators" / "change_warwickshire.csv").set_index(
        "lsoa21_code")
    counts = [c for c in police if "same_months_20" in c]
    assert (out.loc[warks, counts].astype(int) == shipped.loc[warks, counts]).all().all()
    off = derived.area_change(DATA, spec, table, warks[:20], police=False)
    assert off.attrs["police_uk"] == "off" and off[police].isna().all().all()


def test_drv012_hotspots_do_not_import_numba():
    code = (
        "import sys; from pathlib import Path; import pandas as pd; from profiler import derived;"
        f"d = Path({str(DATA)!r}); t = pd.read_csv(d / 'indicators/lsoa21_indicators.csv', "
        "usecols=['lsoa21_code', 'lad24_code']);"
        "s = t[t.lad24_code == 'E08000026'].assign(score=1.0, knife_score=2.0, "
        "domestic_score=3.0, public_place_score=range(203));"
        "out = derived.area_hotspots(s, d); assert len(out) == 203;"
        "bad = [m for m in ('numba', 'esda', 'libpysal', 'dash') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_drv013_area_key_ignores_code_order_and_tracks_what_changes_the_table(spec):
    codes = ["E01031005", "E01031006", "E01031007"]
    key = derived.area_key("stability", spec, codes)
    assert key == derived.area_key("stability", spec, codes[::-1] + codes[:1])
    assert key != derived.area_key("stability", spec, codes[:2])
    assert key != derived.area_key("stability", spec, codes, StabilitySettings(seed=1))
    assert key != derived.area_key("change", spec, codes)
    heavier = spec.with_weights({"income_deprivation": 9.0})
    assert derived.area_key("change", heavier, codes) != derived.area_key("change", spec, codes)
    # Crime indicators are not in the comparison: their weights cannot change the table.
    crime = spec.with_weights({"violence_with_injury": 9.0})
    assert derived.area_key("change", crime, codes) == derived.area_key("change", spec, codes)
    with pytest.raises(ProfilerError, match="kind 'hotspots'"):
        derived.area_key("hotspots", spec, codes)


def test_drv014_change_sources_read_once_give_the_same_table(table, spec):
    from dataclasses import replace

    from profiler.change import load_change_sources

    sources = load_change_sources(DATA, spec, table)
    codes = _codes(table, "lad24_code", COVENTRY)
    fresh = derived.area_change(DATA, spec, table, codes)
    pd.testing.assert_frame_equal(fresh, derived.area_change(DATA, spec, table, codes,
                                                             sources=sources))
    what_if = spec.with_weights({"income_deprivation": 5.0})
    assert not derived.area_change(DATA, what_if, table, codes, sources=sources)[
        "score_2025"].equals(fresh["score_2025"])
    stale = replace(sources, columns=sources.columns[:2])
    with pytest.raises(ProfilerError, match="rebuild them with load_change_sources"):
        derived.area_change(DATA, spec, table, codes, sources=stale)
