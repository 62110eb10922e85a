"""Exports: formats round-trip, filters, metadata, formula neutralisation."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from synth import make_spec, random_table

from profiler.errors import ProfilerError
from profiler.export import (
    build_metadata,
    export_frame,
    export_lsoas,
    header,
    neutralise,
    read_export_csv,
    top_contributors,
)
from profiler.pipeline import score_scope
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = make_spec(4)
WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _result(names=None):
    table = random_table(120, 4)
    if names is not None:
        # the same hostile text in every name column an export carries
        pad = names[: len(table)] + ["x"] * (len(table) - len(names))
        for col in ("lsoa21_name", "msoa21_hcl_name", "ward24_name"):
            table[col] = pad[::-1] if col == "ward24_name" else pad
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
    blob = export_lsoas(result, SPEC, fmt="csv.zip", bands=["Very High", "High"],
                        district="E07000219", meta=_meta())
    meta, frame = read_export_csv(blob)
    expected = result[result["band"].isin(["Very High", "High"])
                      & (result["lad24_code"] == "E07000219")]
    assert len(frame) == len(expected) == int(meta["rows"])
    assert list(frame["LSOA code"]) == list(expected["lsoa21_code"])
    assert meta["spec_sha256"] == SPEC.sha256
    assert meta["generated_at"] == "2026-11-23T09:30:00+00:00"
    assert "i0=1" in meta["weights"] and meta["district"] == "E07000219"
    assert {header("drivers"), header("contribution", label="Indicator 0"),
            header("band")} <= set(frame.columns)


def test_exp002_xlsx_has_lsoas_and_about_sheets():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="xlsx", bands=["Medium", "Low"], district="E07000220",
                        meta=_meta())
    book = openpyxl.load_workbook(io.BytesIO(blob))
    assert book.sheetnames == ["LSOAs", "About"]
    frame = pd.read_excel(io.BytesIO(blob), sheet_name="LSOAs")
    expected = result[result["band"].isin(["Medium", "Low"])
                      & (result["lad24_code"] == "E07000220")]
    assert list(frame["LSOA code"]) == list(expected["lsoa21_code"]) and len(frame) > 0
    rank = header("rank", scope="the area")
    assert frame[header("score")].dtype.kind == "f" and frame[rank].dtype.kind == "i"
    about = dict(str(v).split(": ", 1) for k, v in book["About"].iter_rows(values_only=True)
                 if k == "Details")
    assert about["spec_sha256"] == SPEC.sha256 and about["rows"] == str(len(expected))
    assert about["district"] == "E07000220" and about["bands"] == "Medium, Low"


def test_exp003_geojson_has_metadata_and_geometry():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="geojson", bands=None, meta=_meta(),
                        boundaries=_boundaries(result))
    doc = json.loads(blob)
    assert doc["type"] == "FeatureCollection" and doc["metadata"]["rows"] == len(result)
    assert doc["metadata"]["spec_sha256"] == SPEC.sha256
    gdf = gpd.GeoDataFrame.from_features(doc["features"])
    assert len(gdf) == len(result) and gdf.geometry.is_valid.all()
    decimals = {len(x.split(".")[1]) for x in re.findall(r"-?\d+\.\d+",
                json.dumps([f["geometry"] for f in doc["features"]]))}
    assert max(decimals) <= 5  # coordinates to 5 decimals (about 1 m)
    filtered = json.loads(export_lsoas(result, SPEC, fmt="geojson", bands=["High", "Very High"],
                                       district="E07000219", meta=_meta(),
                                       boundaries=_boundaries(result)))
    expected = result[result["band"].isin(["High", "Very High"])
                      & (result["lad24_code"] == "E07000219")]
    codes = [f["properties"]["LSOA code"] for f in filtered["features"]]
    assert codes == list(expected["lsoa21_code"]) and filtered["metadata"]["rows"] == len(codes)
    with pytest.raises(ProfilerError, match="needs the LSOA boundaries"):
        export_lsoas(result, SPEC, fmt="geojson", meta=_meta())


@pytest.mark.parametrize("kw,msg", [
    ({"bands": ["Extreme"]}, "unknown band"), ({"district": "Rugby"}, "not a district code"),
    ({"fmt": "pdf"}, "format 'pdf'"), ({"bands": []}, "no band chosen"),
    ({"bands": ["high"]}, "unknown band"), ({"district": "E07000219\n"}, "not a district code"),
    ({"district": "E01031090"}, "not a district code"),
    ({"bands": ["x\ny" * 40]}, "unknown band"),
])
def test_exp004_bad_filters_one_line_errors(kw, msg):
    args = {"fmt": "csv.zip", **kw}
    with pytest.raises(ProfilerError, match=msg) as info:
        export_lsoas(_result(), SPEC, meta=_meta(), **args)
    assert "\n" not in str(info.value)


def test_exp005_neutralise():
    assert neutralise("=1+1") == "'=1+1" and neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-2") == "'-2" and neutralise("+44") == "'+44" and neutralise("\tx") == "'\tx"
    assert neutralise("a\r\nb") == "a  b" and neutralise("\r=1") == "' =1"
    assert neutralise("\x1f@x") == "'@x" and neutralise("a\x00b") == "ab"  # hidden prefixes
    assert neutralise("  +1") == "'  +1" and neutralise("a-b") == "a-b"
    assert neutralise("Rugby 001A") == "Rugby 001A" and neutralise(-2.5) == -2.5


FORMULA = ("=", "+", "-", "@", "\t", "\r")
formula_text = st.text(min_size=1, max_size=20).map(
    lambda s: s.replace("\n", " ")
) | st.sampled_from(
    ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(1)", "=1", "\t=1"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(formula_text, min_size=5, max_size=5))
@example(names=["0", "0", "0", "0", "\r"])  # a lone CR once split a CSV row (found in CI)
@example(names=["a\nb", "\r=1", "=cmd", "+1", "@x"])
@example(names=["0", "0", "0", "0", "\x1f@"])  # a control character hid "@" from the xlsx check
def test_exp006_no_exported_cell_is_a_formula(names):
    result = _result(names)
    meta, frame = read_export_csv(export_lsoas(result, SPEC, fmt="csv.zip", meta=_meta()))
    assert len(frame) == len(result)  # no text split a row
    assert list(frame[header("msoa21_hcl_name")]) == [neutralise(n)
                                                      for n in result["msoa21_hcl_name"]]
    kinds = export_frame(result, SPEC).attrs["kinds"]
    for col in frame.columns:
        if kinds[col] in ("score", "rank", "share", "value", "norm", "contribution"):
            continue
        assert not frame[col].str.startswith(("=", "+", "-", "@", "\t")).any(), col
    book = openpyxl.load_workbook(io.BytesIO(export_lsoas(result, SPEC, fmt="xlsx", meta=_meta())))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value  # nothing is stored as a formula
                assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA)), cell
    doc = json.loads(export_lsoas(result, SPEC, fmt="geojson", meta=_meta(),
                                  boundaries=_boundaries(result)))
    for feature in doc["features"]:
        for value in feature["properties"].values():
            assert not (isinstance(value, str) and value.startswith(FORMULA)), value


def test_exp007_stability_column_when_merged():
    result = _result()
    result["p_high"] = 0.5
    meta, frame = read_export_csv(export_lsoas(result, SPEC, fmt="csv", meta=_meta()))
    assert (frame[header("p_high")] == "0.5").all()


def test_exp008_metadata_block():
    weights = {"i0": 2.0, "i1": 1.0, "i2": 0.5, "i3": 1.0}
    meta = build_metadata(SPEC, scope="E07000219", reference="county", normalisation="rank",
                          banding="quantile", weights=weights,
                          generated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert meta["generated_at"] == "2026-01-02T03:04:05+00:00"
    assert meta["spec_sha256"] == SPEC.sha256 and len(meta["spec_sha256"]) == 64
    assert meta["effective_spec_sha256"] != SPEC.with_weights(SPEC.weights).effective_sha256
    assert meta["weights"] == "i0=2, i1=1, i2=0.5, i3=1"
    assert (meta["scope"], meta["normalisation"], meta["banding"]) == ("E07000219", "rank",
                                                                      "quantile")
    assert "Indicator 0: p" in meta["data_periods"] and "OGL v3.0" in meta["licence"]
    assert "Open Government Licence" in meta["attribution"]
    assert "decision support" in meta["caveat"]
    meta, frame = read_export_csv(export_lsoas(_result(), SPEC, fmt="csv.zip", meta=meta))
    assert meta["rows"] == str(len(frame)) and meta["weights"] == "i0=2, i1=1, i2=0.5, i3=1"


def test_exp009_top_contributors():
    result = _result()
    top = top_contributors(result, SPEC)
    assert top.index.equals(result.index)
    row = result.iloc[0]
    contrib = {f"Indicator {j}": row[f"i{j}_contribution"] for j in range(4)}
    expected = sorted(contrib, key=lambda k: -contrib[k])[:3]
    assert top.iloc[0] == ", ".join(expected)
    assert top_contributors(result, SPEC, n=1).str.count(",").eq(0).all()


def test_exp010_csv_first_line_is_the_header_and_the_zip_carries_the_notes():
    blob = export_lsoas(_result(), SPEC, fmt="csv", bands=["High", "Very High"], meta=_meta())
    lines = blob.decode("utf-8").split("\n")
    assert lines[0].split(",")[:2] == [header("lsoa21_code"), header("lsoa21_name")]
    plain = pd.read_csv(io.BytesIO(blob))  # no rows to skip
    meta, frame = read_export_csv(io.BytesIO(blob))
    assert meta == {} and list(plain.columns) == list(frame.columns)
    assert plain[header("score")].dtype.kind == "f"  # numbers stay numbers in the CSV
    bundle = zipfile.ZipFile(io.BytesIO(export_lsoas(
        _result(), SPEC, fmt="csv.zip", bands=["High", "Very High"], meta=_meta(), stem="x")))
    assert sorted(bundle.namelist()) == ["x-about.txt", "x.csv"]
    assert bundle.read("x.csv") == blob
    about = bundle.read("x-about.txt").decode("utf-8")
    for heading in ("WHAT THIS IS", "AREA", "DATA EDITIONS AND PERIODS", "SOURCES AND LICENCES",
                    "METHOD", "DATE MADE", "DETAILS"):
        assert f"\n{heading}\n" in "\n" + about, heading
    assert "23 November 2026, 09:30 UTC" in about and "spec_sha256: " in about


def test_exp015_rank_within_the_exported_district_and_in_the_home_area():
    result = _result()
    frame = export_frame(result, SPEC, district="E07000219", bands=["High", "Very High"],
                         home="Warwickshire", scope="Nuneaton and Bedworth")
    here = result[result["lad24_code"] == "E07000219"]
    expected = here["score"].rank(ascending=False, method="min").astype(int)
    expected = expected[here["band"].isin(["High", "Very High"])]
    inner = header("rank", scope="Nuneaton and Bedworth")
    outer = header("home_rank", home="Warwickshire")
    assert list(frame.columns[7:9]) == [inner, outer]
    assert list(frame[inner]) == list(expected) and list(frame[outer]) == list(
        here.loc[expected.index, "rank"])


def test_exp016_excel_is_board_ready():
    result = _result()
    blob = export_lsoas(result, SPEC, fmt="xlsx", meta=_meta(), home="Warwickshire",
                        scope="Rugby", district="E07000220")
    book = openpyxl.load_workbook(io.BytesIO(blob))
    sheet = book["LSOAs"]
    heads = [c.value for c in sheet[1]]
    unit = SPEC.indicators[0].unit
    assert heads[:8] == [header("lsoa21_code"), header("lsoa21_name"),
                         header("msoa21_hcl_name"), header("ward24_name"),
                         header("lad24_name"), header("band"), header("score"),
                         header("rank", scope="Rugby")]
    assert header("value", label="Indicator 0", unit=unit) in heads
    assert not [h for h in heads if "_" in h]  # no internal names
    assert sheet.freeze_panes == "B2"
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGH"}
    assert widths["A"] >= 10 and widths["C"] >= 20 and all(w for w in widths.values())
    score_col = heads.index(header("score")) + 1
    assert sheet.cell(row=2, column=score_col).number_format == "0.00"
    about = [(a, b) for a, b in book["About"].iter_rows(values_only=True)]
    names = [a for a, _ in about]
    for heading in ("What this is", "Area", "Scope of this list", "Data editions and periods",
                    "Sources and licences", "Method", "Date made"):
        assert heading in names, heading
    method = dict(about)["Method"]
    assert "z-score" in method and "spec_sha256" not in method


def test_exp011_hostile_spec_labels_and_headers_are_neutralised():
    spec = make_spec(4)
    first = dataclasses.replace(spec.indicators[0], label="=HYPERLINK(1)")
    spec = dataclasses.replace(spec, indicators=(first, *spec.indicators[1:]))
    result = score_scope(random_table(40, 4), spec, scope="warwickshire")
    meta, frame = read_export_csv(export_lsoas(result, spec, fmt="csv", meta=_meta()))
    assert not [c for c in frame.columns if c.startswith(FORMULA)]
    assert frame[header("drivers")].str.startswith(FORMULA).sum() == 0
    book = openpyxl.load_workbook(io.BytesIO(export_lsoas(result, spec, fmt="xlsx", meta=_meta())))
    heads = next(book["LSOAs"].iter_rows(max_row=1, values_only=True))
    assert neutralise(header("value", label="=HYPERLINK(1)", unit=first.unit)) in heads


REAL_TABLE = ROOT / "data/indicators/lsoa21_indicators.csv"
REAL_LSOAS = ROOT / "data/boundaries/warwickshire_lsoa21.gpkg"


@pytest.mark.skipif(not (REAL_TABLE.exists() and REAL_LSOAS.exists()),
                    reason="shipped indicator table or boundaries not built yet")
def test_exp012_real_table_high_risk_lists():
    from profiler.table import load_indicator_table

    spec = load_spec(ROOT / "data/indicators/spec.toml")
    result = score_scope(load_indicator_table(REAL_TABLE, spec), spec, scope="warwickshire")
    meta = build_metadata(spec, scope="warwickshire", reference="county",
                          normalisation="zscore", banding="stddev", generated_at=WHEN)
    high = ["Very High", "High"]
    boundaries = gpd.read_file(REAL_LSOAS)
    for code in ("E07000218", "E07000219", "E07000220", "E07000221", "E07000222"):
        expected = result[result["band"].isin(high) & (result["lad24_code"] == code)]
        _, frame = read_export_csv(export_lsoas(result, spec, fmt="csv", bands=high,
                                                district=code, meta=meta))
        assert list(frame["LSOA code"]) == list(expected["lsoa21_code"])
        assert frame[header("msoa21_hcl_name")].str.len().gt(0).all()
        assert frame["Ward"].str.len().gt(0).all()
        assert (frame["District"] == expected["lad24_name"].iloc[0]).all() if len(frame) else True
    doc = json.loads(export_lsoas(result, spec, fmt="geojson", bands=high, meta=meta,
                                  boundaries=boundaries))
    assert len(doc["features"]) == int(result["band"].isin(high).sum())
    assert gpd.GeoDataFrame.from_features(doc["features"]).geometry.is_valid.all()


def test_exp013_export_and_docs_do_not_import_dash():
    code = ("import sys, profiler.export, profiler.docs; "
            "bad = [m for m in sys.modules if m == 'dash' or m.startswith(('dash.', 'dash_'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exp014_about_lines_split_into_no_formula_cells():
    meta = {**_meta(), "note": "a, =HYPERLINK(1), +1,-2, @x,\tq\r\nz"}
    bundle = zipfile.ZipFile(io.BytesIO(export_lsoas(_result(), SPEC, fmt="csv.zip", meta=meta,
                                                     stem="x")))
    lines = bundle.read("x-about.txt").decode("utf-8").split("\n")
    assert sum(1 for x in lines if x.startswith("note: ")) == 1  # one line, not split
    for row in csv.reader(lines):  # as a spreadsheet would split them
        for cell in row:
            assert not cell.lstrip().startswith(FORMULA), row
    back, _ = read_export_csv(bundle.fp.getvalue())
    assert back["note"].startswith("a, '=HYPERLINK(1)")
