"""Issue 18, hostile and odd input: each item's failure, made to fail before the fix."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import partner_state as ps
from dashboard.settings import Settings
from profiler.export import FORMULA_PREFIXES, neutralise, read_export_csv
from profiler.partner import PartnerDataError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def state():
    from dashboard.state import load_state

    return load_state(Settings(tiles_url="", data_dir=ROOT / "data"))


def data_url(content: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(content).decode()


def small_counts_upload(state, name="partner.csv"):
    """An indicator upload whose count column is 1-4 in every LSOA (all suppressed)."""
    codes = list(state.county_table["lsoa21_code"])
    n = len(codes)
    blob = pd.DataFrame({"lsoa21_code": codes, "violence_with_injury": np.linspace(1, 9, n),
                         "victims": (np.arange(n) % 4) + 1}).to_csv(index=False).encode()
    return ps.load_indicator_upload(state, blob, name)


# -- items 2 and 3: disclosure control as a type ---------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_hst001_every_export_works_with_counts_of_1_to_4_everywhere(state, fmt):
    from dashboard.components import export_download

    data = ps.PartnerData(indicators=small_counts_upload(state))
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    out = ps.suppress_profile(result, data, 5)
    view = ps.view_state(state, data)
    payload = export_download(view, out, fmt, ["Very Low", "Low", "Medium", "High", "Very High"],
                              None, pairs, prof.normalisation, prof.banding)
    blob = base64.b64decode(payload["content"]) if payload.get("base64") else payload["content"]
    assert len(blob) > 1000
    if fmt == "csv":
        _meta, table = read_export_csv(blob)
        assert (table["Victims: value"] == "<5").all()
        assert (table["Victims: contribution"] == "suppressed").all()
        assert not table["Top contributors"].str.contains("Victims|victims").any()


def test_hst002_lsoa_panel_builds_for_a_suppressed_lsoa(state):
    from dashboard.components import lsoa_panel

    data = ps.PartnerData(indicators=small_counts_upload(state))
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    view = ps.view_state(state, data)
    hidden = ps.hidden_indicator_values(data, result, 5)
    code = result["lsoa21_code"].iloc[0]
    for frame, hide in ((result, hidden), (ps.suppress_profile(result, data, 5), None)):
        panel = lsoa_panel(view, frame, code, hidden=hide)
        text = str(panel)
        assert "<5" in text and "(suppressed)" in text


# -- item 5: one sanitiser for every text that reaches a file --------------------------------

HOSTILE_NAMES = ['x,"=2+3".csv', 'x,=HYPERLINK("http://example.invalid/?q=1","go").csv',
                 "x;=2+3.csv", "x\t=2+3.csv", "x|=2+3.csv", "x, @SUM(1+1).csv", 'x;"+2+3".csv',
                 "x,  -2+3.csv", "\u202ex=2+3.csv", "=2+3.csv"]


def formula_cells(text: str) -> list[str]:
    """Cells of ``text`` that a spreadsheet would run, reading it with any common delimiter."""
    bad = []
    for delim in (",", ";", "\t", "|"):
        for row in csv.reader(io.StringIO(text), delimiter=delim):
            bad += [c for c in row if c.lstrip(' "').startswith(FORMULA_PREFIXES)]
    return bad


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hst003_file_names_cannot_inject_formulas_in_any_export(state, name):
    from dashboard.components import export_download
    from openpyxl import load_workbook

    up = ps.load_indicator_upload(state, pd.DataFrame({
        "lsoa21_code": state.county_table["lsoa21_code"],
        "violence_with_injury": np.linspace(1, 9, 354)}).to_csv(index=False).encode(), name)
    data = ps.PartnerData(indicators=up)
    assert "\u202e" not in up.name
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    view = ps.view_state(state, data)
    for fmt in ("csv", "xlsx", "geojson"):
        payload = export_download(view, result, fmt, ["Very High"], None, pairs,
                                  prof.normalisation, prof.banding,
                                  extra_meta={"theme bands": f"partner {name}"})
        blob = base64.b64decode(payload["content"])
        if fmt == "csv":
            head = "\n".join(ln for ln in blob.decode().splitlines() if ln.startswith("# "))
            assert "=2+3" not in head.replace("'=2+3", "") or not formula_cells(head)
            assert formula_cells(head) == [], head
        elif fmt == "xlsx":
            about = load_workbook(io.BytesIO(blob), read_only=True)["About"]
            for row in about.iter_rows(values_only=True):
                text = "\t".join(str(v) for v in row if v is not None)
                assert formula_cells(text) == [], text
        else:
            assert "\u202e" not in blob.decode()
            for value in __import__("json").loads(blob)["metadata"].values():
                assert formula_cells(str(value)) == [], value


def test_hst004_neutralise_is_the_one_sanitiser():
    assert neutralise('x,"=2+3"') == 'x,"\'=2+3"'
    assert neutralise("x;=2+3") == "x;'=2+3"
    assert neutralise("=1") == "'=1" and neutralise(neutralise("a,=1")) == neutralise("a,=1")
    assert neutralise("a\u202eb\u200bc\ufeff") == "abc"
    assert neutralise("Nuneaton and Bedworth") == "Nuneaton and Bedworth"
    assert neutralise(3) == 3
    from profiler.partner import _safe_name

    assert _safe_name("evil\u202etxt.csv") == "eviltxt.csv"
    assert _safe_name("a\u200b\u200db.csv") == "ab.csv"
