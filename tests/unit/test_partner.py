"""Partner uploads: the reader, indicator tables (2011 codes), incident extracts, theme counts."""

from __future__ import annotations

import importlib.util
import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from profiler.errors import ProfilerError
from profiler.export import FORMULA_PREFIXES, read_export_csv
from profiler.geo import load_lsoa_boundaries
from profiler.partner import (
    LOCATION_TYPES,
    CodeLookup,
    PartnerDataError,
    ValidationReport,
    export_theme_counts,
    is_violence,
    load_code_lookup,
    load_incidents,
    load_partner_indicators,
    read_table_upload,
    residents_lsoa21,
    theme_counts,
)
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SYNTHETIC = DATA / "partner" / "synthetic_incidents_warwickshire.csv"
BAD = DATA / "partner" / "bad_incidents_example.csv"
TODAY = date(2025, 6, 1)
WARWICK = (52.2820, -1.5850)  # a point in Warwick town


@pytest.fixture(scope="module")
def bounds():
    return load_lsoa_boundaries(DATA, "warwickshire")


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv")


@pytest.fixture(scope="module")
def warks(table):
    return table[table["utla_code"] == "E10000031"].reset_index(drop=True)


@pytest.fixture(scope="module")
def spec():
    return load_spec(DATA / "indicators" / "spec.toml")


@pytest.fixture(scope="module")
def lookup(table):
    return load_code_lookup(DATA, table.set_index("lsoa21_code")["households_2021"])


def csv_bytes(text: str) -> bytes:
    return text.strip().replace("\n", "\r\n").encode("utf-8") + b"\r\n"


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# -- reader -------------------------------------------------------------------------------


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_prt001_delimiters_and_bom(delim):
    text = delim.join(["lsoa21_code", "value"]) + "\n" + delim.join(["E01031005", "1.5"]) + "\n"
    frame = read_table_upload(b"\xef\xbb\xbf" + text.encode(), "x.csv")
    assert list(frame.columns) == ["lsoa21_code", "value"]
    assert frame.loc[2, "value"] == "1.5" and frame.index.tolist() == [2]


def test_prt002_cp1252_fallback_is_noted():
    frame = read_table_upload("name,v\nCaf\xe9,1\n".encode("cp1252"), "x.csv")
    assert frame.iloc[0, 0] == "Caf\xe9"
    assert any("Windows-1252" in n for n in frame.attrs["notes"])


STRUCTURAL = [
    ("too big", b"a,b\n" + b"1,2\n" * 100, {"max_bytes": 50}, r"over the 50-byte limit"),
    ("empty", b"  \n\n", {}, r"empty file"),
    ("binary", b"PK\x00\x00\x00garbage", {}, r"not a valid Excel|binary"),
    ("nul", b"a,b\n1,\x002\n", {}, r"binary content \(NUL bytes\)"),
    ("utf16", b"\xff\xfea\x00,\x00b\x00\n\x00\x00\xd8", {},  # a lone surrogate
     r"UTF-16 text that cannot be decoded"),
    ("control", b"a,b\n1,\x072\n", {}, r"control character"),
    ("blank header", b"a,,c\n1,2,3\n", {}, r"column\(s\) 2 of the header have no name"),
    ("duplicate header", b"Date,date\n1,2\n", {}, r"duplicate column name 'date'"),
    ("no header", b"E01031005,12\nE01031006,3\n", {}, r"no header line"),
    ("rows", b"a,b\n" + b"1,2\n" * 20, {"max_rows": 10}, r"more than 10 data rows"),
    ("xls", b"\xd0\xcf\x11\xe0" + b"\x01" * 100, {}, r"old Excel \.xls"),
    ("bad quote", b'a,b\n"1,2\n', {}, r"."),
]


@pytest.mark.parametrize("name,content,kw,pattern", STRUCTURAL, ids=[s[0] for s in STRUCTURAL])
def test_prt003_structural_problems_raise_one_line(name, content, kw, pattern):
    try:
        read_table_upload(content, "upload.csv", **kw)
    except PartnerDataError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("upload.csv: ")
        assert re.search(pattern, str(exc)), str(exc)
    else:
        assert name == "bad quote"  # an unclosed quote is one long field, not an error


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_prt015_utf16_unicode_text_is_decoded(encoding):
    # Excel "Unicode text": UTF-16 with a byte-order mark, tab-separated.
    text = "lsoa21_code\tname\nE01031005\tCaf\xe9 \u0141\n"
    frame = read_table_upload(text.encode(encoding), "unicode.txt")
    assert frame.loc[2].tolist() == ["E01031005", "Caf\xe9 \u0141"]
    assert any("UTF-16" in n for n in frame.attrs["notes"])


def test_prt004_xlsx_first_sheet_values_as_text(tmp_path):
    buf = io.BytesIO()
    frame = pd.DataFrame({"lsoa21_code": ["E01031005"], "date": [pd.Timestamp("2024-02-03")],
                          "n": [3.0], "r": [1.25]})
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="data")
        pd.DataFrame({"x": [1]}).to_excel(writer, index=False, sheet_name="other")
    got = read_table_upload(buf.getvalue(), "book.xlsx")
    assert got.loc[2].tolist() == ["E01031005", "2024-02-03", "3", "1.25"]
    damaged = buf.getvalue()[:200]
    with pytest.raises(PartnerDataError, match="not a valid Excel .xlsx"):
        read_table_upload(damaged, "book.xlsx")


def test_prt005_filename_is_sanitised_in_messages():
    with pytest.raises(PartnerDataError) as exc:
        read_table_upload(b"", "C:\\Users\\x\\<img src=x onerror=alert(1)>\n.csv")
    msg = one_line(exc)
    assert msg.startswith("<img src=x onerror=alert(1)>.csv: ")


# -- validation report --------------------------------------------------------------------


def test_prt006_report_summary_groups_first_problem_and_policy():
    report = ValidationReport("incidents.csv", rows_read=20)
    frame = pd.DataFrame({"latitude": ["91.2", "abc", "", "52.1"]}, index=[4, 9, 12, 13])
    report.add_mask(frame, [True, True, True, False], "latitude",
                    "not a latitude in England (49.8 to 55.9)")
    report.rows_accepted = 17
    assert report.summary() == (
        "incidents.csv: 20 row(s) read, 17 accepted, 3 rejected; column 'latitude' rows 4, 9, "
        "12: values '91.2', 'abc', '': not a latitude in England (49.8 to 55.9); fix or drop "
        "those rows"
    )
    assert len(report.lines()) == 4
    report.enforce(0.2)  # 3 of 20 is within 20%
    with pytest.raises(PartnerDataError, match="nothing was loaded"):
        report.enforce(0.1)
    with pytest.raises(PartnerDataError, match="max_reject_share"):
        load_incidents(b"a\n1\n", "x.csv", lsoa_boundaries=None, max_reject_share=1.5)


# -- partner indicator tables -------------------------------------------------------------


def _indicator_csv(codes, **columns) -> bytes:
    frame = pd.DataFrame({"LSOA code": list(codes), **columns})
    return frame.to_csv(index=False).encode()


def test_prt007_replace_and_add_indicators_leaves_originals_alone(spec, warks):
    before_table, before_spec = warks.copy(), spec
    values = np.round(warks["violence_with_injury_per_1000"] * 2, 3)
    blob = _indicator_csv(warks["lsoa21_code"], violence_with_injury=values,
                          youth_offending=np.arange(len(warks)),
                          **{"Stalking_Harassment_per_1000": warks["stalking_harassment_per_1000"]})
    new_spec, new_table, report = load_partner_indicators(
        blob, "partner.csv", spec, warks,
        new_indicators={"youth_offending": {"label": "Youth offending", "weight": 2,
                                            "direction": "higher_is_riskier",
                                            "themes": ["knife"], "kind": "count"}})
    assert report.rows_read == report.rows_accepted == 354 and report.rows_rejected == 0
    assert warks.equals(before_table) and spec is before_spec  # nothing mutated
    assert spec.indicator("violence_with_injury").column == "violence_with_injury_per_1000"
    vwi = new_spec.indicator("violence_with_injury")
    assert vwi.column == "partner_violence_with_injury" and vwi.weight == 2.0
    assert "partner upload partner.csv" in vwi.source and "Partner data" in vwi.licence
    assert new_spec.indicator("stalking_harassment").column == "partner_stalking_harassment"
    youth = new_spec.indicator("youth_offending")
    assert (youth.label, youth.weight, youth.themes) == ("Youth offending", 2.0, ("knife",))
    assert len(new_spec.indicators) == 14
    np.testing.assert_allclose(new_table["partner_violence_with_injury"], values)
    assert new_table["violence_with_injury_per_1000"].equals(warks["violence_with_injury_per_1000"])


def test_prt008_defaults_for_new_indicator_are_reported(spec, warks):
    blob = _indicator_csv(warks["lsoa21_code"], gang_flags=1.0)
    new_spec, _, report = load_partner_indicators(blob, "p.csv", spec, warks)
    ind = new_spec.indicator("gang_flags")
    assert (ind.weight, ind.direction, ind.themes) == (1.0, "higher_is_riskier", ())
    assert any("defaults weight 1, higher_is_riskier" in n for n in report.notes)


def test_prt009_2011_codes_split_counts_apportioned_rates_copied(spec, warks, lookup):
    links = lookup.links
    w11 = links[links["lsoa21_code"].isin(set(warks["lsoa21_code"]))]
    codes11 = sorted(set(w11["lsoa11_code"]))
    assert len(codes11) == 339
    n = len(codes11)
    blob = pd.DataFrame({"lsoa11_code": codes11, "victims": np.full(n, 100.0),
                         "rate_x": np.arange(n, dtype=float)}).to_csv(index=False).encode()
    new_spec, new_table, report = load_partner_indicators(
        blob, "old.csv", spec, warks, lookup=lookup,
        new_indicators={"victims": {"kind": "count"}})
    assert any("339 2011 LSOA code(s) converted" in n for n in report.notes)
    got = new_table.set_index("lsoa21_code")
    assert got["partner_victims"].sum() == pytest.approx(100.0 * n)  # counts preserved
    split = w11[w11["change_code"] == "S"]
    assert split["lsoa11_code"].nunique() == 11 and len(split) == 26
    for code11, parts in split.groupby("lsoa11_code"):
        hh = got.loc[parts["lsoa21_code"], "households_2021"]
        expected = 100.0 * hh / hh.sum()
        np.testing.assert_allclose(got.loc[parts["lsoa21_code"], "partner_victims"], expected)
        rate = float(codes11.index(code11))
        assert (got.loc[parts["lsoa21_code"], "partner_rate_x"] == rate).all()


def test_prt010_merges_sum_counts_and_weight_rates_by_residents():
    look = pd.DataFrame({
        "lsoa11_code": ["E01000001", "E01000002", "E01000003", "E01000003"],
        "lsoa21_code": ["E01100001", "E01100001", "E01100002", "E01100003"],
        "change_code": ["M", "M", "S", "S"],
    })
    lk = CodeLookup.from_frames(look, pd.Series({"E01100001": 500, "E01100002": 300,
                                                 "E01100003": 100}),
                                pd.Series({"E01000001": 1000, "E01000002": 3000,
                                           "E01000003": 2000}))
    values = pd.DataFrame({"n": [10.0, 30.0, 8.0], "r": [1.0, 5.0, 2.0]},
                          index=["E01000001", "E01000002", "E01000003"])
    out = lk.convert(values, {"n": "count", "r": "rate"})
    assert out.loc["E01100001", "n"] == 40 and out.loc["E01100001", "r"] == pytest.approx(4.0)
    assert out.loc["E01100002", "n"] == pytest.approx(6.0)
    assert out.loc["E01100003", "n"] == pytest.approx(2.0)
    assert out.loc["E01100002", "r"] == out.loc["E01100003", "r"] == 2.0
    assert lk.largest_part["E01000003"] == "E01100002"
    assert residents_lsoa21(lk).to_dict() == {"E01100001": 4000.0, "E01100002": 1500.0,
                                              "E01100003": 500.0}


ROW_PROBLEMS = [
    ("unknown code", lambda f: f.loc.__setitem__((3, "LSOA code"), "E01999999"),
     r"column 'LSOA code' row 5: value 'E01999999': not a 2021 or 2011 LSOA code"),
    ("malformed code", lambda f: f.loc.__setitem__((0, "LSOA code"), "W01000001"),
     r"row 2: value 'W01000001': not an LSOA code"),
    ("duplicate", lambda f: f.loc.__setitem__((7, "LSOA code"), f.loc[6, "LSOA code"]),
     r"row 9: value 'E01\d+': duplicate LSOA code; keep one row per LSOA"),
    ("non-numeric", lambda f: f.loc.__setitem__((2, "violence_with_injury"), "1,234"),
     r"column 'violence_with_injury' row 4: value '1,234': not a number"),
    ("blank", lambda f: f.loc.__setitem__((2, "violence_with_injury"), ""),
     r"row 4: value '': blank value; give a number \(0 if none\)"),
    ("negative", lambda f: f.loc.__setitem__((5, "violence_with_injury"), "-3"),
     r"row 7: value '-3': negative value for a rate"),
    ("infinite", lambda f: f.loc.__setitem__((5, "violence_with_injury"), "inf"),
     r"row 7: value 'inf': not a finite number"),
    ("outside", lambda f: f.loc.__setitem__((1, "LSOA code"), "E01000001"),
     r"row 3: value 'E01000001': LSOA outside the area"),
]


@pytest.mark.parametrize("name,change,pattern", ROW_PROBLEMS, ids=[p[0] for p in ROW_PROBLEMS])
def test_prt011_row_problems_reject_the_file_and_leave_state(spec, warks, name, change,
                                                             pattern):
    frame = pd.DataFrame({"LSOA code": warks["lsoa21_code"],
                          "violence_with_injury": warks["violence_with_injury_per_1000"]}
                         ).astype(str)
    change(frame)
    before = warks.copy()
    with pytest.raises(PartnerDataError) as exc:
        load_partner_indicators(frame.to_csv(index=False).encode(), "partner.csv", spec, warks)
    msg = one_line(exc)
    assert msg.startswith("partner.csv: 354 row(s) read, 353 accepted, 1 rejected; ")
    assert re.search(pattern, msg), msg
    assert msg.endswith("nothing was loaded (any bad row rejects the file)")
    assert warks.equals(before)


def test_prt012_structural_indicator_problems(spec, warks):
    codes = warks["lsoa21_code"]
    with pytest.raises(PartnerDataError, match="no LSOA code column"):
        load_partner_indicators(b"area,x\nA,1\n", "p.csv", spec, warks)
    with pytest.raises(PartnerDataError, match="no value columns"):
        load_partner_indicators(_indicator_csv(codes), "p.csv", spec, warks)
    with pytest.raises(PartnerDataError, match=r"353 LSOA\(s\) of the area have no row"):
        load_partner_indicators(_indicator_csv(codes[:1], x=[1]), "p.csv", spec, warks)
    with pytest.raises(PartnerDataError, match="not a usable indicator id"):
        load_partner_indicators(_indicator_csv(codes, **{"<img src=x onerror=alert(1)>": 1}),
                                "p.csv", spec, warks)
    with pytest.raises(PartnerDataError, match="new_indicators: no column named 'nope'"):
        load_partner_indicators(_indicator_csv(codes, x=1), "p.csv", spec, warks,
                                new_indicators={"nope": {"weight": 1}})
    with pytest.raises(PartnerDataError, match="direction: got 'up'"):
        load_partner_indicators(_indicator_csv(codes, x=1), "p.csv", spec, warks,
                                new_indicators={"x": {"direction": "up"}})


def test_prt013_a_share_of_bad_rows_may_be_dropped_when_allowed(spec, warks):
    frame = pd.DataFrame({"lsoa21_code": list(warks["lsoa21_code"]) + ["E01999999"],
                          "x": ["1"] * 354 + ["2"]})
    _, table, report = load_partner_indicators(frame.to_csv(index=False).encode(), "p.csv",
                                               spec, warks, max_reject_share=0.01)
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (355, 354, 1)
    assert table["partner_x"].eq(1).all()


def test_prt014_synthetic_extract_is_reproducible(tmp_path):
    spec_ = importlib.util.spec_from_file_location(
        "make_synthetic_incidents", ROOT / "scripts" / "make_synthetic_incidents.py")
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    out = tmp_path / "again.csv"
    assert module.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SYNTHETIC.read_bytes()


# -- incident extracts --------------------------------------------------------------------


def test_inc001_synthetic_extract_loads_cleanly_and_is_labelled(bounds):
    incidents, report = load_incidents(SYNTHETIC.read_bytes(), SYNTHETIC.name,
                                       lsoa_boundaries=bounds, today=TODAY)
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3000, 3000, 0)
    assert any("3,000 row(s) marked SYNTHETIC" in n for n in report.notes)
    assert incidents["source"].eq("SYNTHETIC").all()
    assert set(incidents["located_by"]) == {"latlon", "bng", "lsoa21"}
    assert incidents["lsoa21_code"].isin(set(bounds["lsoa21_code"])).all()
    assert incidents["date"].between("2024-01-01", "2024-06-30").all()


def test_inc002_theme_counts_on_a_hand_made_extract(bounds, lookup):
    lat, lon = WARWICK
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon, lat)
    rows = [
        "date,latitude,longitude,easting,northing,lsoa_code,offence,domestic,knife,location_type",
        f"2024-01-05,{lat},{lon},,,,Violence with injury,yes,no,Dwelling",  # domestic
        f"05/01/2024,{lat},{lon},,,,Common assault,Y,N,street",  # domestic (any location)
        f"2024-01,{lat},{lon},,,,Harassment,1,0,",  # domestic
        f"2024-01-06,,,{e:.0f},{n:.0f},,Wounding with intent (GBH),no,yes,Pub",  # public, knife
        f"2024-01-07,,,{e:.0f},{n:.0f},,ABH,false,false,house",  # dwelling: neither
        f"2024-01-08,{lat},{lon},,,,Robbery of personal property,no,yes,street",  # knife only
        f"2024-01-09,{lat},{lon},,,,Burglary,yes,no,dwelling",  # domestic flag, not violence
        f"2024-01-10,{lat},{lon},,,,Assault,,,car park",  # public (other)
    ]
    incidents, report = load_incidents(csv_bytes("\n".join(rows)), "hand.csv",
                                       lsoa_boundaries=bounds, lookup=lookup, today=TODAY)
    assert report.rows_rejected == 0
    code = incidents["lsoa21_code"].iloc[0]
    assert incidents["lsoa21_code"].eq(code).all()
    assert incidents["location_type"].tolist() == [
        "dwelling", "street", "unknown", "licensed premises", "dwelling", "street", "dwelling",
        "other"]
    population = pd.Series({code: 2000.0, "E01031005": 1000.0})
    counts = theme_counts(incidents, population)
    assert counts.index.tolist() == [code, "E01031005"]
    assert counts.loc[code, ["incident_count", "violence_count", "knife_count", "domestic_count",
                             "public_place_count"]].tolist() == [8, 6, 2, 3, 2]
    assert counts.loc[code, "domestic_rate_per_1000"] == pytest.approx(1.5)
    assert counts.loc["E01031005"].drop("residents").sum() == 0  # zeros for empty LSOAs


def test_inc003_lsoa_codes_2021_and_2011(bounds, lookup):
    split = lookup.links[(lookup.links["change_code"] == "S")
                         & lookup.links["lsoa21_code"].isin(set(bounds["lsoa21_code"]))]
    code11 = split["lsoa11_code"].iloc[0]
    parts = split[split["lsoa11_code"] == code11]
    largest = parts.sort_values("share", ascending=False)["lsoa21_code"].iloc[0]
    text = f"date,lsoa_code,offence\n2024-01-01,E01031005,Assault\n2024-01-02,{code11},Assault\n"
    incidents, report = load_incidents(text.encode(), "c.csv", lsoa_boundaries=bounds,
                                       lookup=lookup, today=TODAY)
    assert incidents["lsoa21_code"].tolist() == ["E01031005", largest]
    assert incidents["located_by"].tolist() == ["lsoa21", "lsoa11"]
    assert any("most households" in n for n in report.notes)


BAD_ROWS = [
    (3, "date", "impossible date"),
    (4, "latitude", "latitude and longitude look swapped"),
    (5, "latitude", "not a latitude in England (49.8 to 55.9)"),
    (6, "latitude", "not a number (latitude)"),
    (7, "date", "after today (2025-06-01)"),
    (8, "northing", "not a British National Grid northing (0 to 1,300,000 m)"),
    (9, "lsoa21_code", "unknown LSOA code"),
    (10, "latitude", "no location"),
    (11, "domestic", "not a yes/no flag"),
    (12, "latitude", "outside the area: check the coordinate columns are not swapped"),
    (13, "offence", "no offence or crime type"),
    (14, "date", "not a date in a known format"),
]


def test_inc004_each_bad_row_of_the_example_has_its_reason(bounds, lookup):
    blob = BAD.read_bytes()
    with pytest.raises(PartnerDataError) as exc:
        load_incidents(blob, BAD.name, lsoa_boundaries=bounds, lookup=lookup, today=TODAY)
    assert one_line(exc).startswith(
        "bad_incidents_example.csv: 13 row(s) read, 1 accepted, 12 rejected; column 'date' row "
        "3: value '2024-02-30': impossible date")
    incidents, report = load_incidents(blob, BAD.name, lsoa_boundaries=bounds, lookup=lookup,
                                       today=TODAY, max_reject_share=0.99)
    assert [(p.row, p.column, p.reason) for p in report.problems] == BAD_ROWS
    assert incidents.index.tolist() == [2]


DATES = [
    ("2024-02-29", "2024-02-29"), ("2024-02-29T23:15:00", "2024-02-29"),
    ("2024-02-29 23:15", "2024-02-29"), ("29/02/2024", "2024-02-29"),
    ("1/3/2024", "2024-03-01"), ("29/02/2024 08:00", "2024-02-29"), ("2024-03", "2024-03-01"),
]


@pytest.mark.parametrize("text,expected", DATES)
def test_inc005_date_formats(bounds, text, expected):
    blob = f"date,latitude,longitude,offence\n{text},{WARWICK[0]},{WARWICK[1]},Assault\n"
    incidents, _ = load_incidents(blob.encode(), "d.csv", lsoa_boundaries=bounds, today=TODAY)
    assert incidents["date"].iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text,reason", [
    ("2023-02-29", "impossible date"), ("31/04/2024", "impossible date"),
    ("2024-13", "impossible date"), ("02/29/2024", "impossible date"),
    ("1999-12-31", "before 2000"), ("2025-06-02", "after today"),
    ("March 2024", "not a date in a known format"), ("45123", "not a date in a known format"),
])
def test_inc006_bad_dates(bounds, text, reason):
    blob = f"date,latitude,longitude,offence\n{text},{WARWICK[0]},{WARWICK[1]},Assault\n"
    with pytest.raises(PartnerDataError) as exc:
        load_incidents(blob.encode(), "d.csv", lsoa_boundaries=bounds, today=TODAY)
    assert f"column 'date' row 2: value {text!r}: {reason}" in one_line(exc)


@pytest.mark.parametrize("lat,lon,reason", [
    ("-1.585", "52.282", "latitude and longitude look swapped"),
    ("0", "0", "not a latitude in England"),
    ("52.28", "12.5", "not a longitude in England"),
    ("52.28", "", "not a number (longitude)"),
    ("52,28", "-1.58", "not a number (latitude)"),
    ("nan", "-1.58", "not a number (latitude)"),
    ("51.5074", "-0.1278", "outside the area: check the coordinate columns are not swapped"),
])
def test_inc007_bad_coordinates(bounds, lat, lon, reason):
    blob = f'date,latitude,longitude,offence\n2024-01-01,"{lat}","{lon}",Assault\n'
    with pytest.raises(PartnerDataError) as exc:
        load_incidents(blob.encode(), "p.csv", lsoa_boundaries=bounds, today=TODAY)
    assert reason in one_line(exc)


@pytest.mark.parametrize("e,n,reason", [
    ("-5", "265000", "not a British National Grid easting"),
    ("429000", "1400000", "not a British National Grid northing"),
    ("52.28", "-1.58", "looks like degrees"),
    ("265000", "429000", "outside the area"),  # swapped easting/northing lands elsewhere
    ("abc", "265000", "not a number (easting)"),
])
def test_inc008_bad_grid_references(bounds, e, n, reason):
    blob = f"date,easting,northing,offence\n2024-01-01,{e},{n},Assault\n"
    with pytest.raises(PartnerDataError) as exc:
        load_incidents(blob.encode(), "p.csv", lsoa_boundaries=bounds, today=TODAY)
    assert reason in one_line(exc)


def test_inc009_flags_and_missing_columns(bounds):
    head = "date,latitude,longitude,offence,knife\n"
    ok = "".join(f"2024-01-01,{WARWICK[0]},{WARWICK[1]},Assault,{v}\n"
                 for v in ("true", "FALSE", "Yes", "no", "Y", "n", "1", "0", "T", "f", ""))
    incidents, _ = load_incidents((head + ok).encode(), "f.csv", lsoa_boundaries=bounds,
                                  today=TODAY)
    assert incidents["knife"].tolist() == [True, False, True, False, True, False, True, False,
                                           True, False, False]
    with pytest.raises(PartnerDataError, match="value '2': not a yes/no flag"):
        load_incidents((head + f"2024-01-01,{WARWICK[0]},{WARWICK[1]},Assault,2\n").encode(),
                       "f.csv", lsoa_boundaries=bounds, today=TODAY)
    for text, missing in (("latitude,longitude,offence\n1,2,3\n", "no date column"),
                          ("date,latitude,longitude\n1,2,3\n", "no offence column"),
                          ("date,offence\n2024-01-01,Assault\n", "no location columns")):
        with pytest.raises(PartnerDataError, match=missing):
            load_incidents(text.encode(), "f.csv", lsoa_boundaries=bounds, today=TODAY)


def test_inc010_violence_definition_and_location_types():
    violent = ["Violence and sexual offences", "Violence with injury", "Common assault",
               "Assault occasioning ABH", "GBH with intent", "Wounding", "Harassment",
               "Stalking", "Threats to kill", "Controlling or coercive behaviour", "Murder",
               "Death or serious injury by dangerous driving"]
    other = ["Robbery of personal property", "Public order offences", "Possession of weapons",
             "Burglary", "Criminal damage", "Shoplifting", "Drugs", ""]
    assert is_violence(pd.Series(violent)).all()
    assert not is_violence(pd.Series(other)).any()
    assert set(LOCATION_TYPES) == {"dwelling", "street", "licensed premises", "other"}


def test_inc011_residents_denominator(lookup, bounds):
    residents = residents_lsoa21(lookup)
    assert len(residents) == 33755 and residents.sum() == pytest.approx(56_550_138)
    warks = residents[residents.index.isin(set(bounds["lsoa21_code"]))]
    assert len(warks) == 354 and (warks > 0).all()
    assert 570_000 < warks.sum() < 600_000


def test_inc012_export_suppresses_and_neutralises(bounds):
    codes = sorted(bounds["lsoa21_code"])[:4]
    incidents = pd.DataFrame({
        "lsoa21_code": [codes[0]] * 3 + [codes[1]] * 7,
        "violence": True, "domestic": False, "knife": True, "location_type": "street",
    })
    counts = theme_counts(incidents, pd.Series(1000.0, index=codes))
    names = pd.Series({codes[0]: "=cmd|' /C calc'!A0", codes[1]: "+1", codes[2]: "-2",
                       codes[3]: "@SUM(1)"})
    blob = export_theme_counts(counts, names=names, meta={"extract": "=evil.csv"})
    meta, table = read_export_csv(blob)
    assert meta["extract"].startswith("'=")
    first = table.iloc[0]
    assert first["knife_count"] == "<5" and first["knife_rate_per_1000"] == "suppressed"
    assert first["public_place_count"] == "<5" and first["incident_count"] == "<5"
    assert table.iloc[1]["knife_count"] == "7" and table.iloc[1]["knife_rate_per_1000"] == "7.00"
    assert table.iloc[2]["knife_count"] == "0"
    for value in [*table.to_numpy().ravel(), *table.columns]:
        assert not str(value).startswith(FORMULA_PREFIXES), value


def test_inc013_partner_error_is_a_profiler_error():
    assert issubclass(PartnerDataError, ProfilerError)
