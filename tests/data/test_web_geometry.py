"""The England web geometry: rebuilt from the script, it equals the committed files."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import shapely
from shipped import WARWICKSHIRE_DISTRICTS

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "data" / "boundaries"


def _script():
    spec = importlib.util.spec_from_file_location("build_web_geometry",
                                                  ROOT / "scripts" / "build_web_geometry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_geo001_committed_web_geometry_matches_the_script():
    geometry, bounds = _script().build(ROOT / "data")
    stale = "run `python scripts/build_web_geometry.py` and commit both files"
    assert geometry == (BOUNDARIES / "england_lsoa21_web.geojson.gz").read_bytes(), stale
    assert bounds == (BOUNDARIES / "england_lsoa21_web.bounds.json").read_bytes(), stale


def test_geo002_web_geometry_is_a_valid_gapless_coverage_of_england():
    doc = json.loads(gzip.decompress((BOUNDARIES / "england_lsoa21_web.geojson.gz").read_bytes()))
    features = doc["features"]
    assert len(features) == 33_755
    codes = [f["properties"]["lsoa21_code"] for f in features]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert [f["properties"]["i"] for f in features] == list(range(len(features)))
    gdf = gpd.GeoDataFrame.from_features(features, crs=4326)
    assert gdf.is_valid.all() and not gdf.is_empty.any()
    # A coverage: no two LSOAs overlap (edges shared exactly). Checked on Warwickshire's 354.
    warks = gdf[gdf["lad24_code"].isin(WARWICKSHIRE_DISTRICTS)].to_crs(27700)
    assert len(warks) == 354
    assert shapely.coverage_is_valid(warks.geometry.values)
    bounds = json.loads((BOUNDARIES / "england_lsoa21_web.bounds.json").read_text())
    assert set(bounds) == {"england", *gdf["lad24_code"]}
