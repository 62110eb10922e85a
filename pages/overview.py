"""County overview: LSOA risk map, theme layers, incidents, what-if weights, LSOA panel, list."""

from __future__ import annotations

import uuid

import dash
import dash_leaflet as dl
from dash import ALL, ClientsideFunction, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import partner_state as ps
from dashboard import quadrants as quad
from dashboard.area import area_not_found, band_string, class_string, map_view
from dashboard.components import (
    NO_STABILITY,
    alert_box,
    export_buttons,
    export_download,
    high_risk_rows,
    high_risk_table,
    list_filter_callback,
    lsoa_panel,
    map_clientside_callbacks,
    map_grid,
    rank_label,
    validate_method,
    validate_weights,
    weights_panel,
    what_if_key,
)
from dashboard.incidents import chosen_types, incident_layer, incident_legend, type_filter
from dashboard.inputs import (
    CHOICE,
    FILENAME,
    ID_SHAPES,
    PARTNER_STORE,
    PROPERTY_SHAPES,
    UPLOAD,
    check,
)
from dashboard.intro import BANDING_LABELS, NORMALISATION_LABELS, glossary, intro_line
from dashboard.jobs import (
    STABILITY_JOBS,
    STABILITY_SETTINGS,
    JobRefused,
    default_stability_key,
    stability_for,
    stability_job,
)
from dashboard.monitoring import (
    ALL_MONTHS,
    incident_months,
    monitoring_section,
    period_options,
)
from dashboard.monitoring import register as register_monitoring
from dashboard.search import area_scope, search_box, search_callbacks, search_layers
from dashboard.shared import SharedStateError
from dashboard.state import (
    CHANGE_CLASSES,
    CHANGE_LABELS,
    CHANGE_OUTLINES,
    CHANGE_PALETTE,
    DISTRICT_STYLE,
    HOTSPOT_LAYERS,
    HOTSPOT_PALETTE,
    INCIDENT_TYPES,
    LAYERS,
    current,
    layer_column,
)
from dashboard.urlstate import (
    INCIDENT_KEYS,
    ViewState,
    parse_query,
    to_query,
)
from layers.map import (
    base_map,
    canvas_lsoa_events,
    district_layer,
    view_legend,
)
from profiler.derived import CLASSES as HOTSPOT_CLASSES
from profiler.engine import BANDS, THEME_LABELS, THEMES
from profiler.errors import ProfilerError
from profiler.partner import PartnerDataError
from profiler.spec import BANDINGS, NORMALISATIONS

dash.register_page(
    __name__,
    path="/",
    title="County overview · Serious-violence risk profile",
    name="County overview",
)

dash.register_page(
    "pages.area_overview",
    path_template="/area/<code>",
    title=lambda code=None, **_: f"{code} overview · Serious-violence risk profile",
    name="Area overview",
    layout=lambda code=None, **query: layout(code, **query),
)

INCIDENT_MODES = dict(
    zip(INCIDENT_KEYS, ("Off", "Clusters", "Points", "Heat (kernel density)"), strict=True)
)
COUNTY = "county"  # ovw-district value for the whole home area
HOVER_HINT = "Hover over an area to see its name, MSOA, district and band."
KEY = "ovw"  # the map's view key: ids ovw-map, ovw-view, ovw-lsoas


def layout(code: str | None = None, **query) -> html.Div:
    """Page layout of a home area's overview (``/``: the default area; ``/area/<code>``).

    The initial control values come from the URL query string.
    """
    try:
        state = current(code)
    except ProfilerError as exc:
        return area_not_found(exc)
    area = state.home.code
    spec = state.spec
    view, errors = parse_query(
        {k: str(v) for k, v in query.items()}, spec, known_lsoas=set(state.county["lsoa21_code"]),
        subareas=state.subareas, area=state.home.name,
    )
    weights = {**spec.weights, **view.weights}
    norm = view.normalisation or spec.profile.normalisation
    banding = view.banding or spec.profile.banding
    pairs = tuple(weights[i] for i in spec.ids)
    state, pairs, result, norm, banding = _result(list(pairs), norm, banding, area=area)
    # The first view is computed here, so shapes are coloured whichever of the geometry fetch
    # and the first callback finishes first.
    stab = _stability_view(state, pairs, norm, banding)
    hideout = view_hideout(state, result, view.layer, view.lsoa, view.district, stab=stab)
    legend_box, report, rows, _ = view_details(
        state,
        pairs,
        result,
        norm,
        banding,
        view.layer,
        view.lsoa,
        view.bands,
        view.district,
        view.incidents,
        stab=stab,
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
            partner_panel(state),
            html.Label(f"Focus on a {state.sub_level}", htmlFor="ovw-district",
                       className="svrp-h2"),
            dcc.Dropdown(
                id="ovw-district",
                options=[{"label": f"Whole of {state.home.name}", "value": COUNTY}]
                + [{"label": n, "value": c} for c, n in state.subareas.items()],
                value=view.district or COUNTY,
                clearable=False,
            ),
            html.H2(
                f"police.uk incidents ({state.incident_period})" if state.incident_period
                else "police.uk incidents (none imported for this area)",
                className="svrp-h2",
            ),
            dcc.RadioItems(
                id="ovw-incidents",
                options=[{"label": v, "value": k} for k, v in INCIDENT_MODES.items()],
                value=view.incidents,
                className="svrp-radio",
            ),
            html.Label("Incident month", htmlFor="ovw-period"),
            dcc.Dropdown(id="ovw-period", options=period_options(state), clearable=False,
                         value=view.period if view.period in incident_months(state)
                         else ALL_MONTHS),
            html.Fieldset([html.Legend("Incident types shown", className="svrp-note"),
                           type_filter()], className="svrp-fieldset",
                          **{"data-svrp-name": "Incident types shown"}),
            html.Div(incident_legend(state, view.incidents, INCIDENT_TYPES, view.district),
                     id="ovw-incident-legend"),
            weights_panel("ovw", spec, weights),
            html.Label("Normalisation", htmlFor="ovw-norm"),
            dcc.Dropdown(id="ovw-norm", value=norm, clearable=False,
                         options=[{"label": NORMALISATION_LABELS.get(n, n), "value": n}
                                  for n in NORMALISATIONS]),
            html.Label("Banding", htmlFor="ovw-banding"),
            dcc.Dropdown(id="ovw-banding", value=banding, clearable=False,
                         options=[{"label": BANDING_LABELS.get(b, b), "value": b}
                                  for b in BANDINGS]),
            html.Button("Reset to the spec", id="ovw-reset", n_clicks=0, className="svrp-button"),
            html.Div(id="ovw-error", role="alert"),
            html.Div(
                [
                    html.Button(
                        "How sure are these bands?",
                        id="ovw-stb-run",
                        n_clicks=0,
                        className="svrp-button",
                        title="Repeat the profile 1,000 times around these weights (a few "
                        "seconds), then show the result on the 'How sure' layer and in P(High+)",
                    ),
                    html.Progress(
                        id="ovw-stb-progress",
                        value="0",
                        max="100",
                        hidden=True,
                        **{"aria-label": "Band stability run progress"},
                    ),
                    html.Div(
                        id="ovw-stb-status",
                        className="svrp-note",
                        role="status",
                        **{"aria-live": "polite"},
                    ),
                    dcc.Interval(id="ovw-stb-poll", interval=400, disabled=True),
                ],
                className="svrp-stb",
            ),
            glossary(("LSOA", "Band", "P(High+)", "stddev", "z-score", "Gi*", "Change band"),
                     "ovw-glossary"),
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
        state.district_bounds[view.district] if view.district else state.bounds,
        [
            canvas_lsoa_events("ovw-lsoas"),
            district_layer(state.districts_geojson, DISTRICT_STYLE),
            dl.LayerGroup(
                incident_layer(state, view.incidents, INCIDENT_TYPES,
                               view.period if view.incidents == "cluster" else None),
                id="ovw-incident-layer",
            ),
            *search_layers(KEY),
        ],
        state.settings.tiles_url,
        state.settings.tiles_attribution,
    )
    return html.Div(
        [
            dcc.Location(id="ovw-url", refresh=False),
            dcc.Store(id="ovw-area", data=area),
            dcc.Store(id="ovw-selected", data=view.lsoa),
            dcc.Store(id="ovw-view", data=hideout),
            dcc.Store(id="ovw-restyled"),
            # set by svrp.notifyDrawn once the LSOAs are drawn: the panel's chart waits for it
            dcc.Store(id="ovw-drawn"),
            # a random key into the server's in-memory partner cache; the data stays there. Kept
            # for the tab (sessionStorage), so a visit to a district page does not drop an upload
            dcc.Store(id="ovw-partner", storage_type="session"),
            # one id per browser tab (sessionStorage keeps the first one), for the job registry
            dcc.Store(id="ovw-session", storage_type="session", data=uuid.uuid4().hex),
            dcc.Store(id="ovw-stb-done"),
            intro_line(state, f"The serious-violence risk profile of {state.home.name}: where "
                       f"risk concentrates among its {len(state.county):,} neighbourhoods, and "
                       "why.", "ovw-intro"),
            dcc.Store(id="ovw-period-shown"),  # the month svrp.showPeriod shows
            alert_box("ovw-alert", errors),
            map_grid(
                controls,
                [
                    search_box(KEY),
                    the_map,
                    html.Div(legend_box, id="ovw-legend"),
                    html.Div(HOVER_HINT, id="ovw-hover", className="svrp-hover"),
                ],
                "ovw-panel",
            ),
            quadrant_section(state, result),
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
                    html.P(
                        "Use Tab and the arrow keys to move through the table; selecting a cell "
                        "selects that LSOA on the map and in the panel.",
                        className="svrp-note",
                    ),
                    high_risk_table("ovw-table", rows, extra_columns=CHANGE_COLUMNS,
                                    rank=rank_label(state, state.home.code)),
                    *export_buttons("ovw"),
                ],
                className="svrp-list",
            ),
            monitoring_section("ovw", state),
        ],
        className="svrp-page svrp-overview",
    )


def quadrant_section(state, result) -> html.Section:
    """The risk vs recorded violence chart, linked to the map, and each group's list.

    The chart arrives once the map is drawn (:func:`show_quadrant_chart`); the lists
    (:func:`dashboard.quadrants.group_lists`, as on district pages) follow the what-if weights
    (:func:`update_quadrant_groups`) and export through the one export path (:func:`export_group`).
    """
    groups = quad.frame(state, result)
    police = quad.has_police(groups)
    note = ("Each dot is an LSOA: across, its risk-factor score (the causal indicators only); "
            "up, recent recorded serious violence per resident, on a log scale (each step up "
            "multiplies it, so town centres with few residents do not squash the rest). Click a "
            "dot to open its panel; click legend entries or drag a box to pick groups and "
            "highlight them on the map (the 'Risk vs recorded violence' layer).")
    lists = [] if not police else [
        html.H3(f"The four groups in {state.home.name}", className="svrp-h3"),
        html.P(quad.legend_note(state, groups) + " Open a group to see its LSOAs; select a row "
               "to open its panel.", className="svrp-note"),
        # the groups' meanings are in the key above: not again in each list
        html.Div(quad.group_lists(state, result, groups, "ovw-quad", describe=False),
                 id=QUAD_GROUPS),
        *quad.export_picker("ovw-quad", inline=True),
        *export_buttons("ovw-quad"),
    ]
    return html.Section(
        [
            html.H2("Risk vs recorded violence", className="svrp-h2"),
            html.P(note if police else quad.NO_POLICE.format(area=state.home.name),
                   className="svrp-note", id="ovw-quad-note"),
            # the chart (plotly.js, 4.8 MB) is mounted once the map is drawn (show_quadrant_chart)
            html.Div(html.P("Loading the chart…", className="svrp-hint"), id=QUAD_SLOT),
            html.Div([quad.group_description(g) for g in range(4)], className="svrp-quad-key")
            if police else None,
            *lists,
            dcc.Store(id="ovw-quad-focus"),
        ],
        className="svrp-list svrp-quadrants",
        id="ovw-quadrants",
    )


QUAD_SLOT = "ovw-quad-slot"
QUAD_GROUPS = "ovw-quad-groups"
CHANGE_COLUMNS = [{"name": "What-if change", "id": "change"}]
PERIOD = ID_SHAPES["ovw-period"]
register_monitoring("ovw", "ovw-area", None, "ovw-drawn", focus="ovw-district")
PARTNER_COLUMN = {"name": "Partner incidents (knife / domestic / public place)", "id": "partner"}
UPLOAD_STYLE = {"border": "2px dashed #777", "borderRadius": "4px", "padding": "6px 8px",
                "margin": "4px 0", "cursor": "pointer", "textAlign": "center"}


def partner_panel(state) -> html.Section:
    """Uploads for partner data, the validation report and the source of each theme layer."""
    threshold = state.settings.disclosure_threshold
    return html.Details(
        [
            html.Summary("Partner data", className="svrp-h2", id="ovw-partner-summary"),
            dcc.Upload(
                html.Span(["LSOA indicator table (CSV or Excel): ", html.U("choose a file")]),
                id="ovw-upload-indicators",
                multiple=False,
                style=UPLOAD_STYLE,
                accept=".csv,.txt,.tsv,.xlsx,text/csv",
            ),
            dcc.Upload(
                html.Span(["Incident extract (CSV): ", html.U("choose a file")]),
                id="ovw-upload-incidents",
                multiple=False,
                style=UPLOAD_STYLE,
                accept=".csv,.txt,.tsv,.xlsx,text/csv",
            ),
            html.Div(
                [
                    html.Button("Load the SYNTHETIC example extract", id="ovw-load-synthetic",
                                n_clicks=0, className="svrp-button"),
                    html.Button("Clear partner data", id="ovw-clear-partner", n_clicks=0,
                                className="svrp-button"),
                ],
                className="svrp-exports",
            ),
            html.Div(id="ovw-partner-report", className="svrp-partner-report", role="status",
                     **{"aria-live": "polite"}),
            html.Div("Theme layers use:", className="svrp-note"),
            html.Ul(source_items(None), id="ovw-layer-sources", className="svrp-note"),
            html.Button("Partner counts CSV", id="ovw-export-partner", className="svrp-button",
                        disabled=True),
            dcc.Download(id="ovw-partner-download"),
            html.P(
                f"Checked on the server and kept in its memory for this browser tab only; never "
                f"written to disk. Counts from 1 to {threshold - 1} show as <{threshold}, and "
                "their rates as suppressed, in every view and export.",
                className="svrp-note",
            ),
        ],
        id="ovw-partner-panel",
        className="svrp-partner",
    )


def source_items(data) -> list:
    """One line per theme layer naming its source (open proxy or partner extract)."""
    return [
        html.Li(f"{THEME_LABELS[t]}: {ps.layer_source_label(data, t)}", id=f"ovw-source-{t}")
        for t in THEMES
    ]


def _partner(store, area=None):
    """The session's partner data from the ``ovw-partner`` store key, or None.

    Partner data is checked against one home area's LSOAs: on another area's pages it is not
    used (the store names the area it was loaded for).
    """
    if not isinstance(store, dict) or store.get("area", current().default_area) != \
            current(area).home.code:
        return None
    data = ps.cache_for(current(area)).get(store.get("key"))
    return None if data is None or data.empty else data


def _result(weights, norm, banding, store=None, area=None):
    state = current(area)
    pairs = validate_weights(weights, state.spec.ids)
    norm, banding = validate_method(norm, banding)
    data = _partner(store, area)
    if data is not None:
        threshold = state.settings.disclosure_threshold
        result = ps.score(state, data, pairs, norm, banding, threshold)
        return ps.view_state(state, data), pairs, result, norm, banding
    return state, pairs, state.score(*what_if_key(state, pairs, norm, banding)), norm, banding


def _district(value, state) -> str | None:
    """The ``ovw-district`` value as a sub-area code of the area, or None for all of it."""
    return value if isinstance(value, str) and state.home.has_subarea(value) else None


def _inside(state, sub: str | None) -> list[str] | None:
    """The LSOA codes of a focused sub-area, for the view (the rest fade), or None."""
    return list(state.home.subarea(sub).lsoa_codes) if sub else None


def changed_bands(state, result) -> dict[str, tuple[str, str]]:
    """LSOAs whose overall band differs from the default profile: code -> (default, now)."""
    default = state.county.set_index("lsoa21_code")["band"]
    now = result.set_index("lsoa21_code")["band"]
    was = default.loc[now.index]
    diff = now.index[now != was]
    return {code: (was[code], now[code]) for code in sorted(diff)}


def _stability_view(state, pairs, norm, banding):
    """Band stability for the view and where it comes from.

    Returns ``(table, source)``: ``source`` is ``"spec"`` (the shipped analysis, which any method
    change leaves valid), ``"what-if"`` (a finished run for these weights) or ``"default"`` (the
    shipped analysis shown for other weights, until the user runs theirs).
    """
    table, is_default = stability_for(state, pairs, norm, banding)
    if table is not None:
        return table, ("spec" if is_default else "what-if")
    return state.stability, "default"


def view_hideout(state, result, layer, selected, district, *, data=None, stab=None,
                 focus=None, spec=None) -> dict:
    """The map view (:func:`dashboard.area.map_view`): one class character per LSOA, no geometry.

    Bands, Gi* classes and change classes alike are a class string with their palette, labels
    and outlines; what-if changed codes are dashed, the selection outlined. On a theme layer fed
    by a partner extract, ``detail`` holds each LSOA's suppressed count and rate as text for the
    tooltip (set with textContent), and the label names the source. ``stab`` is the
    ``(table, source)`` pair of :func:`_stability_view` for the "how sure" layer (default: the
    shipped analysis).
    """
    stability, source = stab or (state.stability, "spec")
    if layer not in LAYERS:
        layer = "overall"
    label = LAYERS[layer]
    extra: dict = {}
    if layer in THEMES:
        label = f"{label} ({ps.layer_source_label(data, layer)})"
        extra["detail"] = ps.layer_detail(data, layer, state.settings.disclosure_threshold)
    order = state.area_codes(state.home.code)
    codes = result["lsoa21_code"].to_numpy()
    changed = list(changed_bands(state, result))
    style: dict = {}
    if layer == "change":
        # IoD2019 vs IoD2025 comparison profiles (shipped table): rose / same / fell. What-if
        # changes are not outlined here, as the dashes would read as "fell".
        change = state.change
        lookup = {c: i for i, c in enumerate(CHANGE_CLASSES)}
        classes = class_string(change.index, change["band_change"].map(lookup), order)
        moved = change[change["band_change"] != "same"]
        style = {"palette": CHANGE_PALETTE, "labels": CHANGE_LABELS, "strong": (),
                 "strongest": None, "outlines": CHANGE_OUTLINES}
        extra["details"] = {
            c: f"{a} → {b}"
            for c, a, b in zip(moved.index, moved["band_2019"], moved["band_2025"], strict=True)
        }
        changed = []
    elif layer == quad.LAYER:
        # Risk-factor score vs recent recorded violence: four groups (dashboard.quadrants);
        # groups picked on the chart (focus) stay strong, the others fade.
        groups = quad.frame(state, result, spec)
        classes = class_string(groups["lsoa21_code"], groups["group"], order)
        style = quad.view_style(groups, focus)
    elif layer in HOTSPOT_LAYERS:
        # Gi* of the default profile's overall or theme score: classes, not bands.
        lookup = {c: i for i, c in enumerate(HOTSPOT_CLASSES)}
        hot = state.hotspots[HOTSPOT_LAYERS[layer]]
        classes = class_string(hot.index, hot.map(lookup).fillna(-1), order)
        style = {"palette": HOTSPOT_PALETTE, "labels": HOTSPOT_CLASSES, "strong": (0, 1),
                 "strongest": 0}
    elif layer == "stability" and stability is not None:
        # The view's bands (the default profile's until a what-if run exists), faded where
        # High-or-above is not a firm call.
        p_high = stability["p_high"].reindex(codes).fillna(0).to_numpy()
        certainty = abs(2 * p_high - 1)  # 0: a coin flip whether High or above; 1: sure
        banded = state.county if source == "default" else result
        classes = band_string(banded, "band", order)
        extra["opacity"] = dict(zip(codes.tolist(), (0.15 + 0.75 * certainty).round(2).tolist(),
                                    strict=True))
        extra["unsure"] = [c for c, p in zip(codes, p_high, strict=True) if 0.1 < p < 0.9]
    else:
        classes = band_string(result, layer_column(layer if layer != "stability" else "overall"),
                              order)
    return map_view(KEY, state.home.code, order, classes, layer_label=label, selected=selected,
                    changed=changed, inside=_inside(state, district), **style, **extra)


def _legend(state, view, layer, data=None, stab=None, result=None):
    """The legend of the map view ``view`` (its classes, palette, counts and outline cues)."""
    if layer == quad.LAYER:
        groups = quad.frame(state, result if result is not None else state.county)
        return view_legend(view, LAYERS[layer], order=[0, 1, 2, 3],
                           note=quad.legend_note(state, groups))
    if layer == "change":
        return view_legend(
            view,
            LAYERS[layer],
            order=[0, 1, 2],
            note="IoD2019 (about 2015-17) vs IoD2025 (about 2021-23) on the six measures both "
            "share, relative to the county; not today's bands. Solid outline: rose; dashed: "
            "fell. Details and caveats on district pages.",
        )
    if layer in HOTSPOT_LAYERS:
        return view_legend(
            view,
            LAYERS[layer],
            order=list(range(len(HOTSPOT_CLASSES))),
            note="Default profile; significance after the false-discovery-rate correction "
            "(99%, 95%, 90%); neighbours share a boundary or a corner",
        )
    stability, source = stab or (state.stability, "spec")
    if layer == "stability" and stability is not None:
        p_high = stability["p_high"]
        unsure = int(((p_high > 0.1) & (p_high < 0.9)).sum())
        draws = f"{STABILITY_SETTINGS.draws:,}"
        around = {"what-if": " around your weights", "spec": "", "default": ""}[source]
        note = (f"Faded, dotted: High or above in 10-90% of {draws} what-if profiles{around}, "
                f"so not a firm call ({unsure} LSOAs)")
        if source == "default":
            note += ". Shown for the spec's weights: press 'How sure are these bands?' for yours."
        return view_legend(view, LAYERS[layer], note=note)
    note = None
    if layer in THEMES:
        note = f"Source: {ps.layer_sources(data)[layer]}"
        if data is not None and data.extract is not None:
            t = state.settings.disclosure_threshold
            note += (f". Rates per 1,000 residents; an LSOA with fewer than {t} is banded as "
                     f"if it had {t / 2:g}")
    return view_legend(view, LAYERS[layer], note=note)


def _change_report(changed: dict[str, tuple[str, str]], names: dict[str, str]) -> list:
    if not changed:
        return [html.Span("Overall bands as in the default profile.")]
    shown = ", ".join(list(changed)[:8]) + (" …" if len(changed) > 8 else "")
    items = [
        html.Li(f"{code} {names.get(code, '')}: {was} → {now}")
        for code, (was, now) in changed.items()
    ]
    return [
        html.Strong(f"{len(changed)} LSOAs changed overall band", id="ovw-changed-count"),
        html.Span(f" from the default profile (dashed outlines on the map): {shown}"),
        html.Details(
            [html.Summary("Every change"), html.Ul(items, id="ovw-changed-list")],
            className="svrp-changed-details",
        ),
    ]


def view_details(
    state, pairs, result, norm, banding, layer, selected, bands, district, incidents, *,
    data=None, stab=None, period=None,
):
    """Legend, changed-band report, table rows and the query string of the view.

    ``stab``: see :func:`view_hideout`; a what-if run's P(High+) fills the table when there is one.
    """
    if layer not in LAYERS:
        layer = "overall"
    bands = [b for b in (bands or []) if b in BANDS]
    changed = changed_bands(state, result)
    names = dict(zip(result["lsoa21_code"], result["lsoa21_name"], strict=True))
    stability = stab[0] if stab else None
    if stab and stab[1] == "default":
        # what-if weights with no run of their own yet: the shipped analysis describes another
        # profile, so the P(High+) cells stay empty until "How sure are these bands?" is run
        stability = NO_STABILITY
    rows = high_risk_rows(result, state, bands, district, stability)
    partner = ps.table_text(data, [r["lsoa21_code"] for r in rows],
                            state.settings.disclosure_threshold)
    for row in rows:
        was_now = changed.get(row["lsoa21_code"])
        row["change"] = f"was {was_now[0]}" if was_now else ""
        if partner:
            row["partner"] = partner.get(row["lsoa21_code"], "")
    spec_weights = state.spec.weights
    view = ViewState(
        layer=layer,
        normalisation=None if norm == state.spec.profile.normalisation else norm,
        banding=None if banding == state.spec.profile.banding else banding,
        weights={k: v for k, v in pairs if spec_weights[k] != v},
        lsoa=selected,
        bands=tuple(bands),
        district=district,
        incidents=incidents if incidents in INCIDENT_MODES else "off",
        period=period if period in incident_months(state) else None,
    )
    what_if = state.spec.with_weights(dict(pairs))
    the_view = view_hideout(state, result, layer, selected, district, data=data, stab=stab,
                            spec=what_if)
    return (
        _legend(state, the_view, layer, data, stab, result),
        _change_report(changed, names),
        rows,
        to_query(view, state.spec),
    )


WHAT_IF_INPUTS = (
    Input({"type": "ovw-weight", "id": ALL}, "value"),
    Input("ovw-norm", "value"),
    Input("ovw-banding", "value"),
)
# the same controls read without triggering (a callback that needs the current what-if)
WHAT_IF_STATES = tuple(State(i.component_id, i.component_property) for i in WHAT_IF_INPUTS)


@callback(
    Output("ovw-view", "data"),
    Output("ovw-error", "children"),
    *WHAT_IF_INPUTS,
    Input("ovw-layer", "value"),
    Input("ovw-selected", "data"),
    Input("ovw-district", "value"),
    Input("ovw-partner", "data"),
    Input("ovw-stb-done", "data"),
    Input("ovw-quad-focus", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def recolour(weights, norm, banding, layer, selected, district, store, _stb_done, focus=None,
             area=None):
    """Re-score and send only the compact map view (``map_view``: one class per LSOA), no geometry.

    Reads the weight sliders, ``ovw-norm``, ``ovw-banding``, ``ovw-layer``, ``ovw-selected``,
    ``ovw-district``, ``ovw-partner`` (the session's partner data), ``ovw-stb-done`` (a
    what-if stability run finished) and ``ovw-quad-focus`` (quadrant groups picked on the
    chart); writes ``ovw-view`` (restyled in place by the clientside
    ``svrp.restyle``) and ``ovw-error``. Kept to the map alone so the recolour is not held up by
    the table.
    """
    try:  # a ProfilerError includes the shared store not answering (dashboard.shared)
        state, pairs, result, norm, banding = _result(weights, norm, banding, store, area)
        data = _partner(store, area)
        stab = _stability_view(state, pairs, norm, banding)
    except ProfilerError as exc:
        return no_update, html.P(str(exc), className="svrp-error")
    error = None
    if data is None and isinstance(store, dict) and store.get("key"):
        # dropped from the bounded in-memory cache (or the server restarted)
        error = html.P("Partner data is no longer held by the server: the open-data profile is "
                       "shown; upload the files again.", className="svrp-error")
    return view_hideout(state, result, layer, selected, _district(district, state), data=data,
                        stab=stab, focus=focus,
                        spec=state.spec.with_weights(dict(pairs))), error


@callback(
    Output("ovw-legend", "children"),
    Output("ovw-changed", "children"),
    Output("ovw-table", "data"),
    Output("ovw-url", "search"),
    Output("ovw-table", "columns"),
    Input("ovw-view", "data"),
    Input("ovw-bands", "value"),
    Input("ovw-incidents", "value"),
    *WHAT_IF_STATES,
    State("ovw-layer", "value"),
    State("ovw-selected", "data"),
    State("ovw-district", "value"),
    State("ovw-partner", "data"),
    State("ovw-table", "columns"),
    State("ovw-area", "data"),
    Input("ovw-period", "value"),
    prevent_initial_call=True,
)
def update_details(
    _view, bands, incidents, weights, norm, banding, layer, selected, district, store, columns,
    area=None, period=None,
):
    """Legend, changed-band report, table and URL, after the map has been recoloured.

    Reads ``ovw-view`` (so it runs after :func:`recolour`), ``ovw-bands``, ``ovw-incidents``,
    the what-if controls and ``ovw-partner``; writes ``ovw-legend``, ``ovw-changed``,
    ``ovw-table`` (data, and a suppressed partner-count column while an extract is loaded) and
    ``ovw-url.search`` (the shareable view).
    """
    try:
        state, pairs, result, norm, banding = _result(weights, norm, banding, store, area)
        data = _partner(store, area)
        stab = _stability_view(state, pairs, norm, banding)
    except ProfilerError:  # recolour shows the message
        return no_update, no_update, no_update, no_update, no_update
    details = view_details(
        state, pairs, result, norm, banding, layer, selected, bands, _district(district, state),
        incidents, data=data, stab=stab, period=period,
    )
    columns = [c for c in (columns or []) if c.get("id") != "partner"]
    if data is not None and data.extract is not None:
        columns.append(PARTNER_COLUMN)
    return (*details, columns)


map_clientside_callbacks("ovw")
search_callbacks(KEY, area_scope, State("ovw-area", "data"))


@callback(
    Output("ovw-incident-layer", "children"),
    Output("ovw-incident-legend", "children"),
    Input("ovw-incidents", "value"),
    Input("ovw-incident-types", "value"),
    Input("ovw-district", "value"),
    Input("ovw-period", "value"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def show_incidents(mode, types, district, period=None, area=None):
    """Draw police.uk incidents in ``ovw-incident-layer`` as clusters, points or heat.

    Only the types ticked in ``ovw-incident-types``; ``ovw-incident-legend`` counts them in the
    focused ``ovw-district`` and the chosen month (``dashboard.incidents``). ``ovw-period``
    picks one month: single points carry every month and the clientside ``svrp.showPeriod``
    hides the others in place (nothing is sent, only the legend); clusters are rebuilt from that
    month's points; the heat layer covers every month shown. The LSOA geometry is never resent.
    """
    check((district, CHOICE), (period, PERIOD))
    state = current(area)
    if mode not in INCIDENT_MODES:
        mode = "off"
    types = chosen_types(types)
    month = period if period in incident_months(state) else None
    legend = incident_legend(state, mode, types, _district(district, state), month)
    if ctx.triggered_id == "ovw-period" and mode != "cluster":
        return no_update, legend
    return incident_layer(state, mode, types, month if mode == "cluster" else None), legend


dash.clientside_callback(
    ClientsideFunction(namespace="svrp", function_name="showPeriod"),
    Output("ovw-period-shown", "data"),
    Input("ovw-period", "value"),
)


@callback(
    Output("ovw-map", "viewport"),
    Input("ovw-district", "value"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def zoom_to_district(district, area=None):
    """Fit ``ovw-map`` to the district chosen in ``ovw-district`` (or the county)."""
    state = current(area)
    code = _district(district, state)
    bounds = state.district_bounds[code] if code else state.bounds
    return {"bounds": bounds, "transition": "flyToBounds"}


def _known(code, area) -> str:
    """``code`` for ``ovw-selected`` if it is one of the area's LSOAs, else no update."""
    return code if isinstance(code, str) and current(area).county["lsoa21_code"].eq(code).any() \
        else no_update


@callback(
    Output("ovw-selected", "data"),
    Input("ovw-lsoas", "clickData"),
    Input("ovw-table", "active_cell"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def select_lsoa(click, cell, area=None):
    """Select the LSOA clicked on the map or in the table (``ovw-lsoas``, ``ovw-table``).

    The quadrant chart's clicks have their own callback (:func:`select_from_chart`): the chart
    mounts after the map draws, and Dash refuses a callback one of whose inputs is not on the
    page yet, so a map click before the chart is up would open no panel.
    """
    if ctx.triggered_id == "ovw-lsoas" and click:
        code = (click.get("properties") or {}).get("lsoa21_code")
    elif ctx.triggered_id == "ovw-table" and cell:
        code = cell.get("row_id")
    else:
        return no_update
    return _known(code, area)


@callback(
    Output("ovw-selected", "data", allow_duplicate=True),
    Input(quad.CHART_ID, "clickData"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def select_from_chart(point, area=None):
    """Select the LSOA of a point clicked on the quadrant chart (its ``customdata``)."""
    points = (point or {}).get("points") or [{}]
    code = points[0].get("customdata") if isinstance(points[0], dict) else None
    return _known(code, area)


def partner_panel_rows(data, code, threshold) -> list:
    """The LSOA panel's partner-extract table (suppressed counts and rates), or nothing."""
    rows = ps.panel_rows(data, code, threshold)
    if not rows:
        return []
    title = "Partner extract" + (" (SYNTHETIC example, not real data)"
                                 if data.extract.synthetic else f" {data.extract.name}")
    return [
        html.H4(title, id="panel-partner-title"),
        html.Table(
            [
                html.Thead(html.Tr([html.Th("Theme"), html.Th("Incidents"),
                                    html.Th("Per 1,000 residents")])),
                html.Tbody([html.Tr([html.Td(t), html.Td(n), html.Td(r)]) for t, n, r in rows]),
            ],
            className="svrp-values",
            id="panel-partner",
        ),
        html.P(f"Counts from 1 to {threshold - 1} are shown as <{threshold} and their rates "
               "suppressed, so that no victim can be identified.", className="svrp-note"),
    ]


@callback(
    Output("ovw-panel", "children"),
    Input("ovw-selected", "data"),
    *WHAT_IF_INPUTS,
    Input("ovw-partner", "data"),
    Input("ovw-drawn", "data"),
    State("ovw-area", "data"),
)
def show_panel(code, weights, norm, banding, store, drawn, area=None):
    """Fill ``ovw-panel`` with the selected LSOA's bands, ranks and contributions.

    Reads ``ovw-selected``, the what-if controls, ``ovw-partner`` (partner counts, shown
    suppressed) and ``ovw-drawn``: until the map is drawn the panel holds a placeholder, since
    the first chart loads plotly.js (4.8 MB), which would hold up the map by a second or more.
    With nothing selected the panel shows the default profile's sensitivity chart, which no
    what-if change alters, so it is not redrawn.
    """
    if not drawn:
        return html.P("Loading the map…", className="svrp-hint", id="panel-wait")
    if not code and ctx.triggered_id not in (None, "ovw-selected", "ovw-drawn"):
        return no_update
    try:
        state, pairs, result, norm, banding = _result(weights, norm, banding, store, area)
        data = _partner(store, area)
        stability, source = _stability_view(state, pairs, norm, banding)
    except ProfilerError as exc:
        return html.P(str(exc), className="svrp-error")
    threshold = state.settings.disclosure_threshold
    hidden = ps.hidden_indicator_values(data, result, threshold)
    extra = partner_panel_rows(data, code, threshold) if code else []
    return lsoa_panel(state, result, code, hidden=hidden, extra=extra,
                      stability=stability if source != "default" else None)


@callback(
    Output({"type": "ovw-weight", "id": ALL}, "value"),
    Output("ovw-norm", "value"),
    Output("ovw-banding", "value"),
    Input("ovw-reset", "n_clicks"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def reset(_, area=None):
    """Put the weight sliders, ``ovw-norm`` and ``ovw-banding`` back to the spec."""
    spec = current(area).spec
    return [i.weight for i in spec.indicators], spec.profile.normalisation, spec.profile.banding


@callback(
    Output("ovw-download", "data"),
    Output("ovw-partner-report", "children", allow_duplicate=True),
    Input("ovw-export-csv", "n_clicks"),
    Input("ovw-export-xlsx", "n_clicks"),
    Input("ovw-export-geojson", "n_clicks"),
    *WHAT_IF_STATES,
    State("ovw-bands", "value"),
    State("ovw-district", "value"),
    State("ovw-partner", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, _geojson, weights, norm, banding, bands, district, store, area=None):
    """Send the LSOAs in ``ovw-bands`` (and ``ovw-district``) as CSV, Excel or GeoJSON.

    With partner data (``ovw-partner``), partner counts below the threshold are suppressed and
    the metadata names the source of each theme band. A failure (the session store not
    answering...) is said in one line in ``ovw-partner-report``.
    """
    check((store, PARTNER_STORE), (district, CHOICE), (bands, CHOICE))
    fmt = str(ctx.triggered_id).removeprefix("ovw-export-")
    try:
        return _export(fmt, weights, norm, banding, store, area, bands, district), no_update
    except ProfilerError as exc:
        return no_update, report_view([f"Export not made: {exc}"], error=True)


@callback(
    Output("ovw-quad-download", "data"),
    Output("ovw-quad-export-msg", "children"),
    Input("ovw-quad-export-csv", "n_clicks"),
    Input("ovw-quad-export-xlsx", "n_clicks"),
    Input("ovw-quad-export-geojson", "n_clicks"),
    *WHAT_IF_STATES,
    State("ovw-quad-export-group", "value"),
    State("ovw-partner", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def export_group(_csv, _xlsx, _geojson, weights, norm, banding, which, store, area=None):
    """Send one risk vs recorded violence group of the whole area (``ovw-quad-export-group``).

    The overview's export path (:func:`export`), every band, the group's LSOAs only; the
    outcome is said on ``ovw-quad-export-msg``.
    """
    check((store, PARTNER_STORE), (which, CHOICE))
    group = quad.picked_group(which)
    if group is None:
        return no_update, "Export unavailable: choose a group."
    fmt = str(ctx.triggered_id).removeprefix("ovw-quad-export-")
    try:
        payload = _export(fmt, weights, norm, banding, store, area, BANDS, None, group)
    except ProfilerError as exc:
        return no_update, f"Export not made: {exc}"
    return payload, f"Prepared {payload['filename']}."


def _export(fmt, weights, norm, banding, store, area, bands, district, group=None) -> dict:
    """The overview's one export: the what-if profile's LSOAs in ``bands`` (and ``group``)."""
    state, pairs, result, norm, banding = _result(weights, norm, banding, store, area)
    bands = [b for b in (bands or []) if b in BANDS] or list(BANDS)
    data = _partner(store, area)
    extra = None
    if data is not None:
        result = ps.suppress_profile(result, data, state.settings.disclosure_threshold)
        extra = {f"theme bands {k}": v for k, v in ps.layer_sources(data).items()}
    return export_download(state, result, fmt, bands, _district(district, state), pairs, norm,
                           banding, extra_meta=extra, group=group)


@callback(
    Output("ovw-layer-sources", "children"),
    Output("ovw-export-partner", "disabled"),
    Input("ovw-partner", "data"),
    State("ovw-area", "data"),
)
def partner_sources(store, area=None):
    """Say which source each theme layer uses (``ovw-layer-sources``) for the session's data.

    Reads ``ovw-partner`` (also as restored for the tab when the page opens again); enables
    ``ovw-export-partner`` while an extract is loaded.
    """
    try:
        data = _partner(store, area)
    except SharedStateError:
        data = None
    return source_items(data), data is None or data.extract is None


@callback(
    Output("ovw-partner", "data"),
    Output("ovw-partner-report", "children"),
    Output("ovw-upload-indicators", "contents"),
    Output("ovw-upload-incidents", "contents"),
    Output("ovw-upload-indicators", "filename"),
    Output("ovw-upload-incidents", "filename"),
    Input("ovw-upload-indicators", "contents"),
    Input("ovw-upload-incidents", "contents"),
    Input("ovw-load-synthetic", "n_clicks"),
    Input("ovw-clear-partner", "n_clicks"),
    State("ovw-upload-indicators", "filename"),
    State("ovw-upload-incidents", "filename"),
    State("ovw-partner", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def load_partner(
    ind_contents, inc_contents, _synthetic, _clear, ind_name, inc_name, store, area=None
):
    """Validate an upload on the server and keep it in memory, or report why not.

    Reads ``ovw-upload-indicators`` / ``ovw-upload-incidents`` (file contents and names),
    ``ovw-load-synthetic``, ``ovw-clear-partner`` and ``ovw-partner`` (the session key); writes
    ``ovw-partner`` (only on a clean load, so a refused file leaves the profile as it was) and
    ``ovw-partner-report``; :func:`partner_sources` follows the store.
    If the shared session store is not answering, the report says so in one line. The uploads'
    ``contents`` and ``filename`` are reset each time, so choosing the same file again (after
    "Clear partner data", or after a refusal) is a new upload.
    """
    check((ind_contents, UPLOAD), (inc_contents, UPLOAD), (ind_name, FILENAME),
          (inc_name, FILENAME), (store, PARTNER_STORE))
    state = current(area)
    cache = ps.cache_for(state)
    key = (store or {}).get("key") if isinstance(store, dict) else None
    reset = (None, None, None, None)
    try:
        return (*_load_partner(state, cache, key, store, ind_contents, inc_contents, ind_name,
                               inc_name), *reset)
    except SharedStateError as exc:
        return no_update, report_view([str(exc)], error=True), *reset


def _load_partner(state, cache, key, store, ind_contents, inc_contents, ind_name, inc_name):
    data = cache.get(key) or ps.PartnerData()
    trigger = ctx.triggered_id
    try:
        if trigger == "ovw-clear-partner":
            cache.drop(key)
            return None, report_view(["Partner data cleared: open proxies in use."])
        if trigger == "ovw-load-synthetic":
            new = data.replace(extract=ps.load_synthetic(state))
            lines = new.extract.lines
        elif trigger == "ovw-upload-incidents":
            content, name = ps.decode_upload(inc_contents, inc_name,
                                             state.settings.partner_max_bytes)
            new = data.replace(extract=ps.load_extract_upload(state, content, name))
            lines = new.extract.lines
        elif trigger == "ovw-upload-indicators":
            content, name = ps.decode_upload(ind_contents, ind_name,
                                             state.settings.partner_max_bytes)
            new = data.replace(indicators=ps.load_indicator_upload(state, content, name))
            lines = new.indicators.lines
        else:
            return no_update, no_update
    except PartnerDataError as exc:
        failed = ps.failure_lines(exc)
        kept = "the previous partner data and profile stay" if not data.empty else \
            "the open-data profile stays"
        return no_update, report_view([*failed, f"Nothing was loaded; {kept}."], error=True)
    key = cache.put(key, new)
    version = (store or {}).get("v", 0) + 1 if isinstance(store, dict) else 1
    return {"key": key, "v": version, "area": state.home.code}, report_view(["Loaded.", *lines])


def report_view(lines, error: bool = False) -> html.Div:
    """The validation report as text lines (never HTML): the first is the outcome."""
    head, *rest = lines
    return html.Div(
        [html.P(head, className="svrp-error" if error else "svrp-ok", id="ovw-partner-status"),
         html.Ul([html.Li(line) for line in rest], id="ovw-partner-lines")],
    )


@callback(
    Output("ovw-partner-download", "data"),
    Output("ovw-partner-report", "children", allow_duplicate=True),
    Input("ovw-export-partner", "n_clicks"),
    State("ovw-partner", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def export_partner(_n, store, area=None):
    """Send the loaded extract's per-LSOA theme counts, suppressed, as CSV (``ovw-partner``).

    If the session store is not answering or the session's data is gone, says so in one line
    in ``ovw-partner-report``.
    """
    check((store, PARTNER_STORE))
    try:
        data = _partner(store, area)
    except SharedStateError as exc:
        return no_update, report_view([f"Export not made: {exc}"], error=True)
    if data is None or data.extract is None:
        return no_update, report_view(["Export not made: this session's partner data is no "
                                       "longer held (the server restarted or dropped it); load "
                                       "the extract again."], error=True)
    state = current(area)
    blob = ps.export_counts(state, data, state.settings.disclosure_threshold)
    suffix = "-SYNTHETIC" if data.extract.synthetic else ""
    return dcc.send_bytes(blob, f"partner-incident-counts{suffix}.csv"), no_update


def _job_outputs(job):
    """Poll switch, progress value, progress hidden, status text and finished key for a job."""
    if job is None:
        return True, "0", True, "", no_update
    if not job.finished:
        done = f"{job.progress:.0%}"
        return False, str(round(100 * job.progress)), False, f"Working: {done} of the "\
            f"{STABILITY_SETTINGS.draws:,} what-if profiles done", no_update
    if job.state == "error":
        return True, "0", True, html.Span(f"Could not compute: {job.message}",
                                          className="svrp-error", id="ovw-stb-error"), no_update
    took = "already computed" if job.message else f"done in {job.seconds:.1f} s"
    return True, "100", True, html.Span(
        f"How sure, for these weights: {took}. The 'How sure' layer and P(High+) now use it.",
        id="ovw-stb-finished",
    ), job.key


STABILITY_OUTPUTS = ("ovw-stb-poll", "disabled"), ("ovw-stb-progress", "value"), (
    "ovw-stb-progress", "hidden"), ("ovw-stb-status", "children")


@callback(
    *(Output(i, p) for i, p in STABILITY_OUTPUTS),
    Output("ovw-stb-done", "data"),
    Input("ovw-stb-run", "n_clicks"),
    Input("ovw-stb-poll", "n_intervals"),
    *WHAT_IF_STATES,
    State("ovw-session", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def stability_run(_clicks, _ticks, weights, norm, banding, session, area=None):
    """Start or poll the band-stability run for the what-if settings of this tab.

    ``ovw-stb-run`` starts it (the what-if controls and ``ovw-session`` are read); each
    ``ovw-stb-poll`` tick reads its progress. Writes ``ovw-stb-poll.disabled`` (polling only
    while it runs), ``ovw-stb-progress``, ``ovw-stb-status`` and, when it finishes,
    ``ovw-stb-done`` (its key), which makes :func:`recolour` use the result.
    """
    try:
        return _stability_run(weights, norm, banding, session, area)
    except ProfilerError as exc:  # bad what-if inputs, or the shared store not answering
        return True, "0", True, html.Span(str(exc), className="svrp-error"), no_update


@callback(
    *(Output(i, p, allow_duplicate=True) for i, p in STABILITY_OUTPUTS),
    *WHAT_IF_INPUTS,
    State("ovw-session", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def stability_status(weights, norm, banding, session, area=None):
    """The stability status line after a what-if change (reads the what-if controls).

    A finished run's line is cleared (or says the new settings are already computed); a run in
    progress is left alone. Its own callback, writing neither ``ovw-stb-done`` nor anything
    :func:`recolour` reads, so a weight change's recolour never waits for it.
    """
    try:
        job = STABILITY_JOBS.status(session)
        if job is not None and not job.finished:
            return no_update, no_update, no_update, no_update
        state = current(area)  # validated only: the key needs no scoring (recolour does that)
        pairs = validate_weights(weights, state.spec.ids)
        norm, banding = validate_method(norm, banding)
        key, _ = stability_job(state, pairs, norm, banding)
    except ProfilerError as exc:
        return True, "0", True, html.Span(str(exc), className="svrp-error")
    if key != default_stability_key(state) and STABILITY_JOBS.cached(key) is not None:
        return True, "100", True, "How sure, for these weights: already computed."
    return True, "0", True, ""


def _stability_run(weights, norm, banding, session, area=None):
    job = STABILITY_JOBS.status(session)
    if ctx.triggered_id == "ovw-stb-poll":
        return _job_outputs(job)
    state, pairs, _, norm, banding = _result(weights, norm, banding, area=area)
    key, run = stability_job(state, pairs, norm, banding)
    if key == default_stability_key(state):
        return True, "100", True, (
            "These are the spec's weights: the shipped analysis already covers them (each run "
            "varies the normalisation and banding anyway). See the 'How sure' layer."
        ), no_update
    try:
        job = STABILITY_JOBS.submit(session, key, run)
    except JobRefused as exc:
        return no_update, no_update, no_update, html.Span(f"Not started: {exc}",
                                                          className="svrp-error"), no_update
    return _job_outputs(job)


@callback(
    Output("ovw-quad-focus", "data"),
    Output("ovw-layer", "value", allow_duplicate=True),
    Input(quad.CHART_ID, "selectedData"),
    Input(quad.CHART_ID, "restyleData"),
    State("ovw-quad-focus", "data"),
    State("ovw-layer", "value"),
    prevent_initial_call=True,
)
def pick_groups(selected, restyle, previous, layer):
    """Groups picked on the quadrant chart (box select, or legend toggles) to ``ovw-quad-focus``.

    Picking a group also shows the quadrant layer, so the highlight is visible on the map.
    """
    check((selected, PROPERTY_SHAPES["selectedData"]), (restyle, PROPERTY_SHAPES["restyleData"]))
    if ctx.triggered_id == quad.CHART_ID and "restyleData" in str(ctx.triggered_prop_ids):
        selected = None
    focus = quad.groups_from_chart(restyle, selected, previous)
    return focus, (quad.LAYER if focus and layer != quad.LAYER else no_update)


@callback(
    Output(QUAD_SLOT, "children"),
    Input("ovw-drawn", "data"),
    *WHAT_IF_STATES,
    State("ovw-selected", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def show_quadrant_chart(drawn, weights, norm, banding, selected, area=None):
    """Mount the quadrant chart once the map is drawn (``ovw-drawn``), as the panel does.

    Mounting a ``dcc.Graph`` loads and runs plotly.js, a second or more of main-thread work
    that would otherwise hold up the map's first draw.
    """
    if not drawn:
        return no_update
    figure = update_quadrant_chart(weights, norm, banding, selected, area)
    if figure is no_update:
        return no_update
    return quad.graph(current(area), figure)


@callback(
    Output(quad.CHART_ID, "figure"),
    *WHAT_IF_INPUTS,
    Input("ovw-selected", "data"),
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def update_quadrant_chart(weights, norm, banding, selected, area=None):
    """Redraw the quadrant chart for what-if weights and ring the selected LSOA.

    Reads the what-if controls (the causal weights move the risk axis) and ``ovw-selected``.
    """
    try:
        state, pairs, result, _, _ = _result(weights, norm, banding, None, area)
    except ProfilerError:
        return no_update
    groups = quad.frame(state, result, state.spec.with_weights(dict(pairs)))
    return quad.figure(state, groups, selected)


@callback(
    Output(QUAD_GROUPS, "children"),
    *WHAT_IF_INPUTS,
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def update_quadrant_groups(weights, norm, banding, area=None):
    """Each group's list (``ovw-quad-groups``) for the what-if weights, as the chart shows them.

    Reads the what-if controls; the lists are :func:`dashboard.quadrants.group_lists`.
    """
    try:
        state, pairs, result, _, _ = _result(weights, norm, banding, None, area)
    except ProfilerError:
        return no_update
    groups = quad.frame(state, result, state.spec.with_weights(dict(pairs)))
    if not quad.has_police(groups):
        return no_update
    return quad.group_lists(state, result, groups, "ovw-quad", describe=False)


@callback(
    Output("ovw-selected", "data", allow_duplicate=True),
    *[Input(t, "active_cell") for t in quad.table_ids("ovw-quad")],
    State("ovw-area", "data"),
    prevent_initial_call=True,
)
def select_from_group(*cells_and_area):
    """Select the LSOA of a cell chosen in a group's list (``ovw-quad-table-<g>``)."""
    *cells, area = cells_and_area
    cell = next((c for t, c in zip(quad.table_ids("ovw-quad"), cells, strict=True)
                 if t == ctx.triggered_id), None)
    code = cell.get("row_id") if isinstance(cell, dict) else None
    return _known(code, area)


for _table in quad.table_ids("ovw-quad"):  # the group lists' filter boxes
    list_filter_callback(_table)
