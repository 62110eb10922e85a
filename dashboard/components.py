"""Pieces shared by the pages: input validation, the LSOA "why" panel, the high-risk table, exports.

Everything data-derived is rendered as Dash components (text), never as HTML strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import dash
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, dash_table, dcc, html

from dashboard.intro import GLOSSARY
from dashboard.slides import caption, captioned, chart_config
from dashboard.state import PALETTE, AppState
from dashboard.urlstate import LSOA_RE, WEIGHT_MAX, WEIGHT_MIN
from profiler.disclosure import FLAG_SUFFIX
from profiler.engine import BANDS, THEME_LABELS, THEMES
from profiler.errors import ProfilerError
from profiler.export import build_metadata, export_lsoas, top_contributors
from profiler.spec import BANDINGS, NORMALISATIONS


def validate_weights(values: Sequence, ids: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """Check weight control values; return the (id, weight) pairs, in spec order.

    Raises
    ------
    ProfilerError
        On a missing, non-numeric or out-of-range weight, or when every weight is 0.
    """
    if not isinstance(values, list | tuple):
        raise ProfilerError(f"weights: expected a list of {len(ids)} values, got "
                            f"{type(values).__name__}")
    if len(values) != len(ids):
        raise ProfilerError(f"weights: expected {len(ids)} values, got {len(values)}")
    pairs = []
    for key, value in zip(ids, values, strict=True):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ProfilerError(f"weight {key}: {value!r} is not a number")
        if not WEIGHT_MIN <= value <= WEIGHT_MAX:
            raise ProfilerError(f"weight {key}: {value!r} is outside {WEIGHT_MIN:g}-{WEIGHT_MAX:g}")
        pairs.append((key, float(value)))
    if not any(w > 0 for _, w in pairs):
        raise ProfilerError("weights: at least one indicator needs a weight above 0")
    return tuple(pairs)


def map_clientside_callbacks(prefix: str) -> None:
    """Register a map page's two clientside callbacks (ids ``<prefix>-...``).

    ``svrp.restyle`` restyles the drawn shapes in place whenever ``<prefix>-view`` changes
    (writing ``<prefix>-restyled``); ``svrpSearch.listFilter`` turns the list's filter box
    into ``<prefix>-table.filter_query``; ``svrp.hoverText`` writes the hovered LSOA's details to
    ``<prefix>-hover`` from ``<prefix>-lsoas.hoverData`` and the view.
    """
    dash.clientside_callback(
        ClientsideFunction(namespace="svrp", function_name="restyle"),
        Output(f"{prefix}-restyled", "data"),
        Input(f"{prefix}-view", "data"),
    )
    list_filter_callback(f"{prefix}-table")
    dash.clientside_callback(
        ClientsideFunction(namespace="svrp", function_name="hoverText"),
        Output(f"{prefix}-hover", "children"),
        Input(f"{prefix}-lsoas", "hoverData"),
        State(f"{prefix}-view", "data"),
        prevent_initial_call=True,
    )


def list_filter_callback(table_id: str) -> None:
    """Wire a list's filter box (:func:`list_filter`) to its table's ``filter_query``.

    ``svrpSearch.listFilter`` (clientside) keeps the rows whose LSOA code, MSOA, ward or
    district contains the text.
    """
    dash.clientside_callback(
        ClientsideFunction(namespace="svrpSearch", function_name="listFilter"),
        Output(table_id, "filter_query"),
        Input(f"{table_id}-filter", "value"),
        prevent_initial_call=True,
    )


def alert_box(component_id: str, errors: Sequence[str]) -> html.Div:
    """The page's message box (``role=alert``), hidden when there is nothing to say."""
    return html.Div(
        [html.P(e) for e in errors],
        id=component_id,
        className="svrp-alert",
        role="alert",
        hidden=not errors,
    )


def map_grid(controls, map_children: list, panel_id: str, panel_children=None) -> html.Div:
    """The three-column map page: controls, the map with its legend and hover box, the panel."""
    panel = {} if panel_children is None else {"children": panel_children}
    return html.Div(
        [
            controls,
            html.Section(map_children, className="svrp-map-wrap", **{"aria-label": "Risk map"}),
            html.Section(  # tabIndex: a scrollable region reachable by keyboard
                id=panel_id, className="svrp-panel", tabIndex="0", **panel,
                **{"aria-label": "Selected area"},
            ),
        ],
        className="svrp-grid",
    )


def weights_panel(prefix: str, spec, weights: dict[str, float]) -> html.Details:
    """What-if weight sliders, ids ``{"type": f"{prefix}-weight", "id": <indicator id>}``."""
    rows = []
    for ind in spec.indicators:
        rows.append(
            html.Div(
                [
                    # names the slider and its number box (assets/svrp-a11y.js)
                    html.Label(ind.label, className="svrp-weight-label"),
                    dcc.Slider(
                        id={"type": f"{prefix}-weight", "id": ind.id},
                        min=WEIGHT_MIN,
                        max=spec.slider_max,  # validation is against WEIGHT_MAX
                        step=0.25,
                        value=weights.get(ind.id, ind.weight),
                        marks=None,
                        tooltip={"placement": "right", "always_visible": False},
                        updatemode="mouseup",
                    ),
                ],
                className="svrp-weight",
            )
        )
    return html.Details(
        [html.Summary("What-if weights and method"), *rows], open=True, className="svrp-whatif"
    )


def validate_method(normalisation: str | None, banding: str | None) -> tuple[str, str]:
    """Check the normalisation and banding choices."""
    if normalisation not in NORMALISATIONS:
        raise ProfilerError(
            f"normalisation {normalisation!r}: use one of {', '.join(NORMALISATIONS)}"
        )
    if banding not in BANDINGS:
        raise ProfilerError(f"banding {banding!r}: use one of {', '.join(BANDINGS)}")
    return normalisation, banding


def what_if_key(state: AppState, weights, normalisation, banding):
    """Cache key for :meth:`AppState.score`; the spec's own settings map to the default profile."""
    prof = state.spec.profile
    w = () if dict(weights) == state.spec.weights else weights
    n = None if normalisation == prof.normalisation else normalisation
    b = None if banding == prof.banding else banding
    return w, n, b


TABLE_COLUMNS = [
    {"name": "LSOA", "id": "lsoa21_code"},
    {"name": "MSOA (local name)", "id": "msoa"},
    {"name": "Ward", "id": "ward"},
    {"name": "District", "id": "district"},
    {"name": "Band", "id": "band"},
    {"name": "Score", "id": "score", "type": "numeric", "format": {"specifier": ".2f"}},
    {"name": "County rank", "id": "rank", "type": "numeric"},
    {"name": "Top contributing indicators", "id": "drivers"},
    {"name": "P(High+)", "id": "p_high", "type": "numeric", "format": {"specifier": ".0%"}},
]
# P(High+) unknown for every LSOA: another profile than the shipped analysis describes
NO_STABILITY = pd.DataFrame({"p_high": pd.Series(dtype=float)})


def rank_label(state: AppState, scope: str) -> str:
    """What a result's ``rank`` column is a rank in: the scope it was scored for."""
    if scope == "england":
        return "England rank"
    level = state.catalogue.resolve(scope).level
    return {"county": "County rank", "district": "District rank"}.get(level, "Area rank")


def table_columns(rank: str = "County rank", drop: Sequence[str] = ()) -> list[dict]:
    """:data:`TABLE_COLUMNS` with the rank column named ``rank``, less the ids in ``drop``."""
    return [
        {**c, "name": rank} if c["id"] == "rank" else dict(c)
        for c in TABLE_COLUMNS
        if c["id"] not in drop
    ]


def high_risk_rows(
    result: pd.DataFrame,
    state: AppState,
    bands: Sequence[str],
    district: str | None = None,
    stability: pd.DataFrame | None = None,
    limit: int | None = None,
    codes=None,
) -> list[dict]:
    """Rows for the high-risk list of every page: LSOAs in ``bands`` (and ``district``).

    Highest first, at most ``limit``. ``stability`` (by LSOA code) gives P(High+); the shipped
    default-profile analysis if omitted (pass :data:`NO_STABILITY` when it does not apply).
    ``codes`` keeps only those LSOAs (e.g. one risk vs recorded violence group).
    """
    rows = result[result["band"].isin(list(bands))]
    if codes is not None:
        rows = rows[rows["lsoa21_code"].isin(set(codes))]
    if district:
        rows = rows[state.in_subarea(rows["lsoa21_code"], district)]
    if limit is not None:
        rows = rows.head(limit)
    if rows.empty:
        return []
    drivers = top_contributors(rows, state.spec)
    stability = stability if stability is not None else state.stability
    stable = stability["p_high"] if stability is not None else {}
    return [
        {
            "id": r.lsoa21_code,
            "lsoa21_code": r.lsoa21_code,
            "msoa": r.msoa21_hcl_name,
            "ward": r.ward24_name,
            "district": r.lad24_name,
            "band": r.band,
            "score": round(float(r.score), 3),
            "rank": int(r.rank),
            "drivers": d,
            # probability of High or above over 1,000 what-if profiles (default spec)
            "p_high": float(stable[r.lsoa21_code]) if r.lsoa21_code in stable else None,
        }
        for r, d in zip(rows.itertuples(), drivers, strict=True)
    ]


TABLE_CELL = {
    "fontFamily": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
    "fontSize": "0.9rem",
    "padding": "4px 8px",
    "textAlign": "left",
    "whiteSpace": "normal",
    "height": "auto",
}
FILTER_HINT = "LSOA code, MSOA, ward or district"


def list_filter(table_id: str) -> html.Div:
    """The filter box of an LSOA list (``<table_id>-filter``): rows containing what is typed."""
    return html.Div(
        [
            html.Label("Filter the list", htmlFor=f"{table_id}-filter"),
            dcc.Input(id=f"{table_id}-filter", type="search", placeholder=FILTER_HINT,
                      autoComplete="off", debounce=False, maxLength=60),
        ],
        className="svrp-list-filter svrp-no-print",
    )


def high_risk_table(
    table_id: str,
    rows: list[dict],
    page_size: int = 15,
    extra_columns: Sequence[dict] = (),
    rank: str = "County rank",
    **overrides,
) -> html.Div:
    """Sortable, keyboard-navigable table of LSOAs (select a cell to select the LSOA).

    ``rank`` names the rank column (see :func:`rank_label`). ``extra_columns`` are appended; a
    ``change`` column (what-if band change, as text) is also outlined, so a changed row is
    marked by words and a border, not colour alone. ``overrides`` replace DataTable arguments
    (``columns``, ``style_cell``...). Above the table, a filter box (``<table_id>-filter``)
    keeps the rows whose LSOA code, MSOA, ward or district contains what is typed
    (:func:`map_clientside_callbacks` wires it).
    """
    changed_style = [
        {
            "if": {"filter_query": '{change} contains "was"'},
            "fontWeight": "bold",
            "borderTop": "2px dashed #000",
            "borderBottom": "2px dashed #000",
        }
    ]
    arguments = dict(
        id=table_id,
        columns=table_columns(rank) + list(extra_columns),
        data=rows,
        sort_action="native",
        # the filter box above sets filter_query; the table's own filter row is hidden
        filter_action="native",
        filter_query="",
        css=[{"selector": "tr:has(> th.dash-filter)", "rule": "display: none"}],
        page_size=page_size,
        cell_selectable=True,
        # for the mouse; every page's glossary says the same in words (dashboard.intro)
        tooltip_header={"p_high": GLOSSARY["P(High+)"], "band": GLOSSARY["Band"]},
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_cell=TABLE_CELL,
        style_header={"fontWeight": "bold"},
        style_data_conditional=(
            changed_style if any(c["id"] == "change" for c in extra_columns) else []
        )
        + [
            {
                "if": {"filter_query": '{band} = "Very High"', "column_id": "band"},
                "backgroundColor": PALETTE[4],
                "color": "white",
                "fontWeight": "bold",
            },
            {
                "if": {"filter_query": '{band} = "High"', "column_id": "band"},
                "backgroundColor": PALETTE[3],
                "color": "black",
            },
        ],
    )
    arguments.update(overrides)
    return html.Div([list_filter(table_id), dash_table.DataTable(**arguments)],
                    className="svrp-list-table")


# Figures are plain dicts, not plotly.graph_objects: building a go.Figure with a template
# deep-copies and validates it (~120 ms a chart here, most of a panel's time); plotly.js takes
# the same JSON. These are the few parts of the "plotly_white" template the charts use.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8",
         "automargin": True, "ticks": "", "title": {"standoff": 15}}
_LAYOUT = {"paper_bgcolor": "white", "plot_bgcolor": "white",
           "font": {"color": "#2a3f5f"}, "hoverlabel": {"align": "left"}}


def figure(data: list[dict], height: int, title: str, margin_top: int = 40,
           xaxis: dict | None = None, yaxis: dict | None = None, **layout) -> dict:
    """A Plotly figure as JSON: ``data`` traces, a title, white axes and ``layout`` extras."""
    return {
        "data": data,
        "layout": {
            **_LAYOUT,
            "title": {"text": title, "font": {"size": 13}},
            "margin": {"l": 10, "r": 10, "t": margin_top, "b": 30},
            "height": height,
            "xaxis": {**_AXIS, **(xaxis or {})},
            "yaxis": {**_AXIS, **(yaxis or {})},
            **layout,
        },
    }


def diverging_bars(
    labels,
    values,
    title: str,
    hover: str,
    height: int = 400,
    reverse: bool = False,
    neutral: bool = False,
) -> dict:
    """Horizontal bars, red above zero (riskier) and blue below; grey when ``neutral``."""
    bar = {
        "type": "bar",
        "y": list(labels),
        "x": list(values),
        "orientation": "h",
        "marker": {"color": (
            # a suppressed value is None (no bar): never compared with 0
            "#4d4d4d" if neutral else [PALETTE[4] if v is not None and v > 0 else PALETTE[0]
                                       for v in values]
        )},
        "hovertemplate": hover,
    }
    return figure(
        [bar], height, title,
        xaxis={"zeroline": True, "zerolinecolor": "#888"},
        yaxis={"autorange": "reversed"} if reverse else {},
    )


def readable(value) -> str:
    """A value as people read it: 2 decimals (near-zero shows 0.00, never ``-3.85e-07``).

    Large values get fewer decimals and thousands separators; missing values are "n/a".
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    value = float(value)
    if abs(value) < 0.005:
        return "0.00"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def chart_with_text(graph, title: str, lines: Sequence[str]) -> html.Figure:
    """A chart and its text alternative (WCAG 1.1.1): the same values as a list under it."""
    return html.Figure(
        [
            graph,
            html.Figcaption(
                html.Details(
                    [html.Summary(f"{title}: as text"), html.Ul([html.Li(t) for t in lines])],
                    className="svrp-chart-text",
                )
            ),
        ],
        className="svrp-figure",
        **{"aria-label": title},
    )


def _stability_line(state: AppState, code: str, stability: pd.DataFrame | None = None) -> html.P:
    """How sure the profile is about this LSOA (Monte Carlo over the analyst's choices).

    ``stability`` is a what-if run's table; the shipped default-profile analysis if omitted.
    """
    stability = stability if stability is not None else state.stability
    if stability is None or code not in stability.index:
        return html.P()
    s = stability.loc[code]
    return html.P(
        [
            html.Strong("How sure: "),
            f"High or above in {s['p_high']:.0%} of 1,000 what-if profiles (weights, method "
            f"and indicators varied); most often {s['modal_band']}; rank in {state.home.name} "
            f"{int(s['rank_p05'])}-{int(s['rank_p95'])} in 90% of them.",
        ],
        id="panel-stability",
    )


def _band_badge(label: str, band: str) -> html.Span:
    i = BANDS.index(band)
    return html.Span(
        [f"{label}: ", html.Strong(band)],
        className=f"svrp-badge band-{i}",
        style={"background": PALETTE[i]},
    )


def lsoa_panel(
    state: AppState,
    result: pd.DataFrame,
    code: str | None,
    hidden: Mapping[str, set] | None = None,
    extra: Sequence | None = None,
    stability: pd.DataFrame | None = None,
    area: str = "the county",
    empty: Sequence | None = None,
) -> list:
    """The "why" panel for one LSOA on every page: bands, score, ranks, contributions, values.

    ``result`` is the profile shown (any scope); ``area`` names its scope in the rank line
    ("the county", "England", a district). ``hidden`` maps an indicator id to the LSOA codes
    whose value is a suppressed partner count (shown as ``<5``, its contribution and band
    withheld); ``extra`` components go at the end. Indicators without England values (partner
    data) show "n/a" for England; an LSOA outside the county shows no county averages.
    ``stability``: a what-if band-stability table for the "how sure" line (default: shipped;
    :data:`NO_STABILITY` for none). ``empty``: what to show with nothing selected (default:
    the county's sensitivity chart).
    """
    hidden = hidden or {}
    if not code and empty is not None:
        return list(empty)
    if not code:
        sens = state.sensitivity
        chart = diverging_bars(
            list(sens["label"]),
            [round(float(v), 1) for v in sens["mean_abs_rank_shift"]],
            f"Which indicators move the {state.home.name} ranking most",
            "%{y}: LSOAs move %{x:.1f} places on average when it is left out<extra></extra>",
            height=380,
            reverse=True,
            neutral=True,
        )
        return [
            html.P(
                "Select an area on the map or in the table to see why it scores as it does.",
                className="svrp-hint",
            ),
            chart_with_text(
                dcc.Graph(figure=captioned(chart, caption(state)),
                          config=chart_config(f"{state.home.name} indicator sensitivity"),
                          id="panel-sensitivity"),
                f"Which indicators move the {state.home.name} ranking most",
                [f"{label}: LSOAs move {float(v):.1f} places on average when it is left out"
                 for label, v in zip(sens["label"], sens["mean_abs_rank_shift"], strict=True)],
            ),
            html.P(
                f"Average change in rank within {state.home.name} when each indicator is left "
                "out of the default profile: the indicators the ranking leans on most.",
                className="svrp-note",
            ),
        ]
    if not LSOA_RE.match(code):
        return [html.P(f"{code[:20]!r} is not an LSOA code.", className="svrp-error")]
    match = result[result["lsoa21_code"] == code]
    if match.empty:
        return [html.P(f"{code} is not in this profile.", className="svrp-error")]
    row = match.iloc[0]
    spec = state.spec
    england_rank = state.england_rank.get(code)
    # suppressed partner counts: named by ``hidden`` or flagged in the profile (missing values)
    secret = {i.id for i in spec.indicators
              if code in hidden.get(i.id, ()) or bool(row.get(f"{i.id}{FLAG_SUFFIX}", False))}
    # optional indicators without data here (no police.uk months): left out, weights renormalised
    absent = {i.id for i in spec.indicators
              if i.optional and i.id not in secret and pd.isna(row[f"{i.id}_value"])}
    from dashboard.backtests import flat_ids

    flat = set(flat_ids(state))
    contrib = sorted(
        ((0.0 if i.id in secret | absent else row[f"{i.id}_contribution"], i)
         for i in spec.indicators if i.id not in absent),
        key=lambda t: t[0],
    )
    fig = diverging_bars(
        [i.label + (" (suppressed)" if i.id in secret else "") for _, i in contrib],
        [None if i.id in secret else round(float(c), 3) for c, i in contrib],
        "Contribution to the score (weight share × normalised value)",
        "%{y}: %{x:.3f}<extra></extra>",
        height=360,
    )
    labels = [ind.label for ind in spec.indicators]
    def england_pct(ind_id: str, value: float) -> float | None:
        # partner indicators have no England values: no percentile
        return state.england_percentile(ind_id, value) if ind_id in state.england_sorted else None

    pct = [
        None if i.id in secret | absent else england_pct(i.id, row[f"{i.id}_value"])
        for i in spec.indicators
    ]
    in_county = code in state.county_codes
    county_pct = [england_pct(i.id, state.county_means[i.id]) if in_county else None
                  for i in spec.indicators]
    compare = figure(
        [
            {"type": "bar", "y": labels, "x": pct, "orientation": "h", "name": "This LSOA",
             "marker": {"color": "#4d4d4d"},
             "hovertemplate": "%{y}: higher than %{x:.0f}% of England's LSOAs<extra></extra>"},
            {"type": "scatter", "y": labels, "x": county_pct, "mode": "markers",
             "name": "County average",
             "marker": {"symbol": "diamond", "size": 10, "color": "#1f4dd8"},
             "hovertemplate": "%{y}: county average at England percentile %{x:.0f}"
                              "<extra></extra>"},
        ],
        400,
        "England percentile of each value (county average ◆)",
        margin_top=50,
        xaxis={"range": [0, 100]},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h"},
        # the England median: a dashed line across the plot, labelled at the top
        shapes=[{"type": "line", "x0": 50, "x1": 50, "xref": "x", "y0": 0, "y1": 1,
                 "yref": "y domain", "line": {"dash": "dash", "color": "#888"}}],
        annotations=[{"x": 50, "xref": "x", "y": 1, "yref": "y domain", "text": "England median",
                      "showarrow": False, "yanchor": "bottom"}],
    )
    value_rows = []
    for ind in spec.indicators:
        value = row[f"{ind.id}_value"]
        threshold = getattr(state.settings, "disclosure_threshold", 5)
        england = state.england_means.get(ind.id)
        county_mean = state.county_means[ind.id]
        shown = (f"<{threshold}" if ind.id in secret else
                 "no police.uk data" if ind.id in absent else readable(value))
        value_rows.append(
            html.Tr(
                [
                    html.Td([ind.label + (" (one value per district)" if ind.id in flat else ""),
                             html.Br(), html.Span(ind.unit, className="svrp-unit")]),
                    html.Td(shown),
                    html.Td(readable(county_mean) if in_county and not pd.isna(county_mean)
                            else "n/a"),
                    html.Td("n/a" if england is None or pd.isna(england) else readable(england)),
                    html.Td("suppressed" if ind.id in secret else
                            "n/a" if ind.id in absent else row[f"{ind.id}_band"]),
                ]
            )
        )
    notes = []
    if absent:
        left = [i for i in spec.indicators if i.id not in absent and i.weight > 0]
        notes.append(html.P(
            f"No police.uk months are imported for this LSOA's force: "
            f"{', '.join(i.label for i in spec.indicators if i.id in absent)} left out; the "
            f"score is the weighted mean of the other {len(left)} indicators, their weights "
            "renormalised over them.", className="svrp-note", id="panel-absent"))
    if flat & {i.id for i in spec.indicators}:
        notes.append(html.P(
            "Marked 'one value per district': the same value for every LSOA of the district, "
            "so it says which district, not which streets.", className="svrp-note",
            id="panel-flat"))
    n_area = len(result)
    return [
        html.H3(f"{row['lsoa21_name']} ({code})", id="panel-title"),
        html.P(
            f"{row['msoa21_hcl_name']} · {row['ward24_name']} ward · {row['lad24_name']}",
            className="svrp-subtitle",
        ),
        html.Div(
            [_band_badge("Overall", row["band"])]
            + [
                _band_badge(THEME_LABELS[t], row[f"{t}_band"]) for t in THEMES if f"{t}_band" in row
            ],
            className="svrp-badges",
        ),
        html.P(
            [
                f"Score {row['score']:.2f}; rank {int(row['rank']):,} of {n_area:,} in {area}",
                f"; rank {int(england_rank):,} of {len(state.england_rank):,} in England "
                "(default profile, England reference)"
                if england_rank is not None
                else "",
            ],
            id="panel-ranks",
        ),
        _stability_line(state, code, stability),
        *notes,
        chart_with_text(
            dcc.Graph(figure=captioned(fig, f"{row['lsoa21_name']} ({code}). " + caption(state)),
                      config=chart_config(f"{code} contributions"), id="panel-chart"),
            "Contribution of each indicator to the score",
            [f"{i.label}: suppressed" if i.id in secret else f"{i.label}: {float(c):+.3f}"
             for c, i in contrib[::-1]],
        ),
        chart_with_text(
            dcc.Graph(figure=captioned(compare, f"{row['lsoa21_name']} ({code}). "
                                       + caption(state)),
                      config=chart_config(f"{code} England percentiles"), id="panel-compare"),
            "England percentile of each value",
            [f"{label}: " + ("suppressed" if p is None and i.id in secret else
                             "no England values" if p is None else
                             f"higher than {p:.0f}% of England's LSOAs")
             + (f"; {state.home.name} average at {cp:.0f}" if cp is not None else "")
             for label, p, cp, i in zip(labels, pct, county_pct, spec.indicators, strict=True)],
        ),
        html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th("Indicator"),
                            html.Th("This LSOA"),
                            html.Th(f"{state.home.name} average"),
                            html.Th("England average"),
                            html.Th("Band"),
                        ]
                    )
                ),
                html.Tbody(value_rows),
            ],
            className="svrp-values",
        ),
        *(extra or []),
    ]


#: What each export button sends: the CSV goes as a zip of the CSV (header first) and its
#: plain-words ``-about.txt`` (see :mod:`profiler.export`), so the attribution travels with it.
EXPORT_FORMATS = {"csv": "csv.zip", "xlsx": "xlsx", "geojson": "geojson"}


def export_buttons(prefix: str, hide_present: bool = False) -> list:
    """The export row of a map page: ids ``<prefix>-export-csv|xlsx|geojson``, message, download.

    One builder for every map page (the overview, district and ward profiles, ``/explore``).
    """
    return [
        html.Div(
            [
                html.Span("Export this list: "),
                html.Button("CSV (zip with notes)", id=f"{prefix}-export-csv",
                            className="svrp-button"),
                html.Button("Excel", id=f"{prefix}-export-xlsx", className="svrp-button"),
                html.Button("GeoJSON", id=f"{prefix}-export-geojson", className="svrp-button"),
            ],
            className="svrp-exports" + (" svrp-hide-present" if hide_present else ""),
        ),
        html.P(id=f"{prefix}-export-msg", role="status", className="svrp-note"),
        dcc.Download(id=f"{prefix}-download"),
    ]


def export_download(
    state: AppState,
    result: pd.DataFrame,
    fmt: str,
    bands: Sequence[str],
    district: str | None,
    weights,
    normalisation: str,
    banding: str,
    extra_meta: Mapping[str, str] | None = None,
    scope: str | None = None,
    reference: str | None = None,
    stability: pd.DataFrame | None = None,
    group: int | None = None,
) -> dict:
    """A ``dcc.Download`` payload of the LSOAs in ``bands`` (and ``district``).

    ``fmt`` is a button's format (``csv`` sends :data:`EXPORT_FORMATS`' csv.zip). ``result``
    is ranked in the home area unless ``scope`` (an area code or ``england``, as on
    ``/explore``) says which area it was scored and ranked in; ``reference`` names what its
    bands are relative to. A district's or ward's export ranks within it first, then in the
    home area. ``extra_meta`` lines (e.g. the source of each theme band) join the metadata, as
    do the area's backtest figures and its risk vs recorded violence counts. ``stability``:
    P(High+) by LSOA (default: the shipped analysis, with the default weights). ``group`` (an
    index into :data:`profiler.observed.QUADRANT_GROUPS`) keeps that group's LSOAs only.
    """
    from dashboard import quadrants as quad
    from dashboard.backtests import export_lines

    if fmt not in EXPORT_FORMATS:
        raise ProfilerError(f"export: format {fmt!r} not available")
    groups = quad.frame(state, result, state.spec.with_weights(dict(weights)))
    evidence = {**export_lines(state), **quad.export_metadata(state, groups)}
    if group is not None:
        result = result[result["lsoa21_code"].isin(set(quad.group_codes(groups, group)))]
        evidence["risk_vs_recorded_violence_group"] = quad.QUADRANTS[group]
    boundaries = None
    home = state.home.name
    part = None
    if scope is not None and scope != state.home.code:
        home = "England" if scope == "england" else state.catalogue.resolve(scope).name
    if district:  # a district or ward of the area: its LSOAs, ranked within it and the area
        result = result[state.in_subarea(result["lsoa21_code"], district)]
        part = state.home.subarea(district).name
    if fmt == "geojson":
        from profiler.derived import area_boundaries

        boundaries = area_boundaries(state.settings.data_dir, result["lsoa21_code"])
    if stability is None and scope in (None, state.home.code) and (
            state.stability is not None and dict(weights) == state.spec.weights):
        stability = state.stability  # the cached stability belongs to the default weights only
    if stability is not None and len(stability):
        result = result.join(stability["p_high"], on="lsoa21_code")
    spec = state.spec.with_weights(dict(weights))
    meta = build_metadata(
        spec,
        area=state.home.label,
        scope=f"{part} ({district}), a {state.sub_level} of {state.home.label}"
        if district else home,
        reference=reference or f"{state.home.label} (the area itself)",
        normalisation=normalisation,
        banding=banding,
        weights=dict(weights),
        generated_at=datetime.now(UTC),
        **({"district": district} if district else {}),
        **evidence,
        **dict(extra_meta or {}),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    slug = district or (scope if scope not in (None, state.home.code) else state.home.slug)
    what = "high-risk-lsoas" if group is None else quad.QUADRANT_GROUPS[group].key.replace(
        "_", "-") + "-lsoas"
    stem = f"{what}-{slug}-{stamp}"
    kind = EXPORT_FORMATS[fmt]
    blob = export_lsoas(
        result,
        spec,
        fmt=kind,
        bands=list(bands),
        boundaries=boundaries,
        meta=meta,
        home=home,
        scope=part,
        stem=stem,
    )
    return dcc.send_bytes(blob, f"{stem}.{'zip' if kind == 'csv.zip' else kind}")
