"""A map page's first paint before Dash starts (dashboard/shell.py, assets/svrp-paint.js).

The index of a map page carries the page's first view and a static, inert copy of the page, both
made from the page's own layout; these tests check the markup rules and what the index holds.
The browser test (tests/browser/test_first_paint_browser.py) checks the paint and its place.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import dash_leaflet as dl
import pytest
from dash import dcc, html

from dashboard import shell
from dashboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app():
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app

    return create_app(Settings(tiles_url="", data_dir=ROOT / "data"))


def _first(page: str) -> dict | None:
    found = re.search(r'<script type="application/json" id="svrp-first">(.*?)</script>', page)
    return json.loads(found.group(1)) if found else None


def test_fp001_static_html_keeps_markup_and_boxes_drops_ids_and_stores():
    tree = html.Div([
        html.H1("A & B <c>", id="title", className="t", title='say "hi"'),
        dcc.Link("Method", href="/methodology", className="nav"),
        dcc.Store(id="s", data={"x": 1}),
        html.P("gone", hidden=True),
        dcc.Dropdown(id="d", options=[], placeholder="Choose…", className="pick"),
        dcc.Input(id="q", type="search", placeholder="Town", className="box"),
        html.Label("Name", htmlFor="q", style={"marginTop": 4, "fontWeight": "bold"}),
        dcc.Loading(html.Span("inside")),
        dl.Map([dl.GeoJSON(id="g")], id="k-map", bounds=[[52, -2], [53, -1]], className="svrp-map"),
    ], id="root", **{"aria-label": "Page"})
    out = shell.static_html(tree)
    assert out.startswith('<div aria-label="Page"><h1 class="t" title="say &quot;hi&quot;">'
                          "A &amp; B &lt;c&gt;</h1>")
    assert '<a href="/methodology" class="nav">Method</a>' in out
    assert "gone" not in out and "data" not in out and " id=" not in out
    assert '<div class="svrp-shell-box svrp-shell-dropdown pick">Choose…</div>' in out
    assert '<input class="box" type="search" placeholder="Town">' in out
    assert '<label class="" ' not in out
    assert '<label style="margin-top: 4px; font-weight: bold" for="q">Name</label>' in out
    assert "<span>inside</span>" in out
    assert out.endswith('<div class="svrp-map svrp-shell-map"></div></div>')
    # a component given in ``replace`` is rendered with those children instead of its own
    assert shell.static_html(html.Div(html.P("old"), id="slot"), {"slot": html.B("new")}) \
        == "<div><b>new</b></div>"


def test_fp002_first_view_is_the_map_and_its_view_store():
    view = {"key": "k", "band_string": "0123", "geometry": "/data/lsoa21/X.geojson"}
    page = html.Div([dcc.Store(id="k-view", data=view),
                     html.Section(dl.Map([], id="k-map", bounds=[[1, 2], [3, 4]], zoomSnap=0.25))])
    assert shell.first_view(page) == {"key": "k", "view": view, "bounds": [[1, 2], [3, 4]],
                                      "zoomSnap": 0.25}
    assert shell.first_view(html.Div([dl.Map([], id="k-map", bounds=[[1, 2], [3, 4]])])) is None
    assert shell.first_view(html.Div("no map")) is None
    script = shell.first_view_script({"view": {"label": "</script><script>x()"}})
    assert "</script><script>" not in script.removesuffix("</script>")


def test_fp003_map_pages_carry_their_first_view_and_copy(app):
    client = app.server.test_client()
    for path, key, scope in (("/", "ovw", "E10000031"), ("/district/E07000219", "dst", "E10000031"),
                             ("/area/E10000034", "ovw", "E10000034"),
                             ("/area/E08000026/ward/E05001219", "dst", "E08000026"),
                             ("/explore?scope=E07000219", "exp", "E07000219")):
        page = client.get(path).get_data(as_text=True)
        first = _first(page)
        assert first and first["key"] == key, path
        assert first["view"]["geometry"] == f"/data/lsoa21/{scope}.geojson"
        assert len(first["view"]["band_string"]) > 0 and len(first["bounds"]) == 2
        body = page.split("<body>", 1)[1]
        copy = re.search(r'<div id="svrp-shell"[^>]*>', body)
        assert copy and "hidden" in copy.group(0) and "inert" in copy.group(0), path
        assert 'aria-hidden="true"' in copy.group(0)
        # the copy comes before Dash's entry point, has no ids of its own and has the map's box
        assert body.index('id="svrp-shell"') < body.index('id="react-entry-point"')
        inside = body[copy.end():body.index('id="react-entry-point"')]
        assert " id=" not in inside and 'class="svrp-map svrp-shell-map"' in inside, path


def test_fp004_first_view_equals_the_view_the_page_sends(app):
    from app import _page_layout

    with app.server.test_request_context("/area/E10000034"):
        page = _page_layout("/area/E10000034", {"layer": "hotspot"})
        expected = shell.find(page, "ovw-view").data
    got = _first(app.server.test_client().get("/area/E10000034?layer=hotspot").get_data(True))
    assert got["view"]["band_string"] == expected["band_string"]
    assert got["view"]["palette"] == expected["palette"]


def test_fp005_no_first_paint_for_england_other_pages_or_bad_addresses(app):
    client = app.server.test_client()
    for path in ("/explore?scope=england", "/methodology", "/accessibility", "/area/E99999999",
                 "/district/E07000234", '/explore?scope="><script>x</script>'):
        page = client.get(path).get_data(as_text=True)
        assert _first(page) is None and 'id="svrp-shell"' not in page, path


def test_fp006_dash_bundles_wait_for_the_paint_on_map_pages_only(app):
    client = app.server.test_client()
    page = client.get("/").get_data(as_text=True)
    body = page.split("<body>", 1)[1]
    held = re.search(r'<template id="svrp-dash">(.*?)</template>', body)
    assert held, "the overview's bundles are not held for its first paint"
    tags = re.findall(r'<script src="([^"]+)"></script>', held.group(1))
    assert any("dash_renderer" in t for t in tags) and any("/assets/svrp.js" in t for t in tags)
    # nothing outside the template loads a script of Dash's, nor preloads one (svrp-paint.js
    # preloads them once the geometry is in): the template holds the lazily loaded chunks too
    outside = page.replace(held.group(0), "")
    assert not re.search(r'<script[^>]*\ssrc="/_dash-component-suites', outside)
    assert not re.search(r'<link rel="preload" as="script"', outside)
    assert re.search(r'<link rel="preload" as="script" href="[^"]*async-GeoJSON.js">',
                     held.group(1))
    # the only early requests: the geometry (preloaded first) and the three head scripts; the
    # app's stylesheets are in the page
    head = page.split("<body>", 1)[0]
    assert head.index('rel="preload" as="fetch"') < head.index("<script")
    assert '<link rel="stylesheet"' not in head and '<style data-href="/assets/app.css' in head
    # the renderer's text is Dash's own (its CSP hash applies), as data until svrp-paint.js runs
    renderer = re.search(r'<script id="_dash-renderer" type="([^"]+)">(.*?)</script>', body)
    assert renderer.group(1) == "text/plain" and "new DashRenderer" in renderer.group(2)
    # Dash's inline scripts (clientside functions) stay inline, after the template
    assert "_dashprivate_clientside_funcs" in outside
    # a page with no first paint keeps Dash's scripts as Dash writes them
    other = client.get("/methodology").get_data(as_text=True)
    assert 'id="svrp-dash"' not in other
    assert re.search(r'<script src="[^"]*dash_renderer[^"]*"></script>', other)
    assert '<script id="_dash-renderer" type="application/javascript">' in other
    assert '<link rel="stylesheet" href="/assets/app.css' in other


def test_fp008_inline_styles_only_the_apps_own_readable_stylesheets():
    css = ('<link rel="stylesheet" href="/assets/a.css?m=1">'
           '<link rel="stylesheet" href="https://cdn.example/x.css">'
           '<link rel="stylesheet" href="/assets/b.css">')
    texts = {"/assets/a.css?m=1": ".a{color:red}", "/assets/b.css": "p{}</style><script>"}
    out = shell.inline_styles(css, texts.get)
    assert out.startswith('<style data-href="/assets/a.css?m=1">.a{color:red}</style>')
    assert '<link rel="stylesheet" href="https://cdn.example/x.css">' in out  # not ours
    assert '<link rel="stylesheet" href="/assets/b.css">' in out  # would close the <style>


def test_fp007_held_scripts_leaves_what_it_does_not_know_alone():
    renderer = ('<script id="_dash-renderer" type="application/javascript">'
                "var r = new DashRenderer();</script>")
    plain = '<script src="/a.js"></script><script src="/b.js"></script>'
    chunk = '<link rel="preload" href="/c.js">'
    scripts, new_renderer = shell.held_scripts(plain, renderer, chunk)
    assert scripts == f'<template id="svrp-dash">{chunk}{plain}</template>'
    assert 'type="text/plain">var r = new Dash' in new_renderer
    # an external script with other attributes (integrity, a CDN), or a renderer with hooks
    # written differently: the page is left as Dash writes it
    assert shell.held_scripts(plain + '<script src="https://cdn/x.js" integrity="sha"></script>',
                              renderer) is None
    assert shell.held_scripts(plain, "<script>var r = new DashRenderer(hooks);</script>") is None
    assert shell.held_scripts("", renderer) is None
