"""Risk vs recorded violence: the map layer's view, its legend, the linked chart and group lists.

One vocabulary (:data:`profiler.observed.QUADRANT_GROUPS`: names, meanings, colours) feeds the
quadrant layer of the one map stack (a class string like bands), the Plotly chart beside it
(one trace per group, so a legend click or a box select picks groups; a point's ``customdata``
is its LSOA code, so a click selects it), the district pages' group lists and exports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dash import dcc, html

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


@dataclass(frozen=True)
class LogAxis:
    """Where values sit on a log axis, and its ticks in the values' own units.

    ``positions`` are the values themselves, except that a zero (or less) sits at ``floor``
    (None when there is none), the lowest tick, labelled "0": a log scale has no zero. ``range``
    is in log10 units, as Plotly wants a log axis' range.
    """

    positions: tuple[float, ...]
    floor: float | None
    tickvals: tuple[float, ...]
    ticktext: tuple[str, ...]
    range: tuple[float, float]

    def position(self, value: float) -> float:
        """Where one value (e.g. a dividing line) sits on this axis."""
        return float(value) if value > 0 else float(self.floor or min(self.tickvals))


def _steps(lo: float, hi: float) -> list[float]:
    """The 1-2-5 values (..., 0.5, 1, 2, 5, 10, 20, ...) from ``lo`` to ``hi`` inclusive."""
    out = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** e
            v = float(f"{v:.12g}")  # 0.1 * 2 is 0.2, not 0.20000000000000001
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                out.append(v)
    return out


def log_axis(values, pad: float = 0.1) -> LogAxis:
    """Log-scale positions and 1-2-5 ticks for ``values`` (rates: zero or more; NaN kept).

    Recorded violence per resident spans two or three decades in an area (one town-centre
    LSOA with few residents sits far above the rest), so a linear axis squashes every other
    LSOA into a line. Zeros sit at a floor below the smallest positive value (the largest 1-2-5
    value at most half of it), labelled "0". ``pad`` (log10 units) is the room at either end.

    Raises
    ------
    ValueError
        When no value is a number.
    """
    v = np.asarray(values, dtype=float)
    known = v[~np.isnan(v)]
    if known.size == 0:
        raise ValueError("log_axis: no values to place (every value is blank)")
    positive = known[known > 0]
    hi = float(positive.max()) if positive.size else 1.0
    floor = None
    if positive.size < known.size:  # some zeros: a floor clearly below every positive value
        below = positive.min() / 2 if positive.size else 1.0
        floor = max(s for s in _steps(below / 10, below))
    lo = floor if floor is not None else float(positive.min())
    low, high = math.log10(lo) - pad, math.log10(hi) + pad
    # with a floor, no tick between it and the smallest positive value: the gap shows the break
    least = float(positive.min()) if positive.size else hi
    ticks = [t for t in _steps(10 ** low, 10 ** high) if floor is None or t >= least]
    if floor is not None and floor not in ticks:
        ticks.insert(0, floor)
    if len([t for t in ticks if t != floor]) < 2:  # under a decade between 1-2-5 steps
        ticks = sorted({*ticks, float(f"{lo:.2g}"), float(f"{hi:.2g}")})
    labels = ["0" if t == floor else f"{t:,g}" for t in ticks]
    positions = np.where(np.isnan(v), np.nan, np.where(v > 0, v, floor if floor else 1.0))
    return LogAxis(tuple(float(p) for p in positions), floor, tuple(ticks), tuple(labels),
                   (round(low, 4), round(high, 4)))


def thresholds(quad: pd.DataFrame) -> tuple[float, float]:
    """The dividing lines: the top-fifth cuts of risk-factor score and recorded violence.

    The same quantiles as :func:`profiler.observed.risk_vs_observed` (numpy's linear
    interpolation over the LSOAs with a rate), so every point is on its group's side.
    """
    ok = quad[quad["group"] >= 0]
    return (float(np.quantile(ok["risk_score"], 0.8)),
            float(np.quantile(ok["observed_rate"], 0.8)))


def figure(state, quad: pd.DataFrame, selected: str | None = None) -> dict:
    """The quadrant chart (plain Plotly JSON): risk-factor score (x) against recent violence (y).

    One trace per group (legend click toggles it); without police.uk data, one trace of the
    risk axis alone. ``customdata`` of every point is its LSOA code; the y axis is a log scale
    (:func:`log_axis`) and hover gives the rate in its own units. Captioned for a slide
    (:func:`dashboard.slides.captioned`), as every chart is.
    """
    from dashboard.components import figure as plotly_figure
    from dashboard.slides import caption, captioned

    names = state.county.set_index("lsoa21_code")["lsoa21_name"]
    police = has_police(quad)

    def trace(part, name, colour, y, hover, rates=None):
        t = {"type": "scatter", "mode": "markers", "name": name,
             "x": part["risk_score"].round(3).tolist(), "y": y,
             "customdata": part["lsoa21_code"].tolist(),
             "text": names.reindex(part["lsoa21_code"]).fillna("").tolist(),
             "hovertemplate": hover,
             "marker": {"color": colour, "size": 7, "line": {"color": "#333333", "width": 0.5}}}
        if rates is not None:  # the rate in its own units (a zero sits at the axis' floor)
            t["hovertext"] = [f"{r:,.1f}" for r in rates]
        return t

    data, shapes = [], []
    extra = ""
    if police:
        ok = quad[quad["group"] >= 0]
        axis = log_axis(ok["observed_rate"])
        at = dict(zip(ok["lsoa21_code"], axis.positions, strict=True))
        for g, group in enumerate(QUADRANT_GROUPS):
            part = quad[quad["group"] == g]
            data.append(trace(part, f"{LABELS[g]} ({len(part)})", group.colour,
                              [round(at[c], 3) for c in part["lsoa21_code"]],
                              "%{text} (%{customdata})<br>risk-factor score %{x}<br>recorded "
                              "violence %{hovertext} per 1,000 a year<extra></extra>",
                              part["observed_rate"].tolist()))
        line = {"color": "#555555", "dash": "dot", "width": 1}
        x80, y80 = thresholds(quad)
        # on a log axis a shape's y is in data units (Plotly converts it), unlike its range
        shapes = [{"type": "line", "x0": x80, "x1": x80, "y0": 0, "y1": 1, "yref": "paper",
                   "line": line},
                  {"type": "line", "y0": axis.position(y80), "y1": axis.position(y80),
                   "x0": 0, "x1": 1, "xref": "paper", "line": line}]
        yaxis = {"title": {"text": "Recorded violence per 1,000 a year (log scale)"},
                 "type": "log", "range": list(axis.range), "tickvals": list(axis.tickvals),
                 "ticktext": list(axis.ticktext)}
        extra = Y_NOTE + (f" {ZERO_NOTE}" if axis.floor is not None else "")
    else:
        data.append(trace(quad, "Risk-factor score only", "#777777", [0.0] * len(quad),
                          "%{text} (%{customdata})<br>risk-factor score %{x}<extra></extra>"))
        yaxis = {"title": {"text": "No police.uk data"}, "showticklabels": False,
                 "range": [-1, 1]}
        extra = "No police.uk months for this area: the risk-factor axis only."
    if selected and selected in set(quad["lsoa21_code"]):
        row = quad.set_index("lsoa21_code").loc[selected]
        y = float(row["observed_rate"]) if police else 0.0
        if np.isfinite(y):
            data.append({"type": "scatter", "mode": "markers", "name": "Selected LSOA",
                         "x": [float(row["risk_score"])],
                         "y": [axis.position(y) if police else 0.0], "hoverinfo": "skip",
                         "marker": {"size": 15, "color": "rgba(0,0,0,0)",
                                    "line": {"color": "#000000", "width": 2.5}}})
    fig = plotly_figure(
        data, 420 if police else 240, "", margin_top=20,
        xaxis={"title": {"text": "Risk-factor score (causal indicators only)"}}, yaxis=yaxis,
        margin={"l": 60, "r": 10, "t": 36, "b": 50},
        # the legend above the plot: the caption goes under the axis title
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        dragmode="select", clickmode="event", uirevision="quadrants", shapes=shapes)
    title = f"Risk vs recorded violence in {state.home.name}"
    return captioned(fig, f"{title}. {extra} {caption(state)}".replace("  ", " "), width=150,
                     gap=12)


# what the chart's caption (and the page's note) says about the y axis
Y_NOTE = "Recorded violence on a log scale: each step up multiplies it."
ZERO_NOTE = "LSOAs with none recorded sit on the bottom line, marked 0."


def graph(state, fig: dict) -> dcc.Graph:
    """The chart as a ``dcc.Graph`` (id :data:`CHART_ID`), its PNG saved at slide size."""
    from dashboard.slides import chart_config

    return dcc.Graph(id=CHART_ID, figure=fig,
                     config=chart_config(f"{state.home.name} risk vs recorded violence"))


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


def group_lists(state, result: pd.DataFrame, groups: pd.DataFrame, prefix: str,
                district: str | None = None, open_groups=(), describe: bool = True) -> list:
    """Each group's LSOAs as the one list (a ``<details>`` per group), on every page.

    The rows are :func:`dashboard.components.high_risk_rows` of every band of ``result`` (in
    ``district``, else the whole area) with the chart's two values added: the risk-factor score
    and recorded violence (``groups``, from :func:`frame`). Ids: ``<prefix>-group-<g>`` and the
    tables ``<prefix>-table-<g>`` (:func:`table_ids`); ``open_groups`` start open. ``describe``
    puts each group's meaning (:func:`group_description`) in its list; off where the page shows
    the meanings already.
    """
    from dashboard.components import high_risk_rows, high_risk_table, rank_label, table_columns
    from profiler.engine import BANDS

    inside = (state.in_subarea(groups["lsoa21_code"], district) if district
              else np.ones(len(groups), dtype=bool))
    values = groups.set_index("lsoa21_code")
    rank = rank_label(state, state.home.code)
    columns = table_columns(rank, drop=LIST_DROP) + LIST_COLUMNS
    parts = []
    for g, table_id in enumerate(table_ids(prefix)):
        codes = groups.loc[np.asarray(inside) & (groups["group"] == g).to_numpy(), "lsoa21_code"]
        rows = high_risk_rows(result, state, BANDS, district, codes=codes)
        for row in rows:
            row["risk_factor"] = round(float(values.at[row["id"], "risk_score"]), 2)
            row["violence"] = round(float(values.at[row["id"], "observed_rate"]), 1)
        parts.append(html.Details(
            [html.Summary(f"{LABELS[g]} ({len(rows)} LSOAs)"),
             *([group_description(g)] if describe else []),
             high_risk_table(table_id, rows, page_size=10, rank=rank, columns=columns)],
            open=g in open_groups, className="svrp-quad-group", id=f"{prefix}-group-{g}"))
    return parts


# a group list's columns: the high-risk list's, without the drivers and P(High+) (the panel
# has both), with the chart's two axes
LIST_DROP = ("drivers", "p_high")
LIST_COLUMNS = [
    {"name": "Risk-factor score", "id": "risk_factor", "type": "numeric",
     "format": {"specifier": ".2f"}},
    {"name": "Recorded violence per 1,000 a year", "id": "violence", "type": "numeric",
     "format": {"specifier": ".1f"}},
]


def table_ids(prefix: str) -> list[str]:
    """The group lists' table ids on a page (``<prefix>-table-<g>``), one per group."""
    return [f"{prefix}-table-{g}" for g in range(len(QUADRANTS))]


def export_picker(prefix: str, first: tuple[str, str] | None = None,
                  hide_present: bool = False, inline: bool = False) -> list:
    """The "Which list to export" choice (``<prefix>-export-group``): ``first``, then each group.

    ``first`` is a (value, label) choice before the groups; a group's value is its index as a
    string (:func:`picked_group`). ``hide_present`` hides it in presentation mode; ``inline``
    puts the choices on one line (a full-width section).
    """
    options = ([{"label": first[1], "value": first[0]}] if first else []) + [
        {"label": label, "value": str(g)} for g, label in enumerate(LABELS)]
    hide = " svrp-hide-present" if hide_present else ""
    return [
        html.Span("Which list to export:", id=f"{prefix}-export-group-label",
                  className="svrp-note" + hide),
        dcc.RadioItems(id=f"{prefix}-export-group", options=options,
                       value=options[0]["value"], inline=inline,
                       className="svrp-radio" + (" svrp-radio-inline" if inline else "") + hide),
    ]


def picked_group(value) -> int | None:
    """The group an export picker's value names, or None (its first, non-group choice)."""
    return int(value) if value in {str(g) for g in range(len(QUADRANTS))} else None


def district_section(state, code: str, name: str) -> html.Section:
    """Each risk vs recorded violence group's LSOAs in a district or ward (:func:`group_lists`).

    An area without police.uk data says so instead.
    """
    groups = frame(state, state.county)
    heading = html.H2(f"Risk vs recorded violence in {name}", className="svrp-h2")
    if not has_police(groups):
        return html.Section([heading, html.P(NO_POLICE.format(area=state.home.name),
                                             className="svrp-note", id="dst-quad-note")],
                            className=SECTION_CLASS, id="dst-quadrants")
    parts: list = [heading, html.P(legend_note(state, groups), className="svrp-note",
                                   id="dst-quad-note")]
    parts += group_lists(state, state.county, groups, "dst-quad", code, open_groups=(1, 2))
    return html.Section(parts, className=SECTION_CLASS, id="dst-quadrants")
