"""The first paint (issue 12): a map page's LSOAs on screen before Dash starts, in its place.

The index of a map page carries the page's first view and a static copy of the page
(``dashboard/shell.py``); ``assets/svrp-paint.js`` paints the copy's map as soon as the web
worker has the geometry, and ``assets/svrp-canvas.js`` removes the copy once the live map has
drawn. These tests check, in headless Chromium at 1280x720 (a shared screen), that the copy's
map sits exactly where the live map draws, at the same zoom, in the same colours; that it goes
when the live map is up; that the geometry is downloaded once; and, with Dash's renderer
blocked, that the copy alone shows the coloured map (a screenshot is kept).
"""

from __future__ import annotations

import pytest
from browserkit import screenshot, wait_for

from dashboard.state import PALETTE

pytestmark = pytest.mark.browser

RECT_JS = """
const e = document.querySelector(arguments[0]);
if (!e) { return null; }
const r = e.getBoundingClientRect();
return [r.left, r.top, r.width, r.height];"""
ZOOM_JS = """
const reg = window.svrp.registry[arguments[0]] || {};
const s = Object.values(reg)[0];
return s && s._map ? s._map.getZoom() : null;"""
# Palette colours on a canvas (sampled every 3rd pixel), as browserkit.canvas_colours does.
COLOURS_JS = """
const canvas = document.querySelector(arguments[0]);
if (!canvas) { return null; }
const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
const rgb = arguments[1].map(h => [1, 3, 5].map(k => parseInt(h.slice(k, k + 2), 16)));
const out = {};
for (let i = 0; i < d.length; i += 12) {
    if (d[i + 3] < 100) { continue; }
    for (let k = 0; k < rgb.length; k++) {
        const c = rgb[k];
        if (Math.abs(c[0] - d[i]) + Math.abs(c[1] - d[i + 1]) + Math.abs(c[2] - d[i + 2]) < 12) {
            out[arguments[1][k]] = (out[arguments[1][k]] || 0) + 1;
            break;
        }
    }
}
return out;"""
PAGES = (
    ("/", "ovw"),
    ("/area/E10000034", "ovw"),  # Worcestershire
    ("/area/E08000026", "ovw"),  # Coventry, by ward
    ("/district/E07000219", "dst"),
    ("/area/E10000034/district/E07000234", "dst"),
    ("/explore?scope=E07000219", "exp"),
)


def _marks(drv, key):
    return drv.execute_script("return (window.svrp && window.svrp.marks[arguments[0]]) || null;",
                              key)


@pytest.fixture
def small(page):
    page.set_window_size(1280, 720)
    yield page
    page.set_window_size(1600, 1000)


@pytest.mark.parametrize(("path", "key"), PAGES)
def test_fpb001_first_paint_is_where_and_as_the_live_map_draws(small, server, path, key):
    drv = small
    drv.get(server + path)
    live = wait_for(lambda: (m := _marks(drv, key)) and m.get("drawn") and m, timeout=45,
                    message=f"{path}: the live map did not draw")
    wait_for(lambda: _marks(drv, key).get("painted"), timeout=5,
             message=f"{path}: no first paint before the live map")
    m = _marks(drv, key)
    assert m["painted"] <= live["drawn"] and m["painted_features"] == live["features"]
    rect = drv.execute_script(RECT_JS, f"#{key}-map")
    assert all(abs(a - b) <= 1 for a, b in zip(m["painted_rect"], rect, strict=True)), \
        f"{path}: first paint at {m['painted_rect']}, live map at {rect}"
    assert m["painted_zoom"] == drv.execute_script(ZOOM_JS, key), path
    # the copy has gone, and the geometry came once: parsed on the page from its preload (one
    # download in the page's list), as a small scope should be
    assert drv.execute_script("return document.getElementById('svrp-shell');") is None
    via = drv.execute_script("return window.svrpBoot.via;")
    assert list(via.values()) == ["page"], via
    downloads = drv.execute_script(
        "return performance.getEntriesByName(new URL(arguments[0], location.href).href).length;",
        next(iter(via)))
    assert downloads == 1


def test_fpb002_the_copy_alone_shows_the_coloured_map(fresh_driver, server):
    drv = fresh_driver
    drv.set_window_size(1280, 720)
    drv.get(server + "/")
    wait_for(lambda: (_marks(drv, "ovw") or {}).get("drawn"), timeout=45)
    live = drv.execute_script(COLOURS_JS, "#ovw-map .leaflet-svrpLsoas-pane canvas", PALETTE)
    # Dash's renderer blocked: the copy stays, painted, and nothing live is drawn
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*dash_renderer*"]})
    try:
        drv.get(server + "/")
        wait_for(lambda: (_marks(drv, "ovw") or {}).get("painted"), timeout=30,
                 message="no first paint with Dash's renderer blocked")
        shot = screenshot(drv, "first-paint-overview-1280x720")
        assert shot.stat().st_size > 10_000
        copy = drv.execute_script(COLOURS_JS, "#svrp-shell .svrp-shell-map canvas", PALETTE)
        assert drv.execute_script("return document.querySelector('.leaflet-container');") is None
        assert drv.execute_script(
            "return getComputedStyle(document.getElementById('svrp-shell')).display;") != "none"
    finally:
        drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    # every band on the live map is on the copy, in about the same area
    assert set(copy) == set(live) and len(live) >= 3, (copy, live)
    for colour, n in live.items():
        if n > 300:
            assert abs(copy[colour] - n) <= 0.1 * n, (colour, copy[colour], n)


DASH_JS = "return window.svrp && window.svrp.dash ? window.svrp.dash : null;"


def test_fpb003_dash_starts_after_the_paint_or_without_it(fresh_driver, server):
    drv = fresh_driver
    drv.set_window_size(1280, 720)
    drv.get(server + "/")
    marks = wait_for(lambda: (m := _marks(drv, "ovw")) and m.get("drawn") and m, timeout=45)
    dash = drv.execute_script(DASH_JS)
    assert dash["why"] == "painted" and dash["started"] >= marks["painted"], (dash, marks)
    # a page with no first paint: Dash's scripts run as Dash writes them
    drv.get(server + "/methodology")
    rendered = "return !!document.querySelector('#react-entry-point h1');"
    wait_for(lambda: drv.execute_script(rendered), timeout=30,
             message="the methodology page did not render")
    assert drv.execute_script(DASH_JS)["started"] == 0
    # the geometry refused: nothing to paint, and Dash starts at once all the same
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*.geojson*"]})
    try:
        drv.get(server + "/")
        dash = wait_for(lambda: (d := drv.execute_script(DASH_JS)) and d.get("started") and d,
                        timeout=30, message="Dash did not start without the geometry")
        assert dash["why"] == "no geometry", dash
        wait_for(lambda: drv.execute_script("return !!document.getElementById('ovw-panel');"),
                 timeout=30, message="the overview did not render without its geometry")
    finally:
        drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
