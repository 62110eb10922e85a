"""The default 13-indicator profile on the shipped table: scopes, references and the README."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shipped import WARWICKSHIRE_DISTRICTS

from profiler.engine import BANDS, THEMES
from profiler.pipeline import band_counts, score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "data/indicators/spec.toml"
TABLE_PATH = ROOT / "data/indicators/lsoa21_indicators.csv"


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC_PATH)


@pytest.fixture(scope="module")
def table(spec):
    return load_indicator_table(TABLE_PATH, spec)


@pytest.fixture(scope="module")
def county(table, spec):
    return score_scope(table, spec, scope="warwickshire")


def test_prf001_warwickshire_has_354_lsoas_each_one_band(county, spec):
    assert len(county) == 354 and county["lsoa21_code"].is_unique
    assert county["band"].isin(BANDS).all()
    for theme in THEMES:
        assert county[f"{theme}_band"].isin(BANDS).all()
    for ind in spec.indicators:
        assert county[f"{ind.id}_band"].isin(BANDS).all()
        assert county[f"{ind.id}_norm"].notna().all()
    assert sorted(county["rank"]) == sorted(county["score"].rank(ascending=False, method="min"))


def test_prf002_contributions_explain_the_score(county, spec):
    contrib = county[[f"{i.id}_contribution" for i in spec.indicators]].sum(axis=1)
    np.testing.assert_allclose(contrib, county["score"], atol=1e-8)


def test_prf003_district_view_uses_county_bands(table, spec, county):
    for code in WARWICKSHIRE_DISTRICTS:
        district = score_scope(table, spec, scope=code).set_index("lsoa21_code")
        same = county.set_index("lsoa21_code").loc[district.index]
        assert (district["band"] == same["band"]).all()
        np.testing.assert_allclose(district["score"], same["score"])


def test_prf004_district_sizes(county):
    sizes = county.groupby("lad24_code").size().to_dict()
    assert sizes == {"E07000218": 38, "E07000219": 84, "E07000220": 67, "E07000221": 77,
                     "E07000222": 88}


def test_prf005_england_scores_all_33755(table, spec):
    start = time.perf_counter()
    england = score_scope(table, spec, scope="england", reference="england")
    elapsed = time.perf_counter() - start
    print(f"\nscored {len(england):,} England LSOAs x {len(spec.indicators)} in "
          f"{elapsed * 1000:.0f} ms")
    assert len(england) == 33755 and england["band"].isin(BANDS).all()
    # the stddev scheme on a right-skewed score: most areas Medium, a tail High/Very High
    counts = england["band"].value_counts()
    assert counts["Medium"] > counts.get("High", 0) > counts.get("Very High", 0) > 0


def test_prf006_reference_changes_bands_but_not_order(table, spec, county):
    vs_england = score_scope(table, spec, scope="warwickshire", reference="england")
    assert len(vs_england) == 354
    a = county.set_index("lsoa21_code")["score"]
    b = vs_england.set_index("lsoa21_code")["score"].loc[a.index]
    # same z-score directions relative to a different mean: strongly rank-correlated
    assert a.rank().corr(b.rank()) > 0.9
    # Warwickshire is less deprived and violent than England overall
    assert (vs_england["band"].isin(["High", "Very High"])).sum() < (
        county["band"].isin(["High", "Very High"])
    ).sum() * 2


@pytest.mark.parametrize("norm", ["zscore", "minmax", "rank", "exponential"])
@pytest.mark.parametrize("banding", ["stddev", "quantile", "natural_breaks", "fixed"])
def test_prf007_every_method_bands_every_lsoa(table, spec, norm, banding):
    out = score_scope(table, spec, scope="warwickshire", normalisation=norm, banding=banding)
    assert len(out) == 354 and out["band"].isin(BANDS).all()
    if banding == "quantile":
        assert set(out["band"].value_counts()) <= {70, 71, 72}


def test_prf008_readme_band_counts_match_cli(county):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN band-counts -->\n(.*?)<!-- END band-counts -->", readme, re.S)
    assert block, "README needs the band-counts block"
    counts = band_counts(county)
    for name, row in counts.iterrows():
        label = f"**{name}**" if name == "Total" else name
        line = "| " + " | ".join([label, *(str(v) for v in row)]) + " |"
        assert line in block.group(1), f"README band counts out of date for {name}: run " \
            "`python -m profiler summary --readme README.md`"


def test_prf009_what_if_weights_change_some_bands(table, spec, county):
    heavy = score_scope(table, spec, weights={"violence_with_injury": 10.0})
    before = county.set_index("lsoa21_code")["band"]
    moved = (heavy.set_index("lsoa21_code")["band"].loc[before.index] != before).sum()
    assert 0 < moved < 354


def test_prf010_england_table_loads_as_floats(table, spec):
    assert len(table) == 33755
    for ind in spec.indicators:
        assert pd.api.types.is_float_dtype(table[ind.column])


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_prf011_cli_export_high_risk_list(tmp_path, county, fmt):
    import json

    from profiler.__main__ import main
    from profiler.export import read_export_csv

    out = tmp_path / f"high.{fmt}"
    assert main(["export", "--band", "Very High,High", "--district", "E07000219",
                 "--format", fmt, "--out", str(out)]) == 0
    expected = county[county["band"].isin(["Very High", "High"])
                      & (county["lad24_code"] == "E07000219")]
    if fmt == "csv":
        meta, frame = read_export_csv(out)
        codes = list(frame["LSOA code"])
        assert meta["bands"] == "Very High, High" and meta["spec_sha256"]
    elif fmt == "xlsx":
        codes = list(pd.read_excel(out, sheet_name="LSOAs")["LSOA code"])
    else:
        codes = [f["properties"]["LSOA code"] for f in json.loads(out.read_text())["features"]]
    assert codes == list(expected["lsoa21_code"]) and len(codes) > 10


def test_prf012_cached_stability_matches_a_recompute(table, spec, county):
    from profiler.stability import StabilitySettings, band_stability

    cached = pd.read_csv(ROOT / "data/indicators/stability_warwickshire.csv")
    warks = table[table["utla_code"] == "E10000031"]
    start = time.perf_counter()
    fresh, _ = band_stability(warks, spec, StabilitySettings(draws=1000, seed=2025))
    print(f"\nstability, 1,000 draws over 354 LSOAs: {time.perf_counter() - start:.2f} s")
    assert list(cached["lsoa21_code"]) == list(fresh["lsoa21_code"])
    # a few draws may band differently on another CPU (float rounding at a cut point)
    assert np.allclose(cached["p_high"], fresh["p_high"], atol=0.01), (
        "data/indicators/stability_warwickshire.csv is stale: run `python -m profiler stability`"
    )
    # Very High LSOAs of the default profile are High or above in most draws
    very_high = set(county.loc[county["band"] == "Very High", "lsoa21_code"])
    p = cached.set_index("lsoa21_code")["p_high"]
    assert p.loc[sorted(very_high)].min() >= 0.5


def test_prf013_cached_hotspots_match_a_recompute(county):
    from profiler.geo import load_lsoa_boundaries
    from profiler.hotspots import hotspot_table

    cached = pd.read_csv(ROOT / "data/indicators/hotspots_warwickshire.csv")
    areas = load_lsoa_boundaries(ROOT / "data", "warwickshire")
    columns = {"overall": "score", **{t: f"{t}_score" for t in ("knife", "domestic",
                                                                    "public_place")}}
    fresh = hotspot_table(areas, county, columns)
    assert list(cached["lsoa21_code"]) == list(fresh["lsoa21_code"])
    for prefix in columns:
        stale = "data/indicators/hotspots_warwickshire.csv is stale: run `python -m profiler " \
                "hotspots --out data/indicators/hotspots_warwickshire.csv`"
        assert list(cached[f"{prefix}_hotspot"]) == list(fresh[f"{prefix}_hotspot"]), stale
        assert np.allclose(cached[f"{prefix}_gi_z"], fresh[f"{prefix}_gi_z"], atol=1e-3), stale
