"""England and other areas: any district, the county or all 33,755 LSOAs, against any reference.

The map is drawn once per scope from a cached, gzipped geometry route on a canvas; a weight,
layer or banding change sends one character per LSOA and restyles the shapes in place.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode

import dash
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    ctx,
    dcc,
    html,
    no_update,
)

from dashboard.area import (
    REFERENCE_LABELS,
    band_string,
    default_reference,
    map_view,
    scope_bounds,
    scope_label,
    validate_reference,
    validate_scope,
)
from dashboard.components import (
    NO_STABILITY,
    alert_box,
    export_buttons,
    export_download,
    high_risk_rows,
    high_risk_table,
    lsoa_panel,
    map_clientside_callbacks,
    map_grid,
    rank_label,
    validate_method,
    validate_weights,
    weights_panel,
)
from dashboard.intro import BANDING_LABELS, glossary, intro_line
from dashboard.search import explore_scope, search_box, search_callbacks, search_layers
from dashboard.state import LAYERS, current, layer_column
from dashboard.urlstate import ViewState, parse_query, to_query
from layers.map import base_map, canvas_lsoa_events, view_legend
from profiler.engine import BANDS, THEMES
from profiler.errors import ProfilerError
from profiler.spec import BANDINGS

dash.register_page(
    __name__,
    path="/explore",
    title="England and other areas · Serious-violence risk profile",
    name="England and other areas",
)

KEY = "exp"
MAP_LAYERS = {k: LAYERS[k] for k in ("overall", *THEMES)}
TABLE_LIMIT = 500  # rows sent to the browser; exports and the CLI give every LSOA
OUTLINE_MIN_ZOOM = 10  # England: outlines only from town level, where they can be seen


def _scope_options(state) -> list[dict]:
    head = [
        {"label": f"{state.home.name} (home area)", "value": state.default_area},
        {"label": "All England (33,755 LSOAs)", "value": "england"},
    ]
    return head + [{"label": f"{n} ({c})", "value": c} for c, n in state.lad_names.items()]


def _parse(query: dict) -> tuple[str, str, ViewState, list[str]]:
    state = current()
    errors: list[str] = []
    try:
        scope = validate_scope(state, query.get("scope") or state.default_area)
    except ProfilerError as exc:
        scope = state.default_area
        errors.append(f"{exc}; showing {scope_label(state, scope)}")
    try:
        reference = validate_reference(query.get("ref") or default_reference(scope))
    except ProfilerError as exc:
        reference = default_reference(scope)
        errors.append(f"{exc}; using {reference}")
    view, more = parse_query(query, state.spec)
    errors += more
    if view.layer not in MAP_LAYERS:
        errors.append(f"layer {view.layer!r} is only on the county overview; showing overall")
        view = dataclasses.replace(view, layer="overall")
    if view.normalisation:
        errors.append("normalisation is set on the county overview; using the spec's here")
    return scope, reference, view, errors


def _query(scope: str, reference: str, view: ViewState) -> str:
    """The page's query string: scope and reference first, then the shared view fields."""
    spec = current().spec
    params = {"scope": scope, "ref": reference}
    rest = to_query(view, spec).lstrip("?")
    return "?" + urlencode(params) + ("&" + rest if rest else "")


def view_data(state, result, scope: str, layer: str, selected: str | None) -> dict:
    """The map view (``dashboard.area.map_view``): one band character per LSOA in geometry order."""
    column = layer_column(layer if layer in MAP_LAYERS else "overall")
    order = state.area_codes(scope)
    extra = {"outline_min_zoom": OUTLINE_MIN_ZOOM} if scope == "england" else {}
    return map_view(KEY, scope, order, band_string(result, column, order),
                    layer_label=MAP_LAYERS.get(layer, "Overall risk"), selected=selected, **extra)


def _stability(state, scope: str, reference: str, pairs, banding) -> object:
    """The shipped P(High+) where it describes this profile, else none.

    It does for the home area's LSOAs banded against the home area with the spec's weights and
    banding.
    """
    default = dict(pairs) == state.spec.weights and banding == state.spec.profile.banding
    # the home area's analysis is fitted on the home area: its LSOAs banded against it
    fitted_on_home = (reference == "area" and scope == state.home.code) or (
        reference == "county" and state.home.level == "county")
    if fitted_on_home and default and state.stability is not None:
        return state.stability
    return NO_STABILITY


def table_rows(state, result, scope, reference, pairs, banding) -> list[dict]:
    """Very High and High LSOAs, highest first, at most :data:`TABLE_LIMIT` (the one list)."""
    return high_risk_rows(result, state, BANDS[3:],
                          stability=_stability(state, scope, reference, pairs, banding),
                          limit=TABLE_LIMIT)


def _summary(state, result, scope: str, reference: str) -> list:
    counts = result["band"].value_counts()
    high = int(counts.get("Very High", 0) + counts.get("High", 0))
    shown = min(high, TABLE_LIMIT)
    return [
        html.Strong(f"{scope_label(state, scope)}: {len(result):,} LSOAs"),
        html.Span(
            f", banded against {REFERENCE_LABELS[reference]}. {high:,} are High or Very High"
            + (f"; the list shows the top {shown:,}." if high > shown else ".")
        ),
    ]


def layout(**query) -> html.Div:
    """Page layout; scope, reference and the view come from the URL query string."""
    state = current()
    spec = state.spec
    scope, reference, view, errors = _parse(query)
    weights = {**spec.weights, **view.weights}
    pairs = tuple((i, weights[i]) for i in spec.ids)
    banding = view.banding or spec.profile.banding
    result = _score(scope, reference, pairs, banding)
    selected = view.lsoa if view.lsoa in set(result["lsoa21_code"]) else None
    data = view_data(state, result, scope, view.layer, selected)
    controls = html.Aside(
        [
            html.Label("Area", htmlFor="exp-scope", className="svrp-h2"),
            dcc.Dropdown(
                id="exp-scope",
                options=_scope_options(state),
                value=scope,
                clearable=False,
                searchable=True,
                placeholder="Type a district name or code",
            ),
            html.H2("Bands relative to", className="svrp-h2"),
            dcc.RadioItems(
                id="exp-ref",
                options=[{"label": v, "value": k} for k, v in REFERENCE_LABELS.items()],
                value=reference,
                className="svrp-radio",
            ),
            html.H2("Layer", className="svrp-h2"),
            dcc.RadioItems(
                id="exp-layer",
                options=[{"label": v, "value": k} for k, v in MAP_LAYERS.items()],
                value=view.layer,
                className="svrp-radio",
            ),
            html.Label("Banding", htmlFor="exp-banding"),
            dcc.Dropdown(id="exp-banding", value=banding, clearable=False,
                         options=[{"label": BANDING_LABELS.get(b, b), "value": b}
                                  for b in BANDINGS]),
            weights_panel(KEY, spec, weights),
            glossary(("LSOA", "Band", "P(High+)", "stddev", "z-score"), "exp-glossary"),
        ],
        className="svrp-controls",
        **{"aria-label": "Area and view controls"},
    )
    the_map = base_map(
        "exp-map",
        scope_bounds(state, scope),
        [canvas_lsoa_events("exp-lsoas"), *search_layers(KEY)],
        state.settings.tiles_url,
        state.settings.tiles_attribution,
        canvas=True,
    )
    return html.Div(
        [
            dcc.Location(id="exp-url", refresh=False),
            dcc.Location(id="exp-nav", refresh="callback-nav"),
            dcc.Store(id="exp-view", data=data),
            dcc.Store(id="exp-restyled"),
            dcc.Store(id="exp-selected"),
            intro_line(state, "Any district or area of England, or all England, banded "
                       "against the reference you choose.", "exp-intro"),
            alert_box("exp-alert", errors),
            map_grid(
                controls,
                [
                    search_box(KEY),
                    the_map,
                    html.Div(view_legend(data), id="exp-legend"),
                    html.Div(
                        "Hover over an area to see its name, district and band.",
                        id="exp-hover",
                        className="svrp-hover",
                    ),
                ],
                "exp-panel",
                _panel(state, result, selected, scope, reference, pairs, banding),
            ),
            html.Section(
                [
                    html.H2("High and Very High LSOAs", className="svrp-h2"),
                    html.P(_summary(state, result, scope, reference), id="exp-summary"),
                    high_risk_table(
                        "exp-table",
                        table_rows(state, result, scope, reference, pairs, banding),
                        rank=rank_label(state, scope),
                    ),
                    *export_buttons(KEY),
                ],
                className="svrp-list",
            ),
        ],
        className="svrp-page",
    )


def _score(scope, reference, pairs, banding):
    state = current()
    spec_weights = state.spec.weights
    changed = tuple((k, v) for k, v in pairs if spec_weights[k] != v)
    banding = None if banding == state.spec.profile.banding else banding
    return state.score_area(scope, reference, changed, banding)


def _panel(state, result, code, scope, reference, pairs, banding) -> list:
    """The one LSOA panel (``dashboard.components.lsoa_panel``) for this area's profile."""
    hint = html.P(
        "Select an area on the map or in the list to see its bands and what drives its "
        "score. Choose a district or all England above; the county overview has the "
        "county-only layers (hot spots, how sure, incidents).",
        className="svrp-hint",
    )
    area = "England" if scope == "england" else scope_label(state, scope)
    return lsoa_panel(state, result, code, area=area, empty=[hint],
                      stability=_stability(state, scope, reference, pairs, banding))


WHAT_IF = (
    Input({"type": "exp-weight", "id": ALL}, "value"),
    Input("exp-banding", "value"),
)


def _what_if(weights, banding, scope, reference):
    state = current()
    pairs = validate_weights(weights, state.spec.ids)
    _, banding = validate_method(state.spec.profile.normalisation, banding)
    scope = validate_scope(state, scope)
    reference = validate_reference(reference)
    return state, pairs, banding, scope, reference


@callback(
    Output("exp-view", "data"),
    Output("exp-alert", "children"),
    Output("exp-alert", "hidden"),
    *WHAT_IF,
    Input("exp-layer", "value"),
    Input("exp-ref", "value"),
    State("exp-scope", "value"),
    prevent_initial_call=True,
)
def recolour(weights, banding, layer, reference, scope):
    """Re-score and send ``exp-view`` (one band character per LSOA), never geometry.

    Reads the ``exp-weight`` sliders, ``exp-banding``, ``exp-layer`` and ``exp-ref``, with
    ``exp-scope`` as state (a new scope loads its own geometry); ``svrp.restyle`` recolours the
    existing shapes in place.
    """
    try:
        state, pairs, banding, scope, reference = _what_if(weights, banding, scope, reference)
        result = _score(scope, reference, pairs, banding)
    except ProfilerError as exc:
        return no_update, [html.P(str(exc))], False
    return view_data(state, result, scope, layer, None), [], True


@callback(
    Output("exp-legend", "children"),
    Output("exp-table", "data"),
    Output("exp-summary", "children"),
    Output("exp-url", "search"),
    Input("exp-view", "data"),
    State({"type": "exp-weight", "id": ALL}, "value"),
    State("exp-banding", "value"),
    State("exp-layer", "value"),
    State("exp-scope", "value"),
    State("exp-ref", "value"),
    prevent_initial_call=True,
)
def update_details(_view, weights, banding, layer, scope, reference):
    """Legend, list, summary and URL after the map has been recoloured (reads ``exp-view``)."""
    try:
        state, pairs, banding, scope, reference = _what_if(weights, banding, scope, reference)
        result = _score(scope, reference, pairs, banding)
    except ProfilerError:
        return no_update, no_update, no_update, no_update
    spec_weights = state.spec.weights
    view = ViewState(
        layer=layer,
        banding=None if banding == state.spec.profile.banding else banding,
        weights={k: v for k, v in pairs if spec_weights[k] != v},
    )
    return (
        view_legend(view_data(state, result, scope, layer, None)),
        table_rows(state, result, scope, reference, pairs, banding),
        _summary(state, result, scope, reference),
        _query(scope, reference, view),
    )


@callback(
    Output("exp-nav", "href"),
    Input("exp-scope", "value"),
    State("exp-url", "search"),
    prevent_initial_call=True,
)
def change_area(scope, search):
    """A new scope opens the page for it (its own geometry), banded by its default reference.

    Reads ``exp-scope``; writes ``exp-nav.href``, keeping the other view fields.
    """
    try:
        scope = validate_scope(current(), scope)
    except ProfilerError:
        return no_update
    reference = default_reference(scope)
    query = dict(parse_qsl((search or "").lstrip("?")))
    query.update(scope=scope, ref=reference)
    query.pop("lsoa", None)
    return "/explore?" + urlencode(query, safe=",:")


@callback(
    Output("exp-panel", "children"),
    Input("exp-lsoas", "clickData"),
    Input("exp-table", "active_cell"),
    State({"type": "exp-weight", "id": ALL}, "value"),
    State("exp-banding", "value"),
    State("exp-scope", "value"),
    State("exp-ref", "value"),
    prevent_initial_call=True,
)
def show_panel(click, cell, weights, banding, scope, reference):
    """Fill ``exp-panel`` for the LSOA clicked on ``exp-lsoas`` or selected in ``exp-table``."""
    # a value cleared (Escape, assets/svrp-a11y.js) closes the panel
    if ctx.triggered_id == "exp-lsoas":
        code = (click.get("properties") or {}).get("lsoa21_code") if click else None
    elif ctx.triggered_id == "exp-table":
        code = cell.get("row_id") if cell else None
    else:
        return no_update
    try:
        state, pairs, banding, scope, reference = _what_if(weights, banding, scope, reference)
        result = _score(scope, reference, pairs, banding)
    except ProfilerError as exc:
        return [html.P(str(exc), className="svrp-error")]
    return _panel(state, result, code, scope, reference, pairs, banding)


map_clientside_callbacks("exp")
search_callbacks(KEY, explore_scope, State("exp-scope", "value"))
# a row chosen in the list is outlined on the map (svrp.canvas.select; a map click does it there)
dash.clientside_callback(
    ClientsideFunction(namespace="svrp", function_name="selectRow"),
    Output("exp-selected", "data"),
    Input("exp-table", "active_cell"),
    State("exp-view", "data"),
    prevent_initial_call=True,
)


@callback(
    Output("exp-download", "data"),
    Output("exp-export-msg", "children"),
    Input("exp-export-csv", "n_clicks"),
    Input("exp-export-xlsx", "n_clicks"),
    Input("exp-export-geojson", "n_clicks"),
    State({"type": "exp-weight", "id": ALL}, "value"),
    State("exp-banding", "value"),
    State("exp-scope", "value"),
    State("exp-ref", "value"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, _geojson, weights, banding, scope, reference):
    """Send every High/Very High LSOA of the scope (not only the listed top) to ``exp-download``.

    Reads the what-if weights, ``exp-banding``, ``exp-scope`` and ``exp-ref``; the rank is the
    rank in the scope shown; reports on ``exp-export-msg``.
    """
    fmt = str(ctx.triggered_id).removeprefix("exp-export-")
    try:
        state, pairs, banding, scope, reference = _what_if(weights, banding, scope, reference)
        result = _score(scope, reference, pairs, banding)
        payload = export_download(
            state, result, fmt, BANDS[3:], None, pairs, state.spec.profile.normalisation,
            banding, scope=scope, reference=REFERENCE_LABELS[reference],
            stability=_stability(state, scope, reference, pairs, banding),
        )
    except ProfilerError as exc:
        return no_update, f"Export failed: {exc}"
    return payload, f"Prepared {payload['filename']}."
