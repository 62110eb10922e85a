"""Any area at any scale: scope and reference choices, scope geometry, the one map view.

Every map page (the county overview, district pages, ``/explore``) draws its LSOAs with the same
canvas layer (``assets/svrp-canvas.js``) from the scope's geometry route, and restyles them from
one compact view built by :func:`map_view`: one class character per LSOA (``band_string``),
aligned with the ``i`` property of the scope's geometry features, plus the class palette, labels,
counts and outlines, all from the one vocabulary in :mod:`dashboard.state`. For England that is
34 kB where a ``{code: band}`` object would be about 600 kB.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache

import dash
import numpy as np
import pandas as pd
from dash import dcc, html

from dashboard.state import AREA_GEOMETRY_ROUTE, MAP_STYLE, PALETTE, AppState, current
from profiler.engine import BANDS, band_index
from profiler.errors import ProfilerError
from profiler.spec import REFERENCES

NO_BAND = "-"  # band_string character for an LSOA without a band
REFERENCE_LABELS = {
    "county": "its county (upper-tier authority)",
    "district": "its district",
    "england": "all England",
    "area": "the area shown (fitted on its own LSOAs)",
}


def validate_scope(state: AppState, scope: str | None) -> str:
    """Check a scope value: ``england`` or any English area's code (or name).

    Returns the canonical scope: ``england`` or the area's code (:class:`profiler.area.HomeArea`).

    Raises
    ------
    ProfilerError
        Naming the value, what is allowed and close matches.
    """
    if not isinstance(scope, str) or not 0 < len(scope) <= 200:
        raise ProfilerError(
            f"scope {str(scope)[:20]!r}: use england or an area code like E10000034"
        )
    if scope.lower() == "england":
        return "england"
    return state.catalogue.resolve(scope).code


def area_not_found(exc: Exception) -> html.Div:
    """The page for an area address that names no offered area: what was wrong, and links."""
    state = current()
    offered = state.offered or ()
    return html.Div(
        [
            html.H1("No such area", className="svrp-h1"),
            html.P(str(exc), id="area-error", role="alert", className="svrp-error"),
            html.P(["Open ", dcc.Link(f"{state.home.name} (the default area)", href="/"),
                    ", or an area's address such as /area/E10000034."]),
            html.Ul([html.Li(dcc.Link(a.label, href=area_href(a.code))) for a in offered[:40]])
            if offered else None,
        ],
        className="svrp-page",
    )


def area_href(code: str, sub: str | None = None, level: str = "district") -> str:
    """The address of an area's overview, or of one of its sub-areas' profiles.

    The default area keeps the short addresses ``/`` and ``/district/<code>``.
    """
    default = current().default_area
    if sub:
        return f"/district/{sub}" if code == default and level == "district" else \
            f"/area/{code}/{level}/{sub}"
    return "/" if code == default else f"/area/{code}"


def validate_reference(reference: str | None) -> str:
    """Check a reference value (county, district or england)."""
    if reference not in REFERENCES:
        raise ProfilerError(
            f"reference {str(reference)[:20]!r}: use one of {', '.join(REFERENCES)}"
        )
    return reference


def default_reference(scope: str) -> str:
    """England is banded against England, a district against its county, any area itself."""
    if scope == "england":
        return "england"
    return "county" if current().catalogue.resolve(scope).level == "district" else "area"


def scope_label(state: AppState, scope: str) -> str:
    """Human name of a scope."""
    if scope == "england":
        return "England"
    return state.catalogue.resolve(scope).label


@lru_cache(maxsize=48)
def _scope_geometry(scope: str, codes: tuple[str, ...], features_id: int) -> bytes:
    features = _FEATURES[features_id]
    missing = [c for c in codes if c not in features]
    if missing:
        raise ProfilerError(
            f"{scope}: {len(missing)} LSOAs have no shape in the web geometry "
            f"(first: {missing[:3]}); rebuild it with scripts/build_web_geometry.py"
        )
    # Each feature text ends its properties with "i":<index in England>; renumber for the scope.
    parts = [
        _I_RE.sub(f'"i":{n}}}', features[code], count=1) for n, code in enumerate(codes)
    ]
    text = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


_FEATURES: dict[int, dict[str, str]] = {}
_I_RE = re.compile(r'"i":\d+\}')


def scope_geometry_gz(state: AppState, scope: str) -> bytes:
    """Gzipped GeoJSON of a scope's LSOAs, features in code order with index property ``i``.

    England is the committed web file as it is (built with ``i`` already); other scopes are cut
    from it once and cached.
    """
    if scope == "england":
        return state.england_web_gz
    key = id(state.england_features)
    _FEATURES[key] = state.england_features
    return _scope_geometry(scope, tuple(state.area_codes(scope)), key)


def band_string(result: pd.DataFrame, column: str, codes: list[str]) -> str:
    """One character per LSOA in ``codes`` order: ``0`` Very Low .. ``4`` Very High, ``-`` none."""
    return class_string(result["lsoa21_code"].to_numpy(), band_index(result[column]), codes)


def class_string(lsoas, classes, codes: list[str]) -> str:
    """One character per LSOA in ``codes`` order: ``0`` + the class index of it, ``-`` none.

    ``lsoas`` and ``classes`` (integers from 0 to 9, negative for none) are aligned; an LSOA of
    ``codes`` missing from ``lsoas`` gets ``-``. Bands, Gi* classes and change classes alike.
    """
    index = np.asarray(classes, dtype=np.int64)
    chars = (index.clip(0, 9) + ord("0")).astype(np.uint8)
    chars[index < 0] = ord(NO_BAND)
    where = _code_index(tuple(codes)).get_indexer(np.asarray(lsoas))
    out = np.full(len(codes), ord(NO_BAND), dtype=np.uint8)
    found = where >= 0
    out[where[found]] = chars[found]
    return out.tobytes().decode("ascii")


def geometry_url(scope: str) -> str:
    """The scope's geometry route, as the browser asks for it."""
    return dash.get_relative_path(AREA_GEOMETRY_ROUTE.replace("<scope>", scope))


def map_view(
    key: str,
    scope: str,
    codes: list[str],
    classes: str,
    *,
    layer_label: str,
    palette: tuple[str, ...] = PALETTE,
    labels: tuple[str, ...] = BANDS,
    strong: tuple[int, ...] = (3, 4),
    strongest: int | None = 4,
    outlines: tuple[dict | None, ...] | None = None,
    selected: str | None = None,
    **extra,
) -> dict:
    """The one compact map view every map page sends to ``<key>-view``.

    ``classes`` is a :func:`class_string` over ``codes`` (the scope's geometry order). The view
    carries what the canvas layer and the legend need, and nothing else: the class palette and
    labels, the count per class, the classes drawn with heavier outlines (``strong``, the
    heaviest ``strongest``), per-class ``outlines`` (colour, weight, dash) and the line colours
    of :data:`dashboard.state.MAP_STYLE`, so the browser holds no colour of its own. ``extra``
    adds per-LSOA cues by code (``changed``, ``unsure``, ``opacity``, ``detail``, ``details``) or
    the emphasis (``district``, ``emphasise``).
    """
    counts = [classes.count(chr(ord("0") + i)) for i in range(len(labels))]
    view = {
        "key": key,
        "scope": scope,
        "geometry": geometry_url(scope),
        "band_string": classes,
        "palette": list(palette),
        "labels": list(labels),
        "counts": counts,
        "strong": list(strong),
        "strongest": strongest,
        "style": dict(MAP_STYLE),
        "layer_label": layer_label,
        "selected": selected,
    }
    if outlines:
        view["outlines"] = list(outlines)
    view.update(extra)
    return view


def view_counts(view: dict) -> dict[str, int]:
    """The view's count per class label (what its legend shows)."""
    return dict(zip(view["labels"], view["counts"], strict=True))


@lru_cache(maxsize=16)
def _code_index(codes: tuple[str, ...]) -> pd.Index:
    return pd.Index(codes)


def scope_bounds(state: AppState, scope: str) -> list[list[float]]:
    """[[south, west], [north, east]] of a scope (its districts' boxes, from the web geometry)."""
    if scope == state.home.code:
        return state.bounds
    if scope in state.area_bounds:
        return state.area_bounds[scope]
    boxes = [state.area_bounds[c] for c in state.catalogue.resolve(scope).lad_codes
             if c in state.area_bounds]
    if not boxes:
        return state.area_bounds["england"]
    return [[min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
            [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)]]
