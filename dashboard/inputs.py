"""Callback inputs checked against the shapes their components send; crafted bodies get 400.

One place for what a callback may receive. :func:`install` adds to the Flask server:

- a ``before_request`` hook on Dash's callback route that parses the body once with hard bounds
  (depth, keys, items, string and number sizes) and checks the request's structure and each
  input and state value against :data:`PROPERTY_SHAPES` (by property: ``n_clicks`` is a count,
  ``contents`` a string...) and :data:`ID_SHAPES` (by component id: the partner store is
  ``{"key": str, "v": int}``...);
- an error handler turning :class:`BadInput` (raised there, or by :func:`check` at the top of a
  callback) into HTTP 400 with a one-line text body and no traceback in the log;
- 404 instead of 500 for a component-suites path Dash does not serve (traversal, unknown
  package), and 404 for an unknown ``/_dash-*`` or ``/data/*`` route or an unknown page, or a
  page address naming no offered area, district or ward (the page still renders the app's
  "not found" text).

A shape is a small predicate built from :func:`one_of`, :func:`text`, :func:`count`,
:func:`number`, :func:`list_of`, :func:`mapping` and :data:`ANY` (bounded JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, request

from profiler.codes import LAD_RE, LSOA21_RE, WARD_RE

Shape = Callable[[Any], bool]

MAX_DEPTH = 24
MAX_NODES = 200_000
MAX_KEYS = 2_000  # keys of one object
MAX_ITEMS = 100_000  # items of one array
MAX_NUMBER = 1e15
MAX_INT_DIGITS = 18
CALLBACK_ROUTE = "/_dash-update-component"


class BadInput(Exception):  # noqa: N818 (the name says what the client sent)
    """A callback request that no component of the page would send; answered with 400."""


# -- shapes ----------------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) and abs(value) <= MAX_NUMBER


def one_of(*shapes: Shape) -> Shape:
    """Any of ``shapes``."""
    return lambda v: any(s(v) for s in shapes)


def text(max_len: int = 1_000, pattern: str | None = None) -> Shape:
    """A string of at most ``max_len`` characters (matching ``pattern`` if given)."""
    rx = re.compile(pattern) if pattern else None
    return lambda v: isinstance(v, str) and len(v) <= max_len and (rx is None or bool(
        rx.fullmatch(v)))


def count(v: Any) -> bool:
    """A whole number >= 0 (clicks, intervals)."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_NUMBER


def number(v: Any) -> bool:
    """A finite number (not a bool)."""
    return _finite(v)


def none(v: Any) -> bool:
    """``None`` (a component not yet set)."""
    return v is None


def boolean(v: Any) -> bool:
    """``True`` or ``False``."""
    return isinstance(v, bool)


def list_of(item: Shape, max_len: int = 1_000) -> Shape:
    """A list of at most ``max_len`` items, each of shape ``item``."""
    return lambda v: isinstance(v, list) and len(v) <= max_len and all(item(x) for x in v)


def mapping(fields: dict[str, Shape], *, required: Iterable[str] = (), extra: bool = False,
            ) -> Shape:
    """A dict with these ``fields`` (``required`` ones present); other keys only if ``extra``."""
    need = set(required)

    def ok(v: Any) -> bool:
        if not isinstance(v, dict) or not need <= set(v):
            return False
        if not extra and not set(v) <= set(fields):
            return False
        return all(k not in v or s(v[k]) for k, s in fields.items())

    return ok


def ANY(v: Any) -> bool:  # noqa: N802 (a constant-like shape)
    """Any JSON value (already bounded by the body check)."""
    return True


SCALAR = one_of(none, boolean, number, text(2_000))
CHOICE = one_of(SCALAR, list_of(one_of(number, text(200)), 200))
OPT_TEXT = one_of(none, text(4_000))
GEO_EVENT = one_of(none, mapping({}, extra=True))

#: Shapes of the values components send, by property name.
PROPERTY_SHAPES: dict[str, Shape] = {
    "n_clicks": one_of(none, count),
    "n_intervals": one_of(none, count),
    "n_clicks_timestamp": one_of(none, number),
    "value": CHOICE,
    "contents": one_of(none, text(400_000_000)),
    "filename": OPT_TEXT,
    "last_modified": one_of(none, number),
    "pathname": one_of(none, text(4_000, r"/[^\s<>\"']*")),
    "search": one_of(none, text(4_000, r"(\?[^\s<>\"']*)?")),
    "hash": OPT_TEXT,
    "href": OPT_TEXT,
    "clickData": GEO_EVENT,
    "hoverData": GEO_EVENT,
    "active_cell": one_of(none, mapping({"row": count, "column": count,
                                         "column_id": text(200),
                                         "row_id": one_of(none, text(200), number)},
                                        extra=True)),
    "viewport": one_of(none, mapping({}, extra=True)),
    # a Plotly chart's box/lasso selection and legend toggles (the quadrant chart)
    "selectedData": one_of(none, mapping({}, extra=True)),
    "restyleData": one_of(none, list_of(ANY, 10)),
}

_AREA = one_of(none, text(2_000, r"E\d{8}(\+E\d{8})*"))  # an area's canonical code
_PARTNER_STORE = one_of(none, mapping({"key": text(64, r"[A-Za-z0-9_-]+"), "v": count,
                                       "area": _AREA}, required=("key",)))
_SESSION = one_of(none, text(64, r"[A-Za-z0-9_-]+"))
_LSOA = one_of(none, text(9, LSOA21_RE.pattern))
# the place search box of each map page (dashboard/search.py, assets/svrp-search.js)
_SEARCH = {
    **{f"{key}-search-query": one_of(none, text(100)) for key in ("ovw", "dst", "exp")},
    **{f"{key}-search-pick": one_of(none, mapping({"key": text(200), "n": count},
                                                  required=("key",)))
       for key in ("ovw", "dst", "exp")},
}

#: Shapes of particular components' values, by component id (checked after the property's).
ID_SHAPES: dict[str, Shape] = {
    "ovw-partner": _PARTNER_STORE,
    "ovw-session": _SESSION,
    "ovw-selected": _LSOA,
    "exp-selected": _LSOA,
    "dst-code": one_of(none, text(9, LAD_RE.pattern), text(9, WARD_RE.pattern)),
    "ovw-area": _AREA,
    "dst-area": _AREA,
    "ovw-drawn": one_of(none, boolean, number, text(100), mapping({}, extra=True)),
    **_SEARCH,
    # the overview map's incident month ("all": every month shown)
    "ovw-period": one_of(none, text(3, "all"), text(7, r"\d{4}-(0[1-9]|1[0-2])")),
    # monitoring (dashboard.monitoring): the period kind and its end month
    **{f"{p}-mon-kind": one_of(none, text(10, "month|quarter|fytd|rolling12"))
       for p in ("ovw", "dst")},
    **{f"{p}-mon-end": one_of(none, text(7, r"\d{4}-(0[1-9]|1[0-2])")) for p in ("ovw", "dst")},
    "ovw-quad-focus": one_of(none, list_of(count, 4)),  # quadrant groups picked on the chart
}


def check(*pairs: tuple[Any, Shape], what: str = "callback input") -> None:
    """Raise :class:`BadInput` unless each ``(value, shape)`` pair fits; call it first.

    Example: ``check((store, PARTNER_STORE), (n, COUNT))`` at the top of a callback.
    """
    for i, (value, shape) in enumerate(pairs):
        if not shape(value):
            raise BadInput(f"{what} {i + 1} has an unexpected shape ({type(value).__name__})")


PARTNER_STORE = _PARTNER_STORE
COUNT = one_of(none, count)
UPLOAD = PROPERTY_SHAPES["contents"]
FILENAME = OPT_TEXT


# -- the body of a callback request ------------------------------------------------------------


def _bounded(value: Any) -> None:
    """Raise BadInput on nesting, size or numbers no component sends."""
    nodes = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise BadInput(f"more than {MAX_NODES:,} values")
        if depth > MAX_DEPTH:
            raise BadInput(f"nested deeper than {MAX_DEPTH}")
        if isinstance(item, dict):
            if len(item) > MAX_KEYS:
                raise BadInput(f"an object with {len(item):,} keys (limit {MAX_KEYS:,})")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            if len(item) > MAX_ITEMS:
                raise BadInput(f"a list of {len(item):,} items")
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not _finite(item):
            raise BadInput("a number out of range")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_NUMBER:
            raise BadInput("a number out of range")


def _int(raw: str) -> int:
    if len(raw.lstrip("-")) > MAX_INT_DIGITS:
        raise BadInput("a number out of range")
    return int(raw)


def _constant(name: str) -> float:
    raise BadInput(f"{name} is not a number")


def parse_body(raw: bytes) -> dict:
    """Parse and check a callback request body; raise :class:`BadInput` if no page sends it."""
    try:
        body = json.loads(raw, parse_int=_int, parse_constant=_constant)
    except BadInput:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BadInput("the body is not JSON") from None
    _bounded(body)
    _ident = one_of(text(200), mapping({}, extra=True))
    prop = mapping({"id": _ident, "property": text(100), "value": ANY}, required=("id",
                                                                                  "property"),
                   extra=True)
    shape = mapping({
        "output": text(10_000),
        "outputs": one_of(list_of(ANY, 500), mapping({}, extra=True)),
        "inputs": list_of(one_of(prop, list_of(prop, 1_000)), 200),
        "state": list_of(one_of(prop, list_of(prop, 1_000)), 200),
        "changedPropIds": list_of(text(1_000), 200),
    }, required=("output", "inputs"), extra=True)
    if not shape(body):
        raise BadInput("not the shape of a callback request")
    for group in ("inputs", "state"):
        for entry in body.get(group, []):
            for item in entry if isinstance(entry, list) else [entry]:
                _check_value(item)
    return body


def _check_value(item: dict) -> None:
    prop, value, ident = item["property"], item.get("value"), item["id"]
    shape = PROPERTY_SHAPES.get(prop)
    if shape is not None and not shape(value):
        raise BadInput(f"{prop} has an unexpected shape ({type(value).__name__})")
    if isinstance(ident, str) and ident in ID_SHAPES and not ID_SHAPES[ident](value):
        raise BadInput(f"{ident}.{prop} has an unexpected shape ({type(value).__name__})")
    if isinstance(ident, dict) and prop == "value" and not one_of(none, number)(value) and \
            str(ident.get("type", "")).endswith("-weight"):
        raise BadInput(f"{ident.get('type')} value is not a number")


# -- wiring ------------------------------------------------------------------------------------


def _page_patterns(app) -> list[re.Pattern]:
    import dash

    out = []
    for page in dash.page_registry.values():
        template = page.get("path_template") or page.get("path") or ""
        rx = re.sub(r"<[^>]+>", "[^/]+", re.escape(template).replace(r"\<", "<").replace(
            r"\>", ">"))
        out.append(re.compile(rx.rstrip("/") + "/?"))
    return out


def install(app, exists: Callable[[str], bool] | None = None) -> None:
    """Add the body check, the 400 handler and the 404s to ``app.server`` (see module doc).

    ``exists(path)`` tells whether a page address that matches a page's template names
    something (an offered area, one of its districts or wards); when it does not, the answer
    is 404 too, with the page's own "not found" text.
    """
    from dash.exceptions import DependencyException

    server = app.server
    page_paths: list[re.Pattern] = []

    @server.errorhandler(BadInput)
    def bad_input(exc: BadInput) -> Response:
        return Response(f"Bad request: {exc}\n", status=400, mimetype="text/plain")

    @server.errorhandler(DependencyException)
    def no_such_file(_exc) -> Response:
        return Response("Not found.\n", status=404, mimetype="text/plain")

    def check_request() -> Response | None:
        path = request.path
        if path == CALLBACK_ROUTE and request.method == "POST":
            parse_body(request.get_data(cache=True))
            return None
        rule = request.url_rule.rule if request.url_rule is not None else None
        if rule in (None, "/<path:path>") and (path.startswith(("/_dash-", "/data/",
                                                                "/_reload-hash"))):
            return Response("Not found.\n", status=404, mimetype="text/plain")
        return None

    def page_status(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else None
        if rule == "/<path:path>" and response.status_code == 200 and request.method == "GET":
            if not page_paths:
                page_paths.extend(_page_patterns(app))
            if not any(p.fullmatch(request.path) for p in page_paths) or (
                    exists is not None and not exists(request.path)):
                response.status_code = 404  # the app still renders its "not found" page
        return response

    server.before_request(check_request)
    server.after_request(page_status)
