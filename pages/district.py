"""District profile: map with High/Very High emphasised, counts, high-risk list, comparison."""

from __future__ import annotations

from functools import lru_cache

import dash
import pandas as pd
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    ctx,
    dash_table,
    dcc,
    html,
    no_update,
)

from dashboard import quadrants as quad
from dashboard.area import area_href, area_not_found, band_string, map_view
from dashboard.backtests import section as backtest_section
from dashboard.compare import comparison_section
from dashboard.components import (
    TABLE_CELL,
    diverging_bars,
    export_buttons,
    export_download,
    high_risk_rows,
    high_risk_table,
    list_filter_callback,
    lsoa_panel,
    map_clientside_callbacks,
    rank_label,
    table_columns,
)
from dashboard.intro import glossary, intro_line
from dashboard.monitoring import TREND_COLUMN, TREND_STYLE, monitoring_section, with_sparklines
from dashboard.monitoring import register as register_monitoring
from dashboard.present import ROW_TYPE, present_list, why_overlay
from dashboard.search import search_box, search_callbacks, search_layers, subarea_scope
from dashboard.slides import (
    attribution,
    caption,
    captioned,
    chart_config,
    editions,
    map_button,
)
from dashboard.state import DISTRICT_STYLE, current, state_by_id
from layers.map import base_map, canvas_lsoa_events, district_layer, view_legend
from profiler.build import slug
from profiler.change import CAVEATS, POLICE_TYPES
from profiler.engine import BANDS, THEME_LABELS, THEMES
from profiler.errors import ProfilerError
from profiler.export import top_contributors
from profiler.pipeline import compare_bandings

dash.register_page(
    __name__,
    path_template="/district/<code>",
    title="District profile · Serious-violence risk profile",
    name="District profile",
)
dash.register_page(
    "pages.area_district",
    path_template="/area/<area>/<level>/<code>",
    title="Profile · Serious-violence risk profile",
    name="Sub-area profile",
    layout=lambda area=None, level=None, code=None, **query: layout(
        code, area=area, level=level, **query
    ),
)
HIGH = ["Very High", "High"]
KEY = "dst"  # the map's view key: ids dst-map, dst-view, dst-lsoas
# The district (or ward) is drawn within its home area (the overview's geometry, so the browser
# has it already after the overview), zoomed to it, the rest faded.


def district_view(state, code: str, selected: str | None = None) -> dict:
    """The district map's view, from the one view pipeline (``dashboard.area.map_view``).

    The county's default bands; this district and its High/Very High LSOAs emphasised.
    """
    order = state.area_codes(state.home.code)
    return map_view(KEY, state.home.code, order, band_string(state.county, "band", order),
                    layer_label="Overall risk", selected=selected, emphasise=[3, 4],
                    inside=list(state.home.subarea(code).lsoa_codes))


def _rows(state, frame, code: str):
    """The rows of ``frame`` (a result, or a table indexed by LSOA code) in sub-area ``code``."""
    codes = frame["lsoa21_code"] if "lsoa21_code" in frame.columns else frame.index
    return frame[state.in_subarea(codes, code)]


# Cells of the district page's secondary tables (banding comparison, change since IoD2019).
COMPACT_CELL = {
    "textAlign": "left",
    "fontFamily": "system-ui, sans-serif",
    "fontSize": "0.85rem",
    "padding": "3px 6px",
}

def district_table(rows: list[dict], result, spec, rank: str = "County rank"):
    """The High/Very High table (``dst-table``): no District column, one driver per line."""
    lines = top_contributors(result, spec, sep="\n")
    by_code = dict(zip(result["lsoa21_code"], lines, strict=True))
    rows = [{**r, "drivers": by_code.get(r["lsoa21_code"], r["drivers"])} for r in rows]
    return high_risk_table(
        "dst-table", rows,
        columns=table_columns(rank=rank, drop=("district",)) + (
            [TREND_COLUMN] if any(r.get("trend") for r in rows) else []),
        style_cell={**TABLE_CELL, "padding": "3px 6px"},
        style_cell_conditional=[
            {"if": {"column_id": "drivers"}, "minWidth": "150px", "width": "34%"},
            {"if": {"column_id": "drivers"}, "whiteSpace": "pre-line"},
            {"if": {"column_id": "lsoa21_code"}, "whiteSpace": "nowrap"},
            TREND_STYLE,
        ],
    )


def print_list(result, spec, rank: str = "County rank") -> html.Table:
    """Every High/Very High LSOA as a plain table, shown only on paper (``dst-print-list``).

    The interactive table pages its rows; a printed profile must list them all.
    """
    high = result[result["band"].isin(HIGH)]
    drivers = top_contributors(high, spec, sep="; ") if len(high) else []
    head = ["LSOA", "MSOA", "Ward", "Band", "Score", rank, "Top contributing indicators"]
    body = [
        html.Tr(
            [
                html.Td(r.lsoa21_code),
                html.Td(r.msoa21_hcl_name),
                html.Td(r.ward24_name),
                html.Td(r.band),
                html.Td(f"{round(float(r.score), 3):.2f}"),  # as the on-screen table
                html.Td(int(r.rank)),
                html.Td(d),
            ]
        )
        for r, d in zip(high.itertuples(), drivers, strict=True)
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
        id="dst-print-list",
        className="svrp-print-only svrp-print-list",
    )


def _counts_table(result, table_id: str = "dst-counts") -> html.Table:
    header = [html.Th("")] + [html.Th(b) for b in BANDS[::-1]]
    rows = []
    for label, column in [("Overall", "band")] + [(THEME_LABELS[t], f"{t}_band") for t in THEMES]:
        counts = result[column].value_counts()
        rows.append(
            html.Tr(
                [html.Th(label, scope="row")]
                + [html.Td(int(counts.get(b, 0))) for b in BANDS[::-1]]
            )
        )
    return html.Table(
        [html.Thead(html.Tr(header)), html.Tbody(rows)], className="svrp-counts", id=table_id
    )


def indicator_comparison(county, district_rows, spec) -> list[dict]:
    """District and county averages of each indicator, and their gap in county SDs.

    The gap is signed so that positive is riskier (``lower_is_riskier`` indicators are flipped),
    and it uses the raw values, so it reads the same whatever normalisation the profile uses.
    """
    out = []
    for ind in spec.indicators:
        values = county[f"{ind.id}_value"]
        d_mean, c_mean, c_sd = district_rows[f"{ind.id}_value"].mean(), values.mean(), values.std()
        gap = (d_mean - c_mean) / c_sd if c_sd > 0 else 0.0
        if ind.direction == "lower_is_riskier":
            gap = -gap
        out.append(
            {
                "label": ind.label,
                "unit": ind.unit,
                "district": float(d_mean),
                "county": float(c_mean),
                "gap": round(float(gap), 3),
            }
        )
    return out


def _comparison_figure(county, district_rows, spec, name: str, area: str):
    rows = indicator_comparison(county, district_rows, spec)
    fig = diverging_bars(
        [r["label"] for r in rows],
        [r["gap"] for r in rows],
        f"{name} average vs {area} average (0), in {area} standard deviations; "
        "right = riskier",
        "",
        height=440,
        reverse=True,
    )
    fig["data"][0].update(
        customdata=[[f"{r['district']:.3g}", f"{r['county']:.3g}", r["unit"]] for r in rows],
        hovertemplate=(
            "%{y}: district %{customdata[0]} vs county %{customdata[1]} (%{customdata[2]})"
            "<br>%{x:+.2f} county standard deviations<extra></extra>"
        ),
    )
    # the unit on the axis too, so a printed or saved chart keeps it
    fig["layout"]["xaxis"] = {**fig["layout"].get("xaxis", {}), "title": {
        "text": f"Gap from the {area} average, in {area} standard deviations (right = riskier)",
        "font": {"size": 11}}}
    return fig


SCHEME_NAMES = {
    "stddev": "Std. deviations",
    "quantile": "Quintiles",
    "natural_breaks": "Natural breaks",
    "fixed": "Fixed thresholds",
}


def _banding_comparison(state, code: str) -> html.Section:
    """Which of the district's LSOAs change band between banding schemes (county reference)."""
    comp = compare_bandings(state.county_table, state.spec, scope=state.home, reference="area")
    comp = _rows(state, comp, code)
    differ = comp[~comp["agree"]]
    rows = [
        {
            "lsoa21_code": r["lsoa21_code"],
            "msoa": r["msoa21_hcl_name"],
            "score": round(float(r["score"]), 3),
            **{s: r[s] for s in SCHEME_NAMES},
        }
        for r in differ.to_dict("records")
    ]
    columns = [
        {"name": "LSOA", "id": "lsoa21_code"},
        {"name": "MSOA", "id": "msoa"},
        {"name": "Score", "id": "score", "type": "numeric"},
    ]
    columns += [{"name": name, "id": s} for s, name in SCHEME_NAMES.items()]
    return html.Section(
        [
            html.H2("Compare banding methods", className="svrp-h2"),
            html.P(
                f"{int(comp['agree'].sum())} of {len(comp)} LSOAs get the same band under all "
                f"four schemes; the {len(differ)} below change band depending on the method.",
                id="dst-compare-summary",
            ),
            dash_table.DataTable(
                id="dst-compare-bands",
                columns=columns,
                data=rows,
                sort_action="native",
                page_size=10,
                style_as_list_view=True,
                style_cell=COMPACT_CELL,
            ),
        ],
        className="svrp-card svrp-hide-present svrp-no-print",
        style={"marginTop": "12px"},
    )


def default_parts(state, code: str):
    """:func:`_default_parts` for a state (cached by the state's id)."""
    return _default_parts(id(state), code)


@lru_cache(maxsize=16)
def _default_parts(state_id: int, code: str):
    """The district's indicator chart and banding comparison, built once per state and district.

    Both show the default profile, so every visit gets the same; they are ~70% of the page's
    server time (plotly figure building, four re-bandings). ``state_id`` keys the cache to the
    loaded state.
    """
    state = state_by_id(state_id)
    county = state.county
    rows = _rows(state, county, code)
    figure = _comparison_figure(county, rows, state.spec, state.home.subarea(code).name,
                               state.home.name)
    captioned(figure, caption(state) + " " + attribution())
    return figure, _banding_comparison(state, code)


def change_rows(state, change, code: str) -> list[dict]:
    """Rows of ``dst-change-table``: the district's LSOAs whose comparison band rose or fell.

    Risen first, then fallen, each by the size of the rank change. police.uk cells read
    "Jan-Feb 2019 count → Jan-Feb 2024 count", with ``*`` when either is under 5.
    """
    here = _rows(state, change, code)
    moved = here[here["band_change"] != "same"]
    moved = moved.assign(_order=(moved["band_change"] == "fell").astype(int),
                         _size=-moved["rank_change"].abs())
    rows = []
    for lsoa, r in moved.sort_values(["_order", "_size"], kind="stable").iterrows():
        row = {
            "id": lsoa,
            "lsoa21_code": lsoa,
            "msoa": r["msoa21_hcl_name"],
            "change": "Rose" if r["band_change"] == "rose" else "Fell",
            "bands": f"{r['band_2019']} → {r['band_2025']}",
            "ranks": f"{int(r['rank_2019'])} → {int(r['rank_2025'])}",
            "split": "split" if r["carried_from_2011"] == "S" else "",
        }
        for crime in POLICE_TYPES:
            t = slug(crime)
            small = r[f"{t}_small_numbers"]
            flag = "*" if pd.notna(small) and bool(small) else ""
            then, now = r[f"{t}_same_months_2018_19"], r[f"{t}_same_months_2024"]
            row[t] = "–" if pd.isna(then) or pd.isna(now) else f"{int(then)} → {int(now)}{flag}"
        rows.append(row)
    return rows


def _change_section(state, code: str, name: str) -> html.Section:
    """Which of the district's LSOAs rose or fell a band between IoD2019 and IoD2025."""
    change = state.change
    here = _rows(state, change, code)
    counts = here["band_change"].value_counts()
    rows = change_rows(state, change, code)
    police = here[[f"{slug(c)}_same_months_2024" for c in POLICE_TYPES]].notna().any().any()
    columns = [
        {"name": "LSOA", "id": "lsoa21_code"},
        {"name": "MSOA", "id": "msoa"},
        {"name": "Band", "id": "change"},
        {"name": "2019 → 2025 band", "id": "bands"},
        {"name": f"Rank in {state.home.name} 2019 → 2025", "id": "ranks"},
        {"name": "2021 split", "id": "split"},
    ]
    # police.uk columns only where both periods are imported for the area (else a note says so)
    columns += [{"name": f"{crime} (Jan-Feb 2019 → 2024)", "id": slug(crime)}
                for crime in POLICE_TYPES if police]
    return html.Section(
        [
            html.H2("Change since IoD2019", className="svrp-h2"),
            html.P(
                f"Of {name}'s {len(here)} LSOAs, {int(counts.get('rose', 0))} rose a band, "
                f"{int(counts.get('fell', 0))} fell and {int(counts.get('same', 0))} stayed the "
                "same, comparing the Indices of Deprivation 2019 with 2025 on the measures both "
                f"share (each against {state.home.name} at the time). "
                + ("police.uk counts are for January-February 2019 and 2024; * means fewer than "
                   "5 in either, too few to read as a trend." if police else
                   "No police.uk months of both periods are imported for this area (–)."),
                id="dst-change-summary",
            ),
            dash_table.DataTable(
                id="dst-change-table",
                columns=columns,
                data=rows,
                sort_action="native",
                page_size=max(len(rows), 1),  # one page, so a printed profile lists them all
                style_as_list_view=True,
                style_cell={**COMPACT_CELL, "whiteSpace": "normal"},
                style_data_conditional=[
                    {"if": {"filter_query": '{change} = "Rose"', "column_id": "change"},
                     "fontWeight": "bold"},
                ],
            ),
            html.H3("Reading these changes", className="svrp-h3"),
            html.Ul(
                [html.Li([html.Strong(title), " ", text]) for title, text in CAVEATS],
                id="dst-change-caveats",
                className="svrp-note",
            ),
        ],
        className="svrp-card svrp-hide-present",
        style={"marginTop": "12px"},
        id="dst-change",
    )


def layout(
    code: str | None = None,
    present: str | None = None,
    area: str | None = None,
    level: str | None = None,
    **_query,
) -> html.Div:
    """Page layout of a sub-area profile; ``?present=1`` starts in presentation mode.

    ``/district/<code>`` for the default area's districts, ``/area/<area>/<district|ward>/<code>``
    for any area's districts or wards.
    """
    try:
        state = current(area)
    except ProfilerError as exc:
        return area_not_found(exc)
    try:
        if level not in (None, state.sub_level):
            raise ProfilerError(
                f"{state.home.label} is profiled by {state.sub_level}, not by {str(level)[:20]}"
            )
        if not state.home.has_subarea(str(code)):
            near = state.home.subarea(str(code or ""))  # raises, with close matches
            raise ProfilerError(
                f"{state.sub_level} {str(code)[:20]!r}: not a {state.sub_level} of "
                f"{state.home.label} by code; did you mean {near.name} ({near.code})?"
            )
        sub = state.home.subarea(code)
    except ProfilerError as exc:
        return html.Div(
            [
                html.H1(f"{state.sub_level.capitalize()} not found"),
                html.P(
                    f"{exc}. Choose one of: "
                    + ", ".join(f"{n} ({c})" for c, n in list(state.subareas.items())[:30]),
                    className="svrp-error",
                    id="dst-error",
                ),
            ],
            className="svrp-page",
        )
    code = sub.code
    name = sub.name
    county = state.county
    rows = _rows(state, county, code)
    # registers the shapes under svrp.registry.dst, so assets/district.js can refit the map
    view = district_view(state, code)
    the_map = base_map(
        "dst-map",
        state.district_bounds[code],
        [canvas_lsoa_events("dst-lsoas"), district_layer(state.districts_geojson, DISTRICT_STYLE),
         *search_layers(KEY)],
        state.settings.tiles_url,
        state.settings.tiles_attribution,
    )
    n_high = int(rows["band"].isin(HIGH).sum())
    presenting = present == "1"
    _, banding = default_parts(state, code)
    high_rows = high_risk_rows(county, state, HIGH, code)
    panel = html.Section(id="dst-panel", className="svrp-card svrp-panel svrp-no-print",
                         tabIndex="0", **{"aria-label": "Selected area"})
    # presenting: the compact list and the why-panel over it, beside the map (dashboard.present)
    present = [present_list(high_rows, dict(zip(rows["lsoa21_code"], rows["lsoa21_name"],
                                                strict=True)), state.sub_level),
               why_overlay(panel)] if presenting else []
    return html.Div(
        [
            dcc.Store(id="dst-code", data=code),
            dcc.Store(id="dst-area", data=state.home.code),
            dcc.Store(id="dst-view", data=view),
            dcc.Store(id="dst-restyled"),
            dcc.Store(id="dst-selected"),
            dcc.Store(id="dst-drawn"),  # set by svrp.notifyDrawn once the LSOAs are drawn
            html.Div(
                [
                    html.H1(f"{name}: serious-violence risk profile", id="dst-title"),
                    dcc.Link(
                        "Exit presentation" if presenting else "Presentation mode",
                        id="dst-present",
                        href=area_href(state.home.code, code, state.sub_level)
                        + ("" if presenting else "?present=1"),
                        className="svrp-button svrp-link-button",
                        title="Large type, no controls: for screen-sharing (?present=1)",
                    ),
                    map_button("dst-map-png", "dst-map",
                               f"{name}: High and Very High LSOAs", state,
                               f"Bands relative to {state.home.name}"),
                    html.Button(
                        "Print (A4 landscape)",
                        id="dst-print",
                        n_clicks=0,
                        className="svrp-button svrp-hide-present",
                    ),
                ],
                className="svrp-toolbar",
            ),
            html.P(
                f"{len(rows)} LSOAs; {n_high} High or Very High on the {state.home.name} "
                f"profile (bands relative to {state.home.name}). Bands are decision support: "
                "professional judgement always comes first.",
                className="svrp-subtitle",
                id="dst-summary",
            ),
            html.Div(
                [intro_line(state, f"{name}'s profile within {state.home.name}: its High and "
                            "Very High areas, what drives them and how they compare.",
                            "dst-intro"),
                 glossary(("LSOA", "Band", "P(High+)", "stddev", "Change band"), "dst-glossary")],
                className="svrp-hide-present",
            ),
            html.Div(
                [
                    html.Section(
                        [
                            search_box(KEY),
                            the_map,
                            # the district's own counts (the view covers the county)
                            view_legend(view, counts=rows["band"].value_counts().to_dict()),
                            html.Div(
                                "Hover over an area to see its name, MSOA, district and band.",
                                id="dst-hover",
                                className="svrp-hover svrp-no-print",
                            ),
                            # on paper the counts sit under the map, where the page has room
                            html.Div(
                                [
                                    html.H2(f"Bands in this {state.sub_level}",
                                            className="svrp-h2"),
                                    _counts_table(rows, "dst-counts-print"),
                                ],
                                className="svrp-print-only",
                            ),
                        ],
                        className="svrp-map-wrap",
                        **{"aria-label": f"{name} map"},
                    ),
                    html.Section(
                        [
                            html.H2(f"High and Very High LSOAs ({n_high})",
                                    className="svrp-h2"),
                            *present,
                            district_table(
                                with_sparklines(state, high_rows), rows, state.spec,
                                rank=rank_label(state, state.home.code),
                            ),
                            *quad.export_picker("dst", ("high", "High and Very High"),
                                                hide_present=True),
                            *export_buttons("dst", hide_present=True),
                            print_list(rows, state.spec, rank_label(state, state.home.code)),
                            html.Div(
                                [
                                    html.H2(f"Bands in this {state.sub_level}",
                                            className="svrp-h2"),
                                    _counts_table(rows),
                                ],
                                className="svrp-no-print",
                            ),
                        ],
                        className="svrp-card svrp-list-card",
                        tabIndex="0",  # a scrollable region reachable by keyboard
                        **{"aria-label": "High and Very High LSOAs"},
                    ),
                ],
                className="svrp-district-grid",
            ),
            html.Div(
                [
                    html.Section(
                        # the chart arrives once the map is drawn (see show_comparison)
                        html.Div(id="dst-compare-slot"),
                        className="svrp-card svrp-compare-card",
                    ),
                    *([] if presenting else [panel]),
                ],
                className="svrp-district-grid svrp-hide-present svrp-second-row",
                style={"marginTop": "12px"},
            ),
            comparison_section(state, code),
            banding,
            quad.district_section(state, code, name),
            html.Section(dcc.Markdown(backtest_section(state), id="dst-backtest"),
                         className="svrp-card svrp-backtest svrp-hide-present"),
            _change_section(state, code, name),
            monitoring_section("dst", state, code),
        ],
        id="dst-root",
        className="svrp-page svrp-district" + (" svrp-present" if presenting else ""),
        **{"data-district": code,
           # the printed profile's running header and footer (assets/district.js, print.css)
           "data-print-title": f"{name}: serious-violence risk profile ({state.home.name})",
           "data-print-editions": f"Data: {editions(state.spec)}",
           "data-print-sources": attribution()},
    )


map_clientside_callbacks(KEY)
for _table in quad.table_ids("dst-quad"):  # the group lists' filter boxes
    list_filter_callback(_table)
search_callbacks(KEY, subarea_scope, State("dst-area", "data"), State("dst-code", "data"))
register_monitoring("dst", "dst-area", "dst-code", "dst-drawn")
# A row chosen in any of the page's lists (the high-risk list, each group's list) is outlined
# on the map (svrp.canvas.select; a map click does it there) and becomes dst-selected, which
# opens its panel.
dash.clientside_callback(
    ClientsideFunction(namespace="svrp", function_name="selectRow"),
    Output("dst-selected", "data"),
    Input("dst-table", "active_cell"),
    State("dst-view", "data"),
    prevent_initial_call=True,
)
dash.clientside_callback(
    ClientsideFunction(namespace="svrp", function_name="selectRowIn"),
    Output("dst-selected", "data", allow_duplicate=True),
    *[Input(t, "active_cell") for t in quad.table_ids("dst-quad")],
    State("dst-view", "data"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    "function(n) { if (n) { window.print(); } return ''; }",
    Output("dst-print", "title"),
    Input("dst-print", "n_clicks"),
    prevent_initial_call=True,
)


@callback(
    Output("dst-compare-slot", "children"),
    Input("dst-drawn", "data"),
    State("dst-code", "data"),
    State("dst-area", "data"),
    prevent_initial_call=True,
)
def show_comparison(drawn, code, area=None):
    """Put the district-vs-county chart in ``dst-compare-slot`` once ``dst-drawn`` is set.

    The first plotly chart on a page loads plotly.js (4.8 MB), which would otherwise hold up
    the map by a second or more. Reads ``dst-code``.
    """
    try:
        state = current(area)
        if not drawn or not state.home.has_subarea(code):
            return no_update
    except ProfilerError:
        return no_update
    figure, _ = default_parts(state, code)
    name = state.home.subarea(code).name
    return dcc.Graph(figure=figure, config=chart_config(f"{name} vs {state.home.name} indicators"),
                     id="dst-compare")


@callback(
    Output("dst-panel", "children"),
    Input("dst-lsoas", "clickData"),
    Input("dst-selected", "data"),
    Input("dst-drawn", "data"),
    Input({"type": ROW_TYPE, "id": ALL}, "n_clicks"),
    State("dst-area", "data"),
)
def show_panel(click, selected, drawn, _rows=None, area=None):
    """Fill ``dst-panel`` with the LSOA clicked on ``dst-lsoas`` or chosen in a list.

    A list row (``dst-table`` or a group's list) sets ``dst-selected``; in presentation mode a
    row of the compact list is a ``dst-prow`` button. Waits for ``dst-drawn`` (the map first, as
    in :func:`show_comparison`).
    """
    if not drawn:
        return html.P("Loading the map…", className="svrp-hint")
    try:
        state = current(area)
    except ProfilerError as exc:
        return html.P(str(exc), className="svrp-error")
    code = None
    if ctx.triggered_id == "dst-lsoas" and click:
        code = (click.get("properties") or {}).get("lsoa21_code")
    elif ctx.triggered_id == "dst-selected" and isinstance(selected, str):
        code = selected
    elif isinstance(ctx.triggered_id, dict) and ctx.triggered_id.get("type") == ROW_TYPE:
        code = str(ctx.triggered_id.get("id"))[:20]
    return lsoa_panel(state, state.county, code)


@callback(
    Output("dst-download", "data"),
    Output("dst-export-msg", "children"),
    Input("dst-export-csv", "n_clicks"),
    Input("dst-export-xlsx", "n_clicks"),
    Input("dst-export-geojson", "n_clicks"),
    State("dst-code", "data"),
    State("dst-export-group", "value"),
    State("dst-area", "data"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, _geojson, code, which=None, area=None):
    """Send the district's High/Very High LSOAs (or a group's) to ``dst-download``.

    A risk vs recorded violence group is exported when ``dst-export-group`` names one; the
    outcome is reported on ``dst-export-msg``.

    Reads the district from ``dst-code``, the list from ``dst-export-group`` and the format
    from the button pressed.
    """
    group = quad.picked_group(which)
    try:
        state = current(area)
    except ProfilerError as exc:
        return no_update, f"Export unavailable: {exc}"
    if not isinstance(code, str) or not state.home.has_subarea(code):
        return no_update, "Export unavailable: unknown district."
    fmt = str(ctx.triggered_id).removeprefix("dst-export-")
    prof = state.spec.profile
    try:
        payload = export_download(
            state,
            state.county,
            fmt,
            HIGH if group is None else BANDS,
            code,
            tuple(state.spec.weights.items()),
            prof.normalisation,
            prof.banding,
            group=group,
        )
    except ProfilerError as exc:
        return no_update, f"Export failed: {exc}"
    return payload, f"Prepared {payload['filename']}."
