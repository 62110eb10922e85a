"""Partner uploads in the dashboard: server-side validation, session state, suppression."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import partner_state as ps
from dashboard.settings import Settings
from profiler.errors import ProfilerError
from profiler.export import FORMULA_PREFIXES, read_export_csv
from profiler.partner import PartnerDataError

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = ROOT / "data" / "partner" / "synthetic_incidents_warwickshire.csv"
WARWICK = (52.2820, -1.5850)
HEAD = "date,latitude,longitude,offence,domestic,knife,location_type\n"
GOOD_ROW = f"2024-01-05,{WARWICK[0]},{WARWICK[1]},Assault,no,yes,street\n"


@pytest.fixture(scope="module")
def state():
    from dashboard.state import load_state

    return load_state(Settings(tiles_url="", data_dir=ROOT / "data"))


@pytest.fixture(scope="module")
def synthetic(state):
    return ps.load_synthetic(state)


def data_url(content: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(content).decode()


def _indicator_csv(state, values=None, codes=None) -> bytes:
    codes = list(state.county_table["lsoa21_code"]) if codes is None else codes
    values = ["1.5"] * len(codes) if values is None else values
    return pd.DataFrame({"lsoa21_code": codes, "violence_with_injury": values}).to_csv(
        index=False).encode()


def _bad_incidents(row: str) -> bytes:
    return (HEAD + GOOD_ROW + row + "\n").encode()


# One file per bad-input class: (class, kind, content builder, what the message must say).
BAD_INPUTS = [
    ("size", "incidents", lambda s: (HEAD + GOOD_ROW * 3000).encode(),
     r"over the [\d,]+-byte limit"),
    ("encoding nul", "incidents", lambda s: b"date,offence\n2024-01-01,\x00x\n",
     r"binary content \(NUL bytes\)"),
    ("encoding utf16", "incidents", lambda s: b"\xff\xfed\x00,\x00\x00\xd8",
     r"UTF-16 text that cannot be decoded"),
    ("delimiter", "incidents", lambda s: _bad_incidents(
        f"2024-01-06,{WARWICK[0]},{WARWICK[1]},Assault, common,no,no,street"),
     r"more fields than the 7 header columns; quote values that contain the delimiter"),
    ("header missing", "incidents", lambda s: GOOD_ROW.encode() * 2,
     r"no (header line|date column)"),
    ("header duplicate", "incidents", lambda s: b"date,Date,offence\n1,2,3\n",
     r"duplicate column name"),
    ("type flag", "incidents", lambda s: _bad_incidents(
        f"2024-01-06,{WARWICK[0]},{WARWICK[1]},Assault,maybe,no,street"),
     r"column 'domestic' row 3: value 'maybe': not a yes/no flag"),
    ("type number", "indicators", lambda s: _indicator_csv(s, ["1.5"] * 353 + ["1,5"]),
     r"column 'violence_with_injury' row 355: value '1,5': not a number"),
    ("coordinates", "incidents", lambda s: _bad_incidents(f"2024-01-06,91.5,{WARWICK[1]},Assault"),
     r"column 'latitude' row 3: value '91.5': not a latitude in England"),
    ("swapped", "incidents", lambda s: _bad_incidents(
        f"2024-01-06,{WARWICK[1]},{WARWICK[0]},Assault"), r"latitude and longitude look swapped"),
    ("outside", "incidents", lambda s: _bad_incidents("2024-01-06,51.5074,-0.1278,Assault"),
     r"outside the area"),
    ("date impossible", "incidents", lambda s: _bad_incidents(
        f"2024-02-30,{WARWICK[0]},{WARWICK[1]},Assault"),
     r"column 'date' row 3: value '2024-02-30': impossible date"),
    ("date future", "incidents", lambda s: _bad_incidents(
        f"2099-01-01,{WARWICK[0]},{WARWICK[1]},Assault"), r"after today"),
    ("unknown code", "indicators",
     lambda s: _indicator_csv(s, codes=list(s.county_table["lsoa21_code"][:-1]) + ["E01999999"]),
     r"value 'E01999999': not a 2021 LSOA code"),
    ("missing lsoa", "indicators",
     lambda s: _indicator_csv(s, codes=list(s.county_table["lsoa21_code"][:-1])),
     r"1 LSOA\(s\) of the area have no row"),
]


@pytest.mark.parametrize("name,kind,build,pattern", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_upl001_each_bad_input_gives_one_line_and_keeps_state(state, synthetic, name, kind,
                                                               build, pattern):
    cache = ps.PartnerCache(4)
    before = ps.PartnerData(extract=synthetic)
    key = cache.put(None, before)
    counts_before = synthetic.counts.copy()
    limit = 2000 if name == "size" else state.settings.partner_max_bytes
    with pytest.raises(PartnerDataError) as exc:
        content, filename = ps.decode_upload(data_url(build(state)), "upload.csv", limit)
        if kind == "incidents":
            ps.load_extract_upload(state, content, filename)
        else:
            ps.load_indicator_upload(state, content, filename)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("upload.csv: ")
    assert re.search(pattern, msg), msg
    assert cache.get(key) is before and before.extract.counts.equals(counts_before)
    lines = ps.failure_lines(exc.value)
    assert lines[0] == msg and all("\n" not in line for line in lines)


def test_upl002_decode_upload_refuses_what_is_not_a_file():
    for contents in (None, "", "hello", "data:text/csv;base64,@@@@"):
        with pytest.raises(PartnerDataError, match=r"^x\.csv: "):
            ps.decode_upload(contents, "C:\\fakepath\\x.csv", 1000)
    assert ps.decode_upload(data_url(b"a,b\n"), "x.csv", 1000) == (b"a,b\n", "x.csv")
    with pytest.raises(PartnerDataError) as exc:
        ps.decode_upload("nope", "evil\n<b>.csv", 1000)
    assert str(exc.value).startswith("evil<b>.csv: ") and "\n" not in str(exc.value)


def test_upl003_cache_is_bounded_and_keys_are_random():
    cache = ps.PartnerCache(3)
    keys = [cache.put(None, ps.PartnerData()) for _ in range(5)]
    assert len(cache) == 3 and len(set(keys)) == 5
    assert cache.get(keys[0]) is None and cache.get(keys[4]) is not None
    assert all(len(k) >= 20 for k in keys)
    # a key the server did not issue gets a fresh one, never the name chosen by the client
    assert cache.put("chosen-by-client", ps.PartnerData()) != "chosen-by-client"
    assert cache.get({"key": 1}) is None


def test_upl004_synthetic_example_replaces_theme_layers_and_says_so(state, synthetic):
    data = ps.PartnerData(extract=synthetic)
    assert synthetic.synthetic and synthetic.counts.shape[0] == 354
    sources = ps.layer_sources(data)
    assert all(v.startswith("SYNTHETIC example extract") for v in sources.values())
    assert ps.layer_source_label(None, "knife") == "open proxies"
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    assert result["score"].equals(state.county["score"])  # the overall profile is unchanged
    bands = ps.theme_bands(synthetic.counts, "knife", prof.banding, 5)
    got = result.set_index("lsoa21_code")["knife_band"]
    assert got.reindex(bands.index).equals(bands)
    assert not result["knife_band"].equals(state.county["knife_band"])


def test_upl005_every_view_of_counts_is_suppressed(state, synthetic):
    data = ps.PartnerData(extract=synthetic)
    raw = synthetic.counts
    small = {(c, t) for t in ("knife", "domestic", "public_place")
             for c in raw.index[(raw[f"{t}_count"] >= 1) & (raw[f"{t}_count"] < 5)]}
    assert small  # the example has small counts to hide
    texts = ps.count_text(data, 5)
    for code, themes in texts.items():
        for theme, (n, rate) in themes.items():
            if (code, theme) in small:
                assert (n, rate) == ("<5", "suppressed")
            else:
                assert n == f"{int(raw.loc[code, f'{theme}_count']):,}"
    detail = ps.layer_detail(data, "domestic", 5)
    table = ps.table_text(data, list(raw.index), 5)
    for code in raw.index:
        for text in (detail[code], table[code]):
            assert not re.search(r"(?<![<\d.])[1-4](?![\d.])", text.split(";")[0]), text


def test_upl006_partner_counts_export_is_suppressed_and_neutralised(state, synthetic):
    data = ps.PartnerData(extract=synthetic)
    meta, table = read_export_csv(ps.export_counts(state, data, 5))
    assert "SYNTHETIC" in meta["extract"] and "Partner data" in meta["licence"]
    raw = synthetic.counts.reset_index()
    for theme in ("knife", "domestic", "public_place"):
        hidden = raw[f"{theme}_count"].between(1, 4).to_numpy()
        assert (table.loc[hidden, f"{theme}_count"] == "<5").all()
        assert (table.loc[hidden, f"{theme}_rate_per_1000"] == "suppressed").all()
        shown = table.loc[~hidden, f"{theme}_count"].astype(int)
        assert not shown.between(1, 4).any()
    for value in [*table.to_numpy().ravel(), *table.columns, *meta.values()]:
        assert not str(value).startswith(FORMULA_PREFIXES), value


def test_upl007_threshold_setting_is_strict_and_used(state, synthetic):
    assert Settings.from_env({}).disclosure_threshold == 5
    assert Settings.from_env({"SVRP_DISCLOSURE_THRESHOLD": "10"}).disclosure_threshold == 10
    for raw in ("0", "-1", "5.0", "five", " 5", "²"):
        with pytest.raises(ProfilerError, match="SVRP_DISCLOSURE_THRESHOLD"):
            Settings.from_env({"SVRP_DISCLOSURE_THRESHOLD": raw})
    data = ps.PartnerData(extract=synthetic)
    texts = ps.count_text(data, 10)
    raw = synthetic.counts
    code = raw.index[raw["public_place_count"].between(5, 9)][0]
    assert texts[code]["public_place"] == ("<10", "suppressed")


def test_upl008_a_suppressed_count_does_not_move_any_band(synthetic):
    counts = synthetic.counts.copy()
    small = counts.index[counts["knife_count"].between(1, 4)]
    lows, highs = counts.copy(), counts.copy()
    lows.loc[small, "knife_count"] = 1
    highs.loc[small, "knife_count"] = 4
    for banding in ("stddev", "quantile", "natural_breaks"):
        assert ps.theme_bands(lows, "knife", banding, 5).equals(
            ps.theme_bands(highs, "knife", banding, 5))


def test_upl009_indicator_upload_replaces_adds_and_suppresses_counts(state):
    codes = list(state.county_table["lsoa21_code"])
    n = len(codes)
    victims = np.arange(n) % 9  # whole numbers: read as a count
    blob = pd.DataFrame({"LSOA code": codes, "violence_with_injury": np.linspace(1, 9, n),
                         "victims": victims}).to_csv(index=False).encode()
    up = ps.load_indicator_upload(state, blob, "partner.csv")
    assert set(up.partner_ids) == {"violence_with_injury", "victims"}
    assert up.count_ids == ("victims",)
    assert any("read as counts" in line for line in up.lines)
    data = ps.PartnerData(indicators=up)
    view = ps.view_state(state, data)
    assert view.spec.indicator("violence_with_injury").column == "partner_violence_with_injury"
    assert "victims" not in view.england_sorted and view.stability is None
    assert state.spec.indicator("violence_with_injury").column == "violence_with_injury_per_1000"
    themes = state.spec.indicator("violence_with_injury").themes
    for theme in ("knife", "domestic", "public_place"):
        label = ps.layer_source_label(data, theme)
        assert label == ("open proxies with partner indicators" if theme in themes
                         else "open proxies")
        assert ("partner.csv" in ps.layer_sources(data)[theme]) == (theme in themes)
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    assert len(result) == 354 and "victims_value" in result
    hidden = ps.hidden_indicator_values(data, result, 5)["victims"]
    assert hidden == set(result.loc[result["victims_value"].between(1, 4), "lsoa21_code"])
    out = ps.suppress_profile(result, data, 5)
    rows = out["lsoa21_code"].isin(hidden)
    # suppressed values travel as missing values with a flag, never as text in a number column
    assert out["victims_suppressed"].equals(rows)
    assert out.loc[rows, ["victims_value", "victims_contribution"]].isna().all().all()
    assert out["victims_value"].dtype == float and out.loc[rows, "victims_band"].isna().all()
    assert result["victims_value"].between(1, 4).any()  # the original is not changed


def test_upl011_partner_state_is_dash_free():
    import subprocess
    import sys

    code = ("import sys, dashboard.partner_state; "
            "sys.exit(any(m in sys.modules for m in ('dash', 'flask', 'dash_leaflet')))")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0  # noqa: S603


@pytest.mark.parametrize("area", ["E10000034", "E08000026"])
def test_upl013_uploads_for_another_home_area_are_checked_against_its_lsoas(state, area):
    from dashboard.state import current

    other = current(area)
    codes = list(other.county_table["lsoa21_code"])
    blob = pd.DataFrame({"LSOA code": codes, "violence_with_injury": np.linspace(1, 9, len(codes))
                         }).to_csv(index=False).encode()
    up = ps.load_indicator_upload(other, blob, "partner.csv")
    data = ps.PartnerData(indicators=up)
    pairs = tuple(other.spec.weights.items())
    prof = other.spec.profile
    result = ps.score(other, data, pairs, prof.normalisation, prof.banding, 5)
    assert sorted(result["lsoa21_code"]) == sorted(other.home.lsoa_codes)
    # a Warwickshire table does not cover the other area: refused in one line
    warks = pd.DataFrame({"LSOA code": list(state.county_table["lsoa21_code"]),
                          "violence_with_injury": 1.0}).to_csv(index=False).encode()
    with pytest.raises(PartnerDataError) as err:
        ps.load_indicator_upload(other, warks, "warks.csv")
    assert "\n" not in str(err.value)
