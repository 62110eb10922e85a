"""County overview: LSOA risk map, theme layers, incidents, what-if weights, LSOA panel, list."""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import ALL, ClientsideFunction, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components import (
    export_download,
    high_risk_rows,
    high_risk_table,
    lsoa_panel,
    validate_method,
    validate_weights,
    what_if_key,
)
from dashboard.state import (
    GEOMETRY_ROUTE,
    HOTSPOT_PALETTE,
    LAYERS,
    PALETTE,
    band_index,
    current,
    layer_column,
)
from dashboard.urlstate import WEIGHT_MAX, WEIGHT_MIN, ViewState, parse_query, to_query
from layers.map import base_map, district_layer, incidents_layer, legend, lsoa_layer
from profiler.engine import BANDS
from profiler.errors import ProfilerError
from profiler.hotspots import CLASSES as HOTSPOT_CLASSES
from profiler.spec import BANDINGS, NORMALISATIONS

dash.register_page(
    __name__,
    path="/",
    title="County overview · Serious-violence risk profile",
    name="County overview",
)

INCIDENT_MODES = {
    "off": "Off",
    "cluster": "Clusters",
    "points": "Points",
    "heat": "Heat (kernel density)",
}


def _weights_panel(spec, weights: dict[str, float]) -> html.Details:
    rows = []
    for ind in spec.indicators:
        rows.append(
            html.Div(
                [
                    html.Label(ind.label, htmlFor=f"w-{ind.id}", className="svrp-weight-label"),
                    dcc.Slider(
                        id={"type": "ovw-weight", "id": ind.id},
                        min=WEIGHT_MIN,
                        max=WEIGHT_MAX,
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


def layout(**query) -> html.Div:
    """Page layout; the initial control values come from the URL query string."""
    state = current()
    spec = state.spec
    view, errors = parse_query(
        {k: str(v) for k, v in query.items()}, spec, known_lsoas=set(state.county["lsoa21_code"])
    )
    weights = {**spec.weights, **view.weights}
    norm = view.normalisation or spec.profile.normalisation
    banding = view.banding or spec.profile.banding
    pairs = tuple(weights[i] for i in spec.ids)
    state, pairs, result, norm, banding = _result(list(pairs), norm, banding)
    hideout, legend_box, report, rows, _ = view_outputs(
        state, pairs, result, norm, banding, view.layer, view.lsoa, view.bands
    )
    controls = html.Aside(
        [
            html.H2("Layers", className="svrp-h2"),
            dcc.RadioItems(
                id="ovw-layer",
                options=[{"label": v, "value": k} for k, v in LAYERS.items()],
                value=view.layer,
                className="svrp-radio",
            ),
            html.H2("police.uk incidents (Jan-Apr 2024)", className="svrp-h2"),
            dcc.RadioItems(
                id="ovw-incidents",
                options=[{"label": v, "value": k} for k, v in INCIDENT_MODES.items()],
                value="off",
                className="svrp-radio",
            ),
            html.P(
                "Possession of weapons, robbery, violence and sexual offences, public order. "
                "Locations are snapped to the nearest street by police.uk.",
                className="svrp-note",
            ),
            _weights_panel(spec, weights),
            html.Label("Normalisation", htmlFor="ovw-norm"),
            dcc.Dropdown(id="ovw-norm", options=list(NORMALISATIONS), value=norm, clearable=False),
            html.Label("Banding", htmlFor="ovw-banding"),
            dcc.Dropdown(id="ovw-banding", options=list(BANDINGS), value=banding, clearable=False),
            html.Button("Reset to the spec", id="ovw-reset", n_clicks=0, className="svrp-button"),
            html.Div(
                report,
                id="ovw-changed",
                className="svrp-changed",
                role="status",
                **{"aria-live": "polite"},
            ),
        ],
        className="svrp-controls",
    )
    the_map = base_map(
        "ovw-map",
        state.bounds,
        [
            lsoa_layer("ovw-lsoas", GEOMETRY_ROUTE, hideout),
            district_layer(state.districts_geojson),
            dl.LayerGroup(id="ovw-incident-layer"),
        ],
        state.settings.tiles_url,
        state.settings.tiles_attribution,
    )
    return html.Div(
        [
            dcc.Location(id="ovw-url", refresh=False),
            dcc.Store(id="ovw-selected", data=view.lsoa),
            dcc.Store(id="ovw-view", data=hideout),
            dcc.Store(id="ovw-restyled"),
            html.Div(
                [html.P(e) for e in errors],
                id="ovw-alert",
                className="svrp-alert",
                role="alert",
                hidden=not errors,
            ),
            html.Div(
                [
                    controls,
                    html.Section(
                        [the_map, html.Div(legend_box, id="ovw-legend")],
                        className="svrp-map-wrap",
                        **{"aria-label": "Risk map"},
                    ),
                    html.Section(
                        id="ovw-panel", className="svrp-panel", **{"aria-label": "Selected area"}
                    ),
                ],
                className="svrp-grid",
            ),
            html.Section(
                [
                    html.H2("LSOAs in the selected bands", className="svrp-h2"),
                    dcc.Checklist(
                        id="ovw-bands",
                        options=list(BANDS[::-1]),
                        value=list(view.bands),
                        inline=True,
                        className="svrp-checklist",
                    ),
                    high_risk_table("ovw-table", rows),
                    html.Div(
                        [
                            html.Span("Export: "),
                            html.Button("CSV", id="ovw-export-csv", className="svrp-button"),
                            html.Button("Excel", id="ovw-export-xlsx", className="svrp-button"),
                            html.Button(
                                "GeoJSON", id="ovw-export-geojson", className="svrp-button"
                            ),
                        ],
                        className="svrp-exports",
                    ),
                    dcc.Download(id="ovw-download"),
                ],
                className="svrp-list",
            ),
        ],
        className="svrp-page svrp-overview",
    )


def _result(weights, norm, banding):
    state = current()
    pairs = validate_weights(weights, state.spec.ids)
    norm, banding = validate_method(norm, banding)
    return state, pairs, state.score(*what_if_key(state, pairs, norm, banding)), norm, banding


def view_outputs(state, pairs, result, norm, banding, layer, selected, bands):
    """Hideout ({code: band} only), legend, changed-band report, table rows and query string."""
    if layer not in LAYERS:
        layer = "overall"
    bands = [b for b in (bands or []) if b in BANDS]
    codes = result["lsoa21_code"].tolist()
    default = state.county.set_index("lsoa21_code")["band"]
    now = result.set_index("lsoa21_code")["band"]
    changed = sorted(now.index[now != default.loc[now.index]])
    if layer == "hotspots":
        # Gi* of the default profile's overall score: classes, not bands.
        classes = state.hotspots["overall_hotspot"].reindex(codes)
        lookup = {c: i for i, c in enumerate(HOTSPOT_CLASSES)}
        values = [lookup[c] for c in classes]
        extra = {
            "palette": list(HOTSPOT_PALETTE),
            "labels": list(HOTSPOT_CLASSES),
            "strong": [0, 1],
            "strongest": 0,
        }
        counts = classes.value_counts().to_dict()
        legend_box = legend(
            LAYERS[layer],
            counts,
            HOTSPOT_PALETTE,
            HOTSPOT_CLASSES,
            order=list(range(len(HOTSPOT_CLASSES))),
            note="Default profile; FDR-corrected, queen contiguity",
            strong=(0, 1),
        )
    elif layer == "stability" and state.stability is not None:
        # Default profile's bands, faded where High-or-above is not a firm call.
        stab = state.stability.reindex(codes)
        values = band_index(state.county.set_index("lsoa21_code")["band"].reindex(codes))
        p_high = stab["p_high"].fillna(0).to_numpy()
        certainty = abs(2 * p_high - 1)  # 0: a coin flip whether High or above; 1: sure
        extra = {
            "palette": list(PALETTE),
            "opacity": dict(zip(codes, (0.15 + 0.75 * certainty).round(2).tolist(), strict=True)),
            "unsure": [c for c, p in zip(codes, p_high, strict=True) if 0.1 < p < 0.9],
        }
        legend_box = legend(
            LAYERS[layer],
            state.county["band"].value_counts().to_dict(),
            PALETTE,
            note=f"Faded, dotted: High or above in 10-90% of 1,000 what-if profiles, so "
            f"not a firm call ({len(extra['unsure'])} LSOAs)",
        )
    else:
        column = layer_column(layer if layer != "stability" else "overall")
        values = band_index(result[column])
        extra = {"palette": list(PALETTE)}
        legend_box = legend(LAYERS[layer], result[column].value_counts().to_dict(), PALETTE)
    hideout = {
        "key": "ovw",
        "bands": dict(zip(codes, values, strict=True)),
        "changed": changed,
        "selected": selected,
        "layer_label": LAYERS[layer],
        **extra,
    }
    if changed:
        shown = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "")
        report = [
            html.Strong(f"{len(changed)} LSOAs changed overall band"),
            html.Span(f" from the default profile (dashed outlines): {shown}"),
        ]
    else:
        report = [html.Span("Overall bands as in the default profile.")]
    spec_weights = state.spec.weights
    view = ViewState(
        layer=layer,
        normalisation=None if norm == state.spec.profile.normalisation else norm,
        banding=None if banding == state.spec.profile.banding else banding,
        weights={k: v for k, v in pairs if spec_weights[k] != v},
        lsoa=selected,
        bands=tuple(bands),
    )
    return (
        hideout,
        legend_box,
        report,
        high_risk_rows(result, state, bands),
        to_query(view, state.spec),
    )


@callback(
    Output("ovw-view", "data"),
    Output("ovw-legend", "children"),
    Output("ovw-changed", "children"),
    Output("ovw-table", "data"),
    Output("ovw-url", "search"),
    Input({"type": "ovw-weight", "id": ALL}, "value"),
    Input("ovw-norm", "value"),
    Input("ovw-banding", "value"),
    Input("ovw-layer", "value"),
    Input("ovw-selected", "data"),
    Input("ovw-bands", "value"),
    prevent_initial_call=True,
)
def update_view(weights, norm, banding, layer, selected, bands):
    """Re-score and recolour without resending geometry.

    Reads the weight sliders, ``ovw-norm``, ``ovw-banding``, ``ovw-layer``, ``ovw-selected`` and
    ``ovw-bands``; writes ``ovw-lsoas.hideout`` ({code: band} only), the legend, the changed-band
    report, the high-risk table and the URL query string. The layout computes the same outputs
    for the first render, so shapes are coloured however the geometry fetch and the first
    callback interleave.
    """
    try:
        state, pairs, result, norm, banding = _result(weights, norm, banding)
    except ProfilerError as exc:
        return no_update, no_update, html.P(str(exc), className="svrp-error"), no_update, no_update
    return view_outputs(state, pairs, result, norm, banding, layer, selected, bands)


dash.clientside_callback(
    ClientsideFunction(namespace="svrp", function_name="restyle"),
    Output("ovw-restyled", "data"),
    Input("ovw-view", "data"),
)


@callback(Output("ovw-incident-layer", "children"), Input("ovw-incidents", "value"))
def show_incidents(mode):
    """Draw police.uk incidents in ``ovw-incident-layer`` as clusters, points or heat."""
    state = current()
    if mode not in INCIDENT_MODES:
        mode = "off"
    return incidents_layer("ovw-incident-points", state.incidents_geojson, state.heat_geojson, mode)


@callback(
    Output("ovw-selected", "data"),
    Input("ovw-lsoas", "clickData"),
    Input("ovw-table", "active_cell"),
    prevent_initial_call=True,
)
def select_lsoa(click, cell):
    """Select the LSOA clicked on the map (``ovw-lsoas``) or in the table (``ovw-table``)."""
    if ctx.triggered_id == "ovw-lsoas" and click:
        code = (click.get("properties") or {}).get("lsoa21_code")
    elif ctx.triggered_id == "ovw-table" and cell:
        code = cell.get("row_id")
    else:
        return no_update
    known = set(current().county["lsoa21_code"])
    return code if code in known else no_update


@callback(
    Output("ovw-panel", "children"),
    Input("ovw-selected", "data"),
    Input({"type": "ovw-weight", "id": ALL}, "value"),
    Input("ovw-norm", "value"),
    Input("ovw-banding", "value"),
)
def show_panel(code, weights, norm, banding):
    """Fill ``ovw-panel`` with the selected LSOA's bands, ranks and contributions."""
    try:
        state, _, result, _, _ = _result(weights, norm, banding)
    except ProfilerError as exc:
        return html.P(str(exc), className="svrp-error")
    return lsoa_panel(state, result, code)


@callback(
    Output({"type": "ovw-weight", "id": ALL}, "value"),
    Output("ovw-norm", "value"),
    Output("ovw-banding", "value"),
    Input("ovw-reset", "n_clicks"),
    prevent_initial_call=True,
)
def reset(_):
    """Put the weight sliders, ``ovw-norm`` and ``ovw-banding`` back to the spec."""
    spec = current().spec
    return [i.weight for i in spec.indicators], spec.profile.normalisation, spec.profile.banding


@callback(
    Output("ovw-download", "data"),
    Input("ovw-export-csv", "n_clicks"),
    Input("ovw-export-xlsx", "n_clicks"),
    Input("ovw-export-geojson", "n_clicks"),
    State({"type": "ovw-weight", "id": ALL}, "value"),
    State("ovw-norm", "value"),
    State("ovw-banding", "value"),
    State("ovw-bands", "value"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, _geojson, weights, norm, banding, bands):
    """Send the LSOAs in ``ovw-bands`` as CSV, Excel or GeoJSON to ``ovw-download``."""
    fmt = str(ctx.triggered_id).removeprefix("ovw-export-")
    try:
        state, pairs, result, norm, banding = _result(weights, norm, banding)
        bands = [b for b in (bands or []) if b in BANDS] or list(BANDS)
        return export_download(state, result, fmt, bands, None, pairs, norm, banding)
    except ProfilerError:
        return no_update
