"""Vocabulary once: colours and class labels live in Python and reach the browser in the view."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.state import (
    CHANGE_PALETTE,
    DISTRICT_STYLE,
    HOTSPOT_PALETTE,
    INCIDENT_STYLE,
    MAP_STYLE,
    PALETTE,
)
from profiler.engine import BANDS

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "assets").glob("*.js"))
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def test_voc001_no_band_palette_colour_in_the_browser_scripts():
    assert SCRIPTS, "no scripts in assets/"
    palettes = {c.lower() for c in (*PALETTE, *HOTSPOT_PALETTE, *CHANGE_PALETTE)}
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8").lower()
        found = sorted(c for c in palettes if c in text)
        assert not found, f"{path.name} carries its own copy of palette colours {found}"


def test_voc002_browser_scripts_hold_no_colour_or_band_label_at_all():
    # every colour comes from dashboard.state in a view or a layer's hideout
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        assert not HEX.findall(text), f"{path.name}: colour codes {HEX.findall(text)[:5]}"
        assert '"Very High"' not in text and "'Very High'" not in text, path.name
    assert len(BANDS) == len(PALETTE) == 5


def test_voc003_map_view_carries_the_vocabulary(monkeypatch):
    import dash

    from dashboard.area import class_string, map_view

    monkeypatch.setattr(dash, "get_relative_path", lambda path: path)  # no app needed
    codes = ["E01000001", "E01000002", "E01000003"]
    classes = class_string(["E01000003", "E01000001"], [4, 0], codes)
    assert classes == "0-4"
    view = map_view("ovw", "E10000031", codes, classes, layer_label="Overall risk")
    assert view["palette"] == list(PALETTE) and view["labels"] == list(BANDS)
    assert view["counts"] == [1, 0, 0, 0, 1] and view["style"] == MAP_STYLE
    assert view["geometry"].endswith("/data/lsoa21/E10000031.geojson")
    assert all(HEX.fullmatch(c) for c in (*MAP_STYLE.values(), DISTRICT_STYLE["color"],
                                          *INCIDENT_STYLE["colours"].values(),
                                          *INCIDENT_STYLE["heat"]))
