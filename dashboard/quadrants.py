"""Risk vs recorded violence: the map layer's view, its legend, the linked chart and group lists.

One vocabulary (:data:`profiler.observed.QUADRANT_GROUPS`: names, meanings, colours) feeds the
quadrant layer of the one map stack (a class string like bands), the Plotly chart beside it
(one trace per group, so a legend click or a box select picks groups; a point's ``customdata``
is its LSOA code, so a click selects it), the district pages' group lists and exports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import html

from dashboard.state import LAYERS
from profiler.observed import QUADRANT_GROUPS, QUADRANT_RATE_COLUMN, QUADRANTS, risk_vs_observed

LAYER = "quadrants"
LABEL = LAYERS[LAYER]
CHART_ID = "ovw-quad-chart"
PALETTE = tuple(g.colour for g in QUADRANT_GROUPS)
LABELS = tuple(g.name[0].upper() + g.name[1:] for g in QUADRANT_GROUPS)
NO_POLICE = ("No police.uk months are imported for {area}'s force, so recorded violence is not "
             "known here: the chart shows the risk-factor axis only and the map layer has no "
             "groups. Import the force's street files (python -m profiler police import).")


def frame(state, result: pd.DataFrame, spec=None) -> pd.DataFrame:
    """Each LSOA of ``result``: risk-factor score, recent violence rate and group.

    The rate is the table's :data:`profiler.observed.QUADRANT_RATE_COLUMN` (blank where the
    force has no imported months); the risk-factor score uses ``spec``'s causal weights (the
    what-if spec; default the state's).
    """
    table = state.county_table.set_index("lsoa21_code")
    rates = (table[QUADRANT_RATE_COLUMN] if QUADRANT_RATE_COLUMN in table.columns
             else pd.Series(np.nan, index=table.index))
    return risk_vs_observed(result, spec or state.spec, rates)


def has_police(quad: pd.DataFrame) -> bool:
    """True when some LSOA has a recorded-violence rate (and so a group)."""
    return bool((quad["group"] >= 0).any())


def view_style(quad: pd.DataFrame, focus: list[int] | None = None) -> dict:
    """Keyword arguments of :func:`dashboard.area.map_view` for the quadrant layer.

    ``focus`` (group indices picked on the chart) keeps those groups at full strength and
    fades the others (the view's ``emphasise``).
    """
    style = {"palette": PALETTE, "labels": LABELS, "strong": (0,), "strongest": 0}
    if focus:
        style["emphasise"] = sorted({int(g) for g in focus if 0 <= int(g) < len(QUADRANTS)})
    return style


def legend_note(state, quad: pd.DataFrame) -> str:
    """The legend's note: how the groups are cut, or why there are none."""
    if not has_police(quad):
        return NO_POLICE.format(area=state.home.name)
    months = ""
    if "observed_sv_months" in state.county_table.columns:
        windows = state.county_table["observed_sv_months"].dropna().unique()
        months = f" ({', '.join(map(str, windows))})" if len(windows) else ""
    return ("High: the area's top fifth of the risk-factor score (causal indicators) or of "
            f"recorded serious violence per resident{months}.")


def figure(state, quad: pd.DataFrame, selected: str | None = None) -> dict:
    """The quadrant chart (plain Plotly JSON): risk-factor score (x) against recent violence (y).

    One trace per group (legend click toggles it); without police.uk data, one trace of the
    risk axis alone. ``customdata`` of every point is its LSOA code.
    """
    from dashboard.components import figure as plotly_figure

    names = state.county.set_index("lsoa21_code")["lsoa21_name"]
    police = has_police(quad)

    def trace(part, name, colour, y, hover):
        return {"type": "scatter", "mode": "markers", "name": name,
                "x": part["risk_score"].round(3).tolist(), "y": y,
                "customdata": part["lsoa21_code"].tolist(),
                "text": names.reindex(part["lsoa21_code"]).fillna("").tolist(),
                "hovertemplate": hover,
                "marker": {"color": colour, "size": 7, "line": {"color": "#333333",
                                                                "width": 0.5}}}

    data, shapes = [], []
    if police:
        for g, group in enumerate(QUADRANT_GROUPS):
            part = quad[quad["group"] == g]
            data.append(trace(part, f"{LABELS[g]} ({len(part)})", group.colour,
                              part["observed_rate"].round(1).tolist(),
                              "%{text} (%{customdata})<br>risk-factor score %{x}<br>recorded "
                              "violence %{y} per 1,000 a year<extra></extra>"))
        ok = quad[quad["group"] >= 0]
        line = {"color": "#555555", "dash": "dot", "width": 1}
        x80, y80 = float(ok["risk_score"].quantile(0.8)), float(ok["observed_rate"].quantile(0.8))
        shapes = [{"type": "line", "x0": x80, "x1": x80, "y0": 0, "y1": 1, "yref": "paper",
                   "line": line},
                  {"type": "line", "y0": y80, "y1": y80, "x0": 0, "x1": 1, "xref": "paper",
                   "line": line}]
        yaxis = {"title": {"text": "Recorded violence per 1,000 a year"}}
    else:
        data.append(trace(quad, "Risk-factor score only", "#777777", [0.0] * len(quad),
                          "%{text} (%{customdata})<br>risk-factor score %{x}<extra></extra>"))
        yaxis = {"title": {"text": "No police.uk data"}, "showticklabels": False,
                 "range": [-1, 1]}
    if selected and selected in set(quad["lsoa21_code"]):
        row = quad.set_index("lsoa21_code").loc[selected]
        y = float(row["observed_rate"]) if police else 0.0
        if np.isfinite(y):
            data.append({"type": "scatter", "mode": "markers", "name": "Selected LSOA",
                         "x": [float(row["risk_score"])], "y": [y], "hoverinfo": "skip",
                         "marker": {"size": 15, "color": "rgba(0,0,0,0)",
                                    "line": {"color": "#000000", "width": 2.5}}})
    return plotly_figure(
        data, 360 if police else 200, "", margin_top=20,
        xaxis={"title": {"text": "Risk-factor score (causal indicators only)"}}, yaxis=yaxis,
        margin={"l": 60, "r": 10, "t": 20, "b": 50}, legend={"orientation": "h", "y": -0.3},
        dragmode="select", clickmode="event", uirevision="quadrants", shapes=shapes)


def groups_from_chart(restyle, selected, previous) -> list[int] | None:
    """The groups picked on the chart: by box or lasso select, else the traces left visible.

    ``restyle`` is Plotly's ``restyleData`` after a legend click (``[{"visible": [...]},
    [trace indices]]``), applied to the groups ``previous``ly shown (None: all). Returns None
    when every group is shown.
    """
    n = len(QUADRANTS)
    if selected and selected.get("points"):
        picked = sorted({int(p.get("curveNumber", -1)) for p in selected["points"]
                         if isinstance(p, dict) and 0 <= int(p.get("curveNumber", -1)) < n})
        return picked or None
    visible = [previous is None or g in previous for g in range(n)]
    if isinstance(restyle, list) and restyle and isinstance(restyle[0], dict) \
            and "visible" in restyle[0]:
        values = restyle[0]["visible"]
        traces = restyle[1] if len(restyle) > 1 and isinstance(restyle[1], list) \
            else list(range(n))
        if not isinstance(values, list):
            values = [values] * len(traces)
        for t, v in zip(traces, values, strict=False):
            if isinstance(t, int) and 0 <= t < n:
                visible[t] = v is True
    shown = [g for g in range(n) if visible[g]]
    return shown if 0 < len(shown) < n else None


def group_codes(quad: pd.DataFrame, group: int) -> list[str]:
    """LSOA codes of one group."""
    return quad.loc[quad["group"] == group, "lsoa21_code"].tolist()


def group_description(group: int) -> html.P:
    """A group's plain-words meaning, for lists and legends."""
    g = QUADRANT_GROUPS[group]
    return html.P([html.Strong(LABELS[group] + ": "), g.meaning], className="svrp-note")


def export_metadata(state, quad: pd.DataFrame) -> dict:
    """Counts per group for an export's metadata (About sheet / metadata block)."""
    if not has_police(quad):
        return {"risk_vs_recorded_violence": NO_POLICE.format(area=state.home.name)}
    counts = quad["quadrant"].value_counts()
    return {"risk_vs_recorded_violence": "; ".join(
        f"{name}: {int(counts.get(name, 0))}" for name in QUADRANTS)}


# hidden in presentation mode (the map and the High+ list only)
SECTION_CLASS = "svrp-card svrp-quadrants svrp-hide-present"


def district_section(state, code: str, name: str) -> html.Section:
    """Each risk vs recorded violence group's LSOAs in a district or ward, as the one list.

    The lists are :func:`dashboard.components.high_risk_table` of every band, one per group;
    an area without police.uk data says so instead.
    """
    from dashboard.components import high_risk_rows, high_risk_table, rank_label
    from profiler.engine import BANDS

    groups = frame(state, state.county)
    heading = html.H2(f"Risk vs recorded violence in {name}", className="svrp-h2")
    if not has_police(groups):
        return html.Section([heading, html.P(NO_POLICE.format(area=state.home.name),
                                             className="svrp-note", id="dst-quad-note")],
                            className=SECTION_CLASS, id="dst-quadrants")
    inside = state.in_subarea(groups["lsoa21_code"], code)
    parts: list = [heading, html.P(legend_note(state, groups), className="svrp-note",
                                   id="dst-quad-note")]
    for g in range(len(QUADRANTS)):
        codes = groups.loc[inside & (groups["group"] == g).to_numpy(), "lsoa21_code"]
        rows = high_risk_rows(state.county, state, BANDS, code, codes=codes)
        parts.append(html.Details(
            [html.Summary(f"{LABELS[g]} ({len(rows)} LSOAs)"), group_description(g),
             high_risk_table(f"dst-quad-table-{g}", rows, page_size=10,
                             rank=rank_label(state, state.home.code))],
            open=g in (1, 2), className="svrp-quad-group", id=f"dst-quad-group-{g}"))
    return html.Section(parts, className=SECTION_CLASS, id="dst-quadrants")
