"""Legibility (issue 15): the selection outline's own colour, readable numbers in the panel."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from dashboard.components import readable
from dashboard.home import _feature_geometry
from dashboard.settings import Settings
from dashboard.state import (
    CHANGE_PALETTE,
    DISTRICT_STYLE,
    HOTSPOT_PALETTE,
    INCIDENT_STYLE,
    MAP_STYLE,
    PALETTE,
    SELECTION,
    current,
    load_state,
)
from profiler.engine import BANDS

ROOT = Path(__file__).resolve().parents[2]


def test_leg001_selection_outline_uses_a_colour_nothing_else_does():
    others = {*PALETTE, *HOTSPOT_PALETTE, *CHANGE_PALETTE, DISTRICT_STYLE["color"],
              *INCIDENT_STYLE["colours"].values(), INCIDENT_STYLE["other"], *INCIDENT_STYLE["heat"],
              *(v for k, v in MAP_STYLE.items() if not k.startswith("selected"))}
    assert MAP_STYLE["selected"] == SELECTION
    assert SELECTION.lower() not in {c.lower() for c in others}


def test_leg002_numbers_read_as_people_read_them():
    assert readable(-3.85e-07) == "0.00"
    assert readable(0.004) == "0.00"
    assert readable(0.1234) == "0.12"
    assert readable(-1.5) == "-1.50"
    assert readable(12.345) == "12.3"
    assert readable(1234.5) == "1,234"
    assert readable(None) == "n/a"
    assert readable(float("nan")) == "n/a"


def test_leg003_district_names_sit_clear_of_high_areas():
    """Each sub-area's name is placed at a point in it that no High/Very High LSOA covers."""
    load_state(Settings(tiles_url="", data_dir=ROOT / "data"))
    for area in (None, "E08000026"):  # the default area (districts) and one profiled by ward
        state = current(area)
        high = state.county.loc[state.county["band"].isin(BANDS[3:]), "lsoa21_code"]
        shapes = state.england_features
        hot = [shapely.from_geojson(_feature_geometry(shapes[c])) for c in high if c in shapes]
        features = state.districts_geojson["features"]
        assert features and all("label_at" in f["properties"] for f in features)
        for f in features:
            lat, lon = f["properties"]["label_at"]
            point = shapely.Point(lon, lat)
            assert shapely.from_geojson(json.dumps(f["geometry"])).contains(point), f["properties"]
            assert not any(h.contains(point) for h in hot), f["properties"]["lad_name"]

