"""Legibility (issue 15): the selection outline's own colour, readable numbers in the panel."""

from __future__ import annotations

from dashboard.components import readable
from dashboard.state import (
    CHANGE_PALETTE,
    DISTRICT_STYLE,
    HOTSPOT_PALETTE,
    INCIDENT_STYLE,
    MAP_STYLE,
    PALETTE,
    SELECTION,
)


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
