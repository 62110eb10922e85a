"""Map layer factories: dash-leaflet components built from data, no I/O.

Style, tooltip and point functions are JavaScript in ``assets/svrp.js``, referenced as
``{"variable": "svrp.<name>"}``; tooltips set text with ``textContent`` only, never HTML.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html

from profiler.engine import BANDS

INCIDENT_PANE = "svrp-incidents"
INCIDENT_PANE_Z = 450  # above the overlay pane (400) and the LSOA canvas (350), below markers


def fn(name: str) -> dict:
    """Reference a JavaScript function in the ``svrp`` namespace."""
    return {"variable": f"svrp.{name}"}


def base_map(
    map_id: str,
    bounds: list[list[float]],
    children: list,
    tiles_url: str,
    tiles_attribution: str,
    class_name: str = "svrp-map",
    canvas: bool = False,
) -> dl.Map:
    """A Leaflet map fitted to ``bounds`` with an optional basemap (empty URL: none).

    Reads nothing; the map's id is ``map_id``. ``canvas`` draws vector shapes on one canvas
    instead of an SVG element each: much faster for thousands of LSOAs (England).
    """
    layers = []
    if tiles_url:
        layers.append(dl.TileLayer(url=tiles_url, attribution=tiles_attribution, opacity=0.6))
    return dl.Map(
        layers + children,
        id=map_id,
        bounds=bounds,
        trackViewport=False,
        className=class_name,
        scrollWheelZoom=True,
        preferCanvas=canvas,
        zoomSnap=0.25,
        zoomDelta=0.5,
    )


def canvas_lsoa_events(layer_id: str) -> dl.GeoJSON:
    """A map page's LSOA layer as Dash sees it: an empty GeoJSON for click and hover.

    The shapes are drawn by ``assets/svrp-canvas.js`` from geometry a web worker has already
    fetched and projected (the view's ``geometry`` URL), not by dash-leaflet; a click or hover
    there writes ``clickData`` and ``hoverData`` (a feature with the LSOA's properties), so
    callbacks read them as from a dash-leaflet GeoJSON layer.
    """
    return dl.GeoJSON(id=layer_id, interactive=False)


def district_layer(data: dict, style: dict) -> dl.GeoJSON:
    """District outlines in ``style`` (a Leaflet path style) with permanent name labels."""
    return dl.GeoJSON(
        data=data,
        style=dict(style, interactive=False),
        onEachFeature=fn("districtLabel"),
        interactive=False,
        id="district-outlines",
    )


def incidents_layer(layer_id: str, points: dict, heat: dict, mode: str, style: dict) -> list:
    """police.uk incident points as clusters, single points or a kernel-density heat layer.

    ``style`` (colours by crime type, ``other``, ``ring``, ``heat`` steps) travels in the layer's
    ``hideout``, read by ``svrp.incidentPoint``/``svrp.heatCell``; the layers sit in
    Leaflet's overlay pane, above the LSOA canvas (its own lower pane, see svrp-canvas.js).
    """
    if mode == "off":
        return []
    # a pane of their own above the overlay pane, so points and heat are drawn above the LSOA
    # colours however the page was opened (a shared link draws them before the canvas exists)
    style = {**style, "pane": INCIDENT_PANE}
    if mode == "heat":
        layer = dl.GeoJSON(id=layer_id, data=heat, pointToLayer=fn("heatCell"),
                           interactive=False, hideout=style)
    else:
        layer = dl.GeoJSON(
            id=layer_id,
            data=points,
            pointToLayer=fn("incidentPoint"),
            hideout=style,
            cluster=(mode == "cluster"),
            zoomToBoundsOnClick=True,
            superClusterOptions={"radius": 60, "maxZoom": 15},
        )
    return [dl.Pane(layer, name=INCIDENT_PANE, style={"zIndex": INCIDENT_PANE_Z})]


def legend(
    title: str,
    counts: dict[str, int] | None,
    palette: tuple[str, ...],
    labels: tuple[str, ...] = BANDS,
    order: list[int] | None = None,
    note: str | None = None,
    strong: tuple[int, ...] = (3, 4),
    outlines: tuple[dict | None, ...] | None = None,
) -> html.Div:
    """Legend with swatch, name and count per class (bands: Very High first).

    ``counts`` None: no counts (a scale, such as the heat layer's).

    ``outlines`` gives a class's map outline (``color``, ``weight``, ``dashArray``), drawn as the
    swatch's border so the legend shows the same non-colour cue as the map.
    """
    order = order if order is not None else list(range(len(labels) - 1, -1, -1))

    def swatch_style(i: int) -> dict:
        style = {"background": palette[i]}
        line = outlines[i] if outlines else None
        if line:
            kind = "dashed" if line.get("dashArray") else "solid"
            style["border"] = f"{round(line['weight'])}px {kind} {line['color']}"
        return style

    rows = [
        html.Li(
            [
                html.Span(
                    className="svrp-swatch" + (" strong" if i in strong else ""),
                    style=swatch_style(i),
                ),
                html.Span(labels[i], className="svrp-legend-band"),
                *([] if counts is None else [
                    html.Span(f"{counts.get(labels[i], 0):,}", className="svrp-legend-count")]),
            ]
        )
        for i in order
    ]
    body = [
        # the key folds away (its summary stays), so it never has to cover the map
        html.Summary(title, className="svrp-legend-title"),
        html.Ul(rows, className="svrp-legend-list"),
    ]
    if note:
        body.append(html.Div(note, className="svrp-note"))
    # district names on the map on and off (assets/svrp-a11y.js; hidden on maps without them)
    body.append(html.Button("Hide district names", className="svrp-labels-toggle svrp-button",
                            type="button", hidden=True, **{"aria-pressed": "false"}))
    return html.Details(
        body, open=True, className="svrp-legend", **{"aria-label": f"{title} key"}
    )


def view_legend(
    view: dict,
    title: str | None = None,
    note: str | None = None,
    counts: dict[str, int] | None = None,
    order: list[int] | None = None,
) -> html.Div:
    """The legend of a map view (see ``dashboard.area.map_view``).

    Its classes, palette, counts (``counts`` overrides them, e.g. one district's) and outlines.
    """
    labels = tuple(view["labels"])
    return legend(
        title or view["layer_label"],
        counts if counts is not None else dict(zip(labels, view["counts"], strict=True)),
        tuple(view["palette"]),
        labels,
        order=order,
        note=note,
        strong=tuple(view.get("strong", ())),
        outlines=tuple(view["outlines"]) if view.get("outlines") else None,
    )
