"""The police.uk incident layer made readable: type filter, legend with counts, heat scale.

The overview's incident controls (``ovw-incident-types`` checklist, ``ovw-incident-legend``)
and what its callback draws: the points of the chosen types (``layers.map.incidents_layer``,
in a pane above the LSOA canvas), the legend of point types with the colours of
:data:`dashboard.state.INCIDENT_STYLE` (the one palette) and counts for the focused district
or ward (or the whole area), and for the heat mode its scale. Tooltips (type, month, "snapped
location") are built as text by ``svrp.incidentPoint``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import pandas as pd
from dash import dcc, html

from dashboard.state import INCIDENT_STYLE, INCIDENT_TYPES, state_by_id
from layers.map import incidents_layer, legend

HEAT_LABELS = ("Low", "Medium", "High")  # the three steps of INCIDENT_STYLE["heat"]
HEAT_BANDS = ("up to a third of the peak", "a third to two thirds", "over two thirds")


def type_filter(component_id: str = "ovw-incident-types") -> dcc.Checklist:
    """Checklist of the incident types shown (all at first), each with its map colour."""
    colours = INCIDENT_STYLE["colours"]
    return dcc.Checklist(
        id=component_id,
        options=[{"label": html.Span([html.Span(className="svrp-swatch",
                                                style={"background": colours[t]}), t]),
                  "value": t} for t in INCIDENT_TYPES],
        value=list(INCIDENT_TYPES),
        className="svrp-checklist svrp-incident-types",
        inputClassName="svrp-check",
    )


def chosen_types(types) -> list[str]:
    """The known types among a checklist's ``value`` (in :data:`INCIDENT_TYPES` order)."""
    picked = set(types or []) if isinstance(types, list) else set()
    return [t for t in INCIDENT_TYPES if t in picked]


def incidents(state) -> pd.DataFrame:
    """The area's incident points as a table, from the state's point layer (cached per state).

    Columns ``crime_type``, ``month``, ``lsoa21_code``, ``longitude``, ``latitude``.
    """
    return _frame(id(state))


@lru_cache(maxsize=8)
def _frame(state_id: int) -> pd.DataFrame:
    features = state_by_id(state_id).incidents_geojson.get("features", [])
    return pd.DataFrame({
        "crime_type": [f["properties"]["crime_type"] for f in features],
        "month": [f["properties"]["month"] for f in features],
        "lsoa21_code": [f["properties"].get("lsoa21_code", "") for f in features],
        "longitude": [f["geometry"]["coordinates"][0] for f in features],
        "latitude": [f["geometry"]["coordinates"][1] for f in features],
    })


def _points(state, types: Sequence[str], month: str | None = None) -> dict:
    keep = set(types)
    features = [f for f in state.incidents_geojson["features"]
                if f["properties"]["crime_type"] in keep
                and (month is None or f["properties"]["month"] == month)]
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=16)
def _heat(state_id: int, types: tuple[str, ...]) -> dict:
    """Kernel density of the chosen types (all types: the state's own heat layer)."""
    state = state_by_id(state_id)
    table = incidents(state)
    if types == tuple(INCIDENT_TYPES) or not len(table):
        return state.heat_geojson
    from profiler.density import kernel_density

    points = table[table["crime_type"].isin(types)]
    if not len(points):
        return {"type": "FeatureCollection", "features": []}
    kde = kernel_density(points, bandwidth_m=500, cell_m=400, min_share=0.05)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"intensity": round(float(i), 3)}}
        for lon, lat, i in zip(kde["longitude"], kde["latitude"], kde["intensity"], strict=True)
    ]}


def incident_legend(state, mode: str, types: Sequence[str], district: str | None,
                    month: str | None = None) -> list:
    """Legend of the incident layer: counts per type in the focused sub-area, heat scale.

    ``month`` (``YYYY-MM``, the map's incident month): counts of that month only.
    """
    rows = incidents(state)
    if month:
        rows = rows[rows["month"] == month]
    if mode == "off" or not len(rows):
        return []
    where = state.home.name
    if district:
        rows = rows[state.in_subarea(rows["lsoa21_code"], district)]
        where = state.home.subarea(district).name
    counts = rows["crime_type"].value_counts().to_dict()
    shown = [INCIDENT_TYPES.index(t) for t in types]
    colours = tuple(INCIDENT_STYLE["colours"][t] for t in INCIDENT_TYPES)
    period = _month_name(month) if month else state.incident_period
    parts = [legend(
        f"police.uk incidents in {where}, {period}",
        {t: int(counts.get(t, 0)) for t in INCIDENT_TYPES},
        colours,
        tuple(INCIDENT_TYPES),
        order=shown,
        strong=(),
        note="Each point is a snapped location (police.uk moves every crime to an anonymous "
             "point on or near the street), not the exact place.",
    )]
    if mode == "heat":
        steps = tuple(INCIDENT_STYLE["heat"])
        parts.append(legend(
            "Heat: density of the chosen types",
            None, steps, tuple(f"{a}: {b}" for a, b in zip(HEAT_LABELS, HEAT_BANDS, strict=True)),
            order=[2, 1, 0], strong=(),
            note="Kernel density, 500 m bandwidth, relative to the densest 400 m cell.",
        ))
    return parts


def incident_layer(state, mode: str, types: Sequence[str], month: str | None = None) -> list:
    """The incident layer's children for ``mode``, only the chosen ``types`` (and ``month``).

    Single points carry every month (the map's month control hides the others in place:
    ``svrp.showPeriod``); clusters are built from ``month``'s points when one is given.
    """
    types = list(types)
    heat = _heat(id(state), tuple(types)) if mode == "heat" else state.heat_geojson
    return incidents_layer("ovw-incident-points", _points(state, types, month), heat, mode,
                           INCIDENT_STYLE)


def _month_name(month: str) -> str:
    """``2022-09`` as "September 2022"."""
    import calendar

    year, number = month.split("-")
    return f"{calendar.month_name[int(number)]} {year}"
