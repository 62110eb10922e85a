"""A map page's first paint before Dash starts: a static copy of its layout, and its first view.

Dash draws nothing until its bundles have run, fetched the layout and the page's content, and
React has rendered them: on a county's overview the map's shapes come 3-5x later than on a bare
Leaflet page drawing the same geometry. So the index of a map page also carries, rendered on
the server from **the page's own layout** (never a second copy of it):

- a static HTML copy of the page (:func:`static_html`), inert and hidden from assistive
  technology, with an empty canvas where the map will be (``svrp-shell-map``);
- the map's first view (the ``<key>-view`` store: class per LSOA, palette, outlines) and
  bounds (:func:`first_view`).

``assets/svrp-paint.js`` shows the copy and paints the LSOAs on its canvas, with the map's own
style function and Leaflet's ``fitBounds`` arithmetic, as soon as the web worker has the
geometry; ``assets/svrp-canvas.js`` removes the copy once the real map has drawn, in the same
place. Hand-written because Dash has no server-side rendering and the copy needs only its
``html`` components' markup: controls that Dash renders itself (dropdowns, sliders, tables,
charts) are kept as empty boxes of their class, so the boxes above the map keep their height
(``assets/app.css``, ``.svrp-shell``) and the map its place; a browser test checks the place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import escape

from dash.development.base_component import Component

SHELL_ID = "svrp-shell"
FIRST_VIEW_ID = "svrp-first"
HELD_ID = "svrp-dash"  # Dash's bundles, held until the first paint (held_scripts)
MAP_CLASS = "svrp-shell-map"
# Dash components with no box of their own on the page: nothing is rendered for them.
INVISIBLE = {"Store", "Location", "Interval", "Download", "Tooltip", "LayerGroup", "GeoJSON",
             "TileLayer", "Pane", "Marker", "CircleMarker", "Polygon", "Polyline"}
# Wrappers whose children are on the page as they are.
TRANSPARENT = {"Loading"}
MAPS = {"Map", "MapContainer"}  # dash-leaflet's map (MapContainer since dash-leaflet 1.0)
# Dash attribute names whose HTML name differs (the rest: camelCase -> lower case; aria-* and
# data-* as they are).
ATTRIBUTES = {"className": "class", "htmlFor": "for", "tabIndex": "tabindex"}
SKIPPED = {"id", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "key", "loading_state",
           "setProps", "children", "style", "hidden", "className"}
VOID = {"input", "br", "hr", "img", "meta", "link", "col", "area", "source", "wbr"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def walk(node) -> Iterator[Component]:
    """Every component of a layout tree, depth first."""
    if isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def find(node, component_id: str) -> Component | None:
    """The component of ``node``'s tree with the id ``component_id``, or None."""
    return next((c for c in walk(node) if getattr(c, "id", None) == component_id), None)


def _style(style: dict | None) -> str:
    if not style:
        return ""
    parts = []
    for key, value in style.items():
        name = key if key.startswith("--") else _CAMEL.sub("-", key).lower()
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}px" if value else "0"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _attrs(props: dict, classes: list[str]) -> str:
    out = []
    if classes:
        out.append(f'class="{escape(" ".join(classes))}"')
    style = _style(props.get("style"))
    if style:
        out.append(f'style="{escape(style)}"')
    for key, value in props.items():
        if key in SKIPPED or value is None or value is False or isinstance(value, dict | list):
            continue
        name = ATTRIBUTES.get(key) or (key if key.startswith(("aria-", "data-")) else key.lower())
        out.append(name if value is True else f'{name}="{escape(str(value))}"')
    return (" " + " ".join(out)) if out else ""


def _render(node, out: list[str], replace: dict) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, str | int | float):
        out.append(escape(str(node)))
        return
    if isinstance(node, list | tuple):
        for child in node:
            _render(child, out, replace)
        return
    if not isinstance(node, Component):
        return
    # every prop given, the aria-* and data-* ones included (not in _prop_names)
    props = {k: v for k, v in node.to_plotly_json()["props"].items() if v is not None}
    if props.get("hidden") is True:
        return
    node_id = getattr(node, "id", None)
    if isinstance(node_id, str) and node_id in replace:
        props["children"] = replace[node_id]
    kind, namespace = node._type, node._namespace
    classes = [props["className"]] if props.get("className") else []
    if namespace == "dash_html_components":
        tag = kind.lower()
        out.append(f"<{tag}{_attrs(props, classes)}>")
        if tag not in VOID:
            _render(props.get("children"), out, replace)
            out.append(f"</{tag}>")
    elif kind == "Link":
        href = props.pop("href", "")
        out.append(f'<a href="{escape(str(href))}"{_attrs(props, classes)}>')
        _render(props.get("children"), out, replace)
        out.append("</a>")
    elif kind == "Input":
        keep = {k: props[k] for k in ("type", "placeholder") if k in props}
        out.append(f"<input{_attrs(keep, classes)}>")
    elif kind in TRANSPARENT:
        _render(props.get("children"), out, replace)
    elif namespace == "dash_leaflet" and kind in MAPS:
        out.append(f'<div class="{escape(" ".join([*classes, MAP_CLASS]))}"></div>')
    elif kind in INVISIBLE:
        return
    else:  # a control Dash renders itself: an empty box of its kind and class
        kinds = ["svrp-shell-box", f"svrp-shell-{kind.lower()}", *classes]
        text = props.get("placeholder") if kind == "Dropdown" else None
        out.append(f'<div class="{escape(" ".join(kinds))}">{escape(str(text or ""))}</div>')


def static_html(node, replace: dict | None = None) -> str:
    """The markup of a layout tree (ids dropped, so the copy never shadows the live page).

    ``replace`` maps a component id to the children to render in its place (the page's
    content in the app's page container, say).
    """
    out: list[str] = []
    _render(node, out, replace or {})
    return "".join(out)


def shell(node, replace: dict | None = None) -> str:
    """The hidden, inert static copy of a page, shown by ``svrp-paint.js`` when it paints."""
    return (f'<div id="{SHELL_ID}" class="svrp-shell" hidden inert aria-hidden="true">'
            f"{static_html(node, replace)}</div>")


def first_view(page) -> dict | None:
    """The map's key, first view and bounds in ``page`` (a layout tree), for the first paint.

    The map is the page's Leaflet map ``<key>-map`` (``ovw``, ``dst``, ``exp``), its view the
    store ``<key>-view``. None when the page has no such map or view (an error page).
    """
    the_map = next((c for c in walk(page) if c._namespace == "dash_leaflet" and c._type in MAPS
                    and str(getattr(c, "id", "")).endswith("-map")), None)
    if the_map is None:
        return None
    key = the_map.id.removesuffix("-map")
    view = find(page, f"{key}-view")
    if view is None or not isinstance(getattr(view, "data", None), dict):
        return None
    return {"key": key, "view": view.data, "bounds": the_map.bounds,
            "zoomSnap": getattr(the_map, "zoomSnap", None) or 1}


def first_view_script(first: dict) -> str:
    """``first`` as a JSON data block (not executed: allowed by the content security policy)."""
    text = json.dumps(first, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="{FIRST_VIEW_ID}">{text}</script>'


# Dash's bundles as its index lists them: plain same-origin script tags (serve_locally=True).
_SCRIPT_TAG = re.compile(r'<script src="([^"<>]+)"></script>')
_RENDERER = re.compile(r'<script id="_dash-renderer" type="application/javascript">(.*?)</script>',
                       re.S)


def held_scripts(scripts: str, renderer: str, preloads: str = "") -> tuple[str, str] | None:
    """Dash's ``{%scripts%}`` and ``{%renderer%}``, held until the first paint is on screen.

    Run as Dash writes them, the bundles (React, Dash, the components: about 3 MB in 20
    requests) take the browser's connections, the server's CPU and then the main thread in one
    task of 150-400 ms before anything else can paint. Held, their tags and ``preloads`` (the
    page's lazily loaded chunks) wait in a ``<template>`` (``svrp-dash``: inert, nothing in it
    loads or runs). ``svrp-paint.js`` preloads them all as soon as the geometry is in, inserts
    the scripts in order once it has painted (or cannot), then runs the renderer's own inline
    script (its text is unchanged, so the content security policy's hash for it still
    applies). Dash's inline scripts (clientside functions) stay where they are: they only
    register functions. None when ``scripts`` holds anything else (an external script with
    other attributes): the page is then left as it is.
    """
    urls = _SCRIPT_TAG.findall(scripts)
    rest = _SCRIPT_TAG.sub("", scripts)
    found = _RENDERER.fullmatch(renderer.strip())
    if not urls or found is None or re.search(r"<script[^>]*\ssrc=", rest):
        return None
    tags = "".join(f'<script src="{url}"></script>' for url in urls)  # inert in a template
    return (f'<template id="{HELD_ID}">{preloads}{tags}</template>{rest}',
            f'<script id="_dash-renderer" type="text/plain">{found.group(1)}</script>')


_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"<>]+)">')


def inline_styles(css: str, read) -> str:
    """Dash's ``{%css%}`` with each of the app's own stylesheets inlined as a ``<style>``.

    A linked stylesheet blocks rendering until it has downloaded, and on a map page it competes
    with the geometry and the bundles for the browser's six connections: the first paint then
    waits for it. The app's CSS is small (about 23 kB, 5 kB gzipped), so a map page carries it.
    ``read(href)`` gives a stylesheet's text, or None for one that is not the app's own (left
    linked). The content security policy allows inline styles already (``style-src``).
    """

    def inline(found: re.Match) -> str:
        text = read(found.group(1))
        if text is None or "</" in text:  # not ours, or it would end the <style> early
            return found.group(0)
        return f'<style data-href="{found.group(1)}">{text}</style>'

    return _STYLESHEET.sub(inline, css)
