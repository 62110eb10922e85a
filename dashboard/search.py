"""The place search box of every map page: find a place, zoom the map to it and outline it.

One component and one callback factory, used by the overview, the sub-area (district or ward)
pages and ``/explore`` (ids ``<key>-search...``, ``<key>`` the page's map key):

- :func:`search_box` (over the map's top-left corner): a text box in the ARIA 1.2 combobox
  pattern with its listbox of suggestions and a status line. ``assets/svrp-search.js`` owns the
  keyboard (arrow keys, Enter, Escape) and the pointer, and writes ``<key>-search-query`` (what
  was typed) and ``<key>-search-pick`` (the chosen place's key).
- :func:`search_layers` (in the map's children): the chosen place's outline, drawn above the
  LSOA canvas with a white halo in the selection colour of :data:`dashboard.state.MAP_STYLE`.
- :func:`search_callbacks`: suggestions from the deployment's :class:`profiler.places.PlaceIndex`
  (ranked, at most :data:`LIMIT`), and the choice: ``<key>-search-found`` (bounds, and the LSOA
  to select for an LSOA or a postcode), which the clientside ``svrp.search.apply`` fits the map
  to, selecting the LSOA on the canvas (``svrp.canvas.select``) and writing
  ``<key>-lsoas.clickData`` so the page opens its panel as for a click. A place that is not on
  the page's map gets a link to the page that shows it instead.

The index covers the areas the deployment offers (``SVRP_AREAS``; every English LSOA when it
offers every area) and the postcodes imported with ``python -m profiler postcodes import``; it
is built once per process on first use (the box asks for it when it gets focus).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import dash
import dash_leaflet as dl
import shapely
from dash import Input, Output, State, dcc, html, no_update

from dashboard.area import area_href
from dashboard.state import MAP_STYLE, AppState, current
from profiler.errors import ProfilerError
from profiler.places import KIND_LABELS, Place, PlaceIndex, load_postcodes

LIMIT = 8  # suggestions shown
PLACEHOLDER = "Town, ward, postcode, LSOA…"
# The chosen place's outline: the selection colour over a white halo, no fill.
OUTLINE_STYLE = {"color": MAP_STYLE["selected"], "weight": 3.5, "opacity": 1, "fill": False,
                 "interactive": False, "dashArray": None}
HALO_STYLE = {"color": MAP_STYLE.get("selected_halo", "#ffffff"), "weight": 7, "opacity": 0.9,
              "fill": False, "interactive": False}
# A postcode's point (svrpSearch.point draws it from these).
POINT_STYLE = {"radius": 6, "color": MAP_STYLE["selected"], "weight": 3, "fillColor": "#ffffff",
               "fillOpacity": 1}
EMPTY = {"type": "FeatureCollection", "features": []}

_INDEXES: dict[int, PlaceIndex] = {}
_LOCK = threading.Lock()


def place_index(state: AppState | None = None) -> PlaceIndex:
    """The deployment's place index (built on first use, then kept for the process).

    Covers the offered areas' LSOAs (all England when every area is offered) and the postcodes
    imported into the data folder.
    """
    base = state or current()
    key = id(base.table)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            offered = base.offered
            lsoas = None if offered is None else {c for a in offered for c in a.lsoa_codes}
            features = base.england_features if lsoas is None else {
                c: t for c, t in base.england_features.items() if c in lsoas}
            from profiler.places import lsoa_boxes

            index = PlaceIndex.from_table(base.table, lsoa_boxes(features), lsoas,
                                          load_postcodes(base.settings.data_dir))
            _INDEXES.clear()
            _INDEXES[key] = index
        return index


def warm_index() -> None:
    """Build the place index on another thread (no-op when it is built)."""
    threading.Thread(target=_quiet_index, daemon=True).start()


def _quiet_index() -> None:
    try:
        place_index()
    except Exception:  # noqa: BLE001, S110 - a warm-up; a search reports its own errors
        pass


# -- what a page's map shows -----------------------------------------------------------------


@dataclass(frozen=True)
class SearchScope:
    """What a page's map draws, for deciding where a found place is.

    ``drawn``: the LSOA codes on the map; ``sub``: the sub-area a sub-area page profiles;
    ``explore``: the ``/explore`` scope (links go to ``/explore?scope=...`` there).
    """

    state: AppState
    drawn: frozenset[str]
    sub: str | None = None
    explore: str | None = None


def area_scope(area: str | None) -> SearchScope:
    """An area's overview (``ovw-area``): its LSOAs."""
    state = current(area)
    return SearchScope(state, state.county_codes)


def subarea_scope(area: str | None, code: str | None) -> SearchScope:
    """A district or ward page (``dst-area``, ``dst-code``): the area's map, one sub-area."""
    state = current(area)
    return SearchScope(state, state.county_codes,
                       sub=code if isinstance(code, str) and state.home.has_subarea(code)
                       else None)


def explore_scope(scope: str | None) -> SearchScope:
    """``/explore`` (``exp-scope``): the scope's LSOAs."""
    state = current()
    scope = scope if isinstance(scope, str) and scope else "england"
    return SearchScope(state, _scope_codes(id(state.table), scope), explore=scope)


@lru_cache(maxsize=16)
def _scope_codes(_table_id: int, scope: str) -> frozenset[str]:
    return frozenset(current().area_codes(scope))


def _home_of(state: AppState, lsoa: str):
    """The offered area holding ``lsoa``: the first offered one, or its upper-tier authority."""
    if state.offered:
        for area in state.offered:
            if lsoa in _codes_of(area):
                return area
        return None
    utla = state.table.loc[state.table["lsoa21_code"] == lsoa, "utla_code"]
    return state.catalogue.resolve(str(utla.iloc[0])) if len(utla) else None


@lru_cache(maxsize=64)
def _codes_of(area) -> frozenset[str]:
    return frozenset(area.lsoa_codes)


def elsewhere(scope: SearchScope, place: Place) -> tuple[str, str] | None:
    """``(text, href)`` of the page that shows ``place`` better than this one, or None.

    Off the map: the overview of the area holding it (in ``/explore``, its district). On a
    sub-area page, a place in another sub-area: that sub-area's page.
    """
    state = scope.state
    first = place.lsoas[0]
    on_map = [c for c in place.lsoas if c in scope.drawn]
    if scope.explore is not None:
        if on_map:
            return None
        lad = state.table.loc[state.table["lsoa21_code"] == first, "lad24_code"]
        if not len(lad):
            return None
        return (f"explore {state.lad_names.get(str(lad.iloc[0]), lad.iloc[0])}",
                f"/explore?scope={lad.iloc[0]}")
    if not on_map:
        area = _home_of(state, first)
        if area is None:
            return None
        return f"open {area.name}", area_href(area.code)
    if scope.sub is not None:
        sub = scope.state.home.subarea(scope.sub)
        if not set(on_map) & _codes_of(sub):
            for other in state.home.subareas:
                if on_map[0] in _codes_of(other):
                    return (f"open {other.name}'s profile",
                            area_href(state.home.code, other.code, state.sub_level))
    return None


# -- the component ---------------------------------------------------------------------------


def search_box(key: str) -> html.Div:
    """The search box of the map page ``key`` (ids ``<key>-search...``), over the map."""
    box = f"{key}-search"
    return html.Div(
        [
            html.Label("Find a place", htmlFor=box, className="svrp-search-label"),
            # role, aria-autocomplete/expanded/controls are set by svrp-search.js (dcc.Input
            # takes no ARIA props); the label names it
            dcc.Input(
                id=box,
                type="search",
                className="svrp-search-input",
                placeholder=PLACEHOLDER,
                autoComplete="off",
                spellCheck="false",
                maxLength=100,
                debounce=False,
            ),
            html.Ul(id=f"{box}-list", role="listbox", hidden=True,
                    className="svrp-search-list", **{"aria-label": "Places found"}),
            html.P(id=f"{box}-status", role="status", className="svrp-search-status",
                   **{"aria-live": "polite"}),
            dcc.Store(id=f"{box}-query"),
            dcc.Store(id=f"{box}-pick"),
            dcc.Store(id=f"{box}-found"),
            dcc.Store(id=f"{box}-applied"),
        ],
        className="svrp-search svrp-no-print",
        role="search",
        **{"aria-label": "Find a place on the map"},
    )


def search_layers(key: str) -> list:
    """The chosen place's outline (a halo and a line), for the map's children."""
    return [
        dl.GeoJSON(id=f"{key}-search-halo", data=EMPTY, style=HALO_STYLE, interactive=False),
        dl.GeoJSON(id=f"{key}-search-outline", data=EMPTY, style=OUTLINE_STYLE,
                   interactive=False, hideout=POINT_STYLE,
                   pointToLayer={"variable": "svrpSearch.point"}),
    ]


def _option(key: str, n: int, place: Place, scope: SearchScope) -> html.Li:
    meta = KIND_LABELS[place.kind]
    if place.kind in ("lsoa", "msoa", "ward") and place.code != place.name:
        meta += f" {place.code}"
    if place.context and place.context != place.name:
        meta += f" · {place.context}"
    if not any(c in scope.drawn for c in place.lsoas):
        meta += " · not on this map"
    return html.Li(
        [html.Span(place.name, className="svrp-search-name"),
         html.Span(meta, className="svrp-search-meta")],
        id=f"{key}-search-opt-{n}",
        role="option",
        className="svrp-search-option",
        **{"aria-selected": "false", "data-value": place.key, "data-name": place.name},
    )


def suggestions(scope: SearchScope, query: str, key: str) -> tuple[list, bool, str]:
    """The listbox's options, whether it is hidden, and the status line, for ``query``."""
    query = (query or "").strip()
    if not query:
        return [], True, ""
    matches = place_index(current()).search(query, limit=LIMIT, prefer=scope.drawn)
    if not matches:
        return [], True, f"No place matches “{query[:40]}”."
    options = [_option(key, n, m.place, scope)
               for n, m in enumerate(matches)]
    n = len(options)
    return options, False, (f"{n} place{'s' if n > 1 else ''} found: use the arrow keys and "
                            "Enter, or click one.")


def outline(state: AppState, codes) -> dict:
    """The outline of the union of these LSOAs' web shapes (a GeoJSON FeatureCollection)."""
    return _outline(id(state.england_features), tuple(sorted(codes)))


_FEATURES: dict[int, dict[str, str]] = {}


@lru_cache(maxsize=64)
def _outline(features_id: int, codes: tuple[str, ...]) -> dict:
    features = _FEATURES[features_id]
    shapes = [shapely.geometry.shape(json.loads(features[c])["geometry"])
              for c in codes if c in features]
    if not shapes:
        return EMPTY
    union = shapely.union_all(shapes)
    geometry = shapely.geometry.mapping(shapely.set_precision(union.boundary, 1e-5))
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}


def choose(scope: SearchScope, pick: dict | None, key: str):
    """``<key>-search-found``, the outline and the status line for the chosen place."""
    place = place_index(current()).get((pick or {}).get("key"))
    if place is None:
        return no_update, no_update, "That place is no longer offered: search again."
    link = elsewhere(scope, place)
    on_map = [c for c in place.lsoas if c in scope.drawn]
    kind = KIND_LABELS[place.kind]
    if kind[1:2].islower():  # "Ward" -> "ward", "LSOA" stays
        kind = kind[0].lower() + kind[1:]
    status: list = [f"{place.name} ({kind})"]
    if not on_map:
        status.append(" is not on this map")
        if link:
            status += [": ", dcc.Link(link[0], href=link[1], id=f"{key}-search-link"), "."]
        else:
            status.append(".")
        return {"key": place.key, "inside": False, "n": pick.get("n")}, EMPTY, status
    lsoa = place.lsoas[0] if place.kind in ("lsoa", "postcode") else None
    status.append(": shown and outlined on the map" + ("; its details are in the panel."
                                                        if lsoa else "."))
    if link:
        status += [" ", dcc.Link(link[0][0].upper() + link[0][1:], href=link[1],
                                 id=f"{key}-search-link"), "."]
    boxes = [place.bbox] if len(on_map) == len(place.lsoas) else [
        place_index(current()).get(f"lsoa:{c}").bbox for c in on_map]
    s = min(b[0] for b in boxes)
    w = min(b[1] for b in boxes)
    n = max(b[2] for b in boxes)
    e = max(b[3] for b in boxes)
    found = {"key": place.key, "kind": place.kind, "name": place.name, "inside": True,
             "bounds": [[s, w], [n, e]], "lsoa": lsoa, "map": key, "n": pick.get("n"),
             "point": list(place.point) if place.point else None}
    _FEATURES[id(scope.state.england_features)] = scope.state.england_features
    shape = outline(scope.state, on_map)
    return found, shape, status


def search_callbacks(key: str, scope: Callable[..., SearchScope], *states: State) -> None:
    """Register the search callbacks of map page ``key``.

    ``scope`` turns the values of ``states`` (the page's area store, sub-area or explore
    scope) into the :class:`SearchScope` of what its map shows. Reads ``<key>-search-query``
    and ``<key>-search-pick`` (written by ``assets/svrp-search.js``); writes the listbox, the
    status line, ``<key>-search-found`` and the outline layers; ``svrp.search.apply`` (clientside)
    fits ``<key>-map`` and selects an LSOA.
    """
    box = f"{key}-search"

    @dash.callback(
        Output(f"{box}-list", "children"),
        Output(f"{box}-list", "hidden"),
        Output(f"{box}-status", "children"),
        Input(f"{box}-query", "data"),
        *states,
        prevent_initial_call=True,
    )
    def suggest(query, *values):
        if query is None:  # the box's first focus: build the index, change nothing else
            try:
                place_index(current())
            except ProfilerError as exc:
                return no_update, no_update, str(exc)
            return no_update, no_update, ""
        try:
            return suggestions(scope(*values), query if isinstance(query, str) else "", key)
        except ProfilerError as exc:
            return [], True, str(exc)

    suggest.__doc__ = f"Suggestions in ``{box}-list`` for ``{box}-query``."

    @dash.callback(
        Output(f"{box}-found", "data"),
        Output(f"{key}-search-outline", "data"),
        Output(f"{key}-search-halo", "data"),
        Output(f"{box}-status", "children", allow_duplicate=True),
        Input(f"{box}-pick", "data"),
        *states,
        prevent_initial_call=True,
    )
    def pick(chosen, *values):
        try:
            found, shape, status = choose(scope(*values), chosen, key)
        except ProfilerError as exc:
            return no_update, no_update, no_update, str(exc)
        line = shape
        if isinstance(found, dict) and found.get("point"):  # a postcode: its point too
            lat, lon = found["point"]
            line = {**shape, "features": [*shape["features"], {
                "type": "Feature", "properties": {},
                "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
        return found, line, shape, status

    pick.__doc__ = f"Zoom ``{key}-map`` to the place picked in ``{box}`` and outline it."

    dash.clientside_callback(
        dash.ClientsideFunction(namespace="svrpSearch", function_name="apply"),
        Output(f"{box}-applied", "data"),
        Input(f"{box}-found", "data"),
        prevent_initial_call=True,
    )
