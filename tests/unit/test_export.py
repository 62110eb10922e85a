"""Exports: formats round-trip, filters, metadata, formula neutralisation."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from synth import make_spec, random_table

from profiler.errors import ProfilerError
from profiler.export import build_metadata, export_lsoas, neutralise, read_export_csv
from profiler.pipeline import score_scope

SPEC = make_spec(4)
WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _result(names=None):
    table = random_table(120, 4)
    if names is not None:
        table["lsoa21_name"] = names[: len(table)] + ["x"] * (len(table) - len(names))
    return score_scope(table, SPEC, scope="warwickshire")


def _meta():
    return build_metadata(SPEC, scope="warwickshire", reference="county",
                          normalisation="zscore", banding="stddev", generated_at=WHEN)


def _boundaries(result):
    return gpd.GeoDataFrame({"lsoa21_code": result["lsoa21_code"]},
                            geometry=[box(-1.5 + i * 1e-3, 52.3, -1.499 + i * 1e-3, 52.301)
                                      for i in range(len(result))], crs="EPSG:4326")


def test_exp001_csv_roundtrip_with_metadata_and_filter():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="csv", bands=["Very High", "High"],
                        district="E07000219", meta=_meta())
    meta, frame = read_export_csv(blob)
    expected = result[result["band"].isin(["Very High", "High"])
                      & (result["lad24_code"] == "E07000219")]
    assert len(frame) == len(expected) == int(meta["rows"])
    assert list(frame["LSOA code"]) == list(expected["lsoa21_code"])
    assert meta["spec_sha256"] == SPEC.sha256
    assert meta["generated_at"] == "2026-11-23T09:30:00+00:00"
    assert "i0=1" in meta["weights"] and meta["district"] == "E07000219"
    assert {"Top contributors", "Indicator 0: contribution", "Band"} <= set(frame.columns)


def test_exp002_xlsx_has_lsoas_and_about_sheets():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="xlsx", bands=["Medium"], meta=_meta())
    book = openpyxl.load_workbook(io.BytesIO(blob))
    assert book.sheetnames == ["LSOAs", "About"]
    frame = pd.read_excel(io.BytesIO(blob), sheet_name="LSOAs")
    assert len(frame) == (result["band"] == "Medium").sum()
    about = pd.read_excel(io.BytesIO(blob), sheet_name="About")
    assert "spec_sha256" in set(about["key"])


def test_exp003_geojson_has_metadata_and_geometry():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="geojson", bands=None, meta=_meta(),
                        boundaries=_boundaries(result))
    doc = json.loads(blob)
    assert doc["type"] == "FeatureCollection" and doc["metadata"]["rows"] == len(result)
    gdf = gpd.GeoDataFrame.from_features(doc["features"])
    assert len(gdf) == len(result) and gdf.geometry.is_valid.all()
    with pytest.raises(ProfilerError, match="needs the LSOA boundaries"):
        export_lsoas(result, SPEC, fmt="geojson", meta=_meta())


@pytest.mark.parametrize("kw,msg", [
    ({"bands": ["Extreme"]}, "unknown band"), ({"district": "Rugby"}, "not a district code"),
    ({"fmt": "pdf"}, "format 'pdf'"),
])
def test_exp004_bad_filters_one_line_errors(kw, msg):
    args = {"fmt": "csv", **kw}
    with pytest.raises(ProfilerError, match=msg) as info:
        export_lsoas(_result(), SPEC, meta=_meta(), **args)
    assert "\n" not in str(info.value)


def test_exp005_neutralise():
    assert neutralise("=1+1") == "'=1+1" and neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-2") == "'-2" and neutralise("+44") == "'+44" and neutralise("\tx") == "'\tx"
    assert neutralise("a\r\nb") == "a  b" and neutralise("\r=1") == " =1"
    assert neutralise("Rugby 001A") == "Rugby 001A" and neutralise(-2.5) == -2.5


formula_text = st.text(min_size=1, max_size=20).map(
    lambda s: s.replace("\n", " ")
) | st.sampled_from(
    ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(1)", "=1", "\t=1"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(formula_text, min_size=5, max_size=5))
@example(names=["0", "0", "0", "0", "\r"])  # a lone CR once split a CSV row (found in CI)
@example(names=["a\nb", "\r=1", "=cmd", "+1", "@x"])
def test_exp006_no_exported_cell_is_a_formula(names):
    result = _result(names)
    meta, frame = read_export_csv(export_lsoas(result, SPEC, fmt="csv", meta=_meta()))
    for col in frame.columns:
        if col in ("Score",) or col.endswith(("normalised", "contribution", "value")):
            continue
        assert not frame[col].str.startswith(("=", "+", "-", "@", "\t")).any(), col
    book = openpyxl.load_workbook(io.BytesIO(export_lsoas(result, SPEC, fmt="xlsx", meta=_meta())))
    for row in book["LSOAs"].iter_rows(values_only=True):
        for value in row:
            assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@"))), value


def test_exp007_stability_column_when_merged():
    result = _result()
    result["p_high"] = 0.5
    meta, frame = read_export_csv(export_lsoas(result, SPEC, fmt="csv", meta=_meta()))
    assert (frame["P(High or above), 1,000 what-if profiles"] == "0.5").all()
