"""Helpers for browser tests: screenshots and polling."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"


def screenshot(drv, name: str) -> Path:
    """Save a screenshot under artifacts/screenshots/ (kept as a test artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    drv.save_screenshot(str(path))
    return path


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns something truthy; return it."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
        except Exception:  # noqa: BLE001 - element may be mid-render
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(message or f"timed out after {timeout} s")


def find(drv, css: str, timeout: float = 15.0, message: str = ""):
    """The first element matching ``css``, once there is one.

    For Dash's lazily loaded components (a dcc.Slider and its number box among them): they can
    render a moment after the map has drawn, so a test must not look them up just once.
    """
    from selenium.webdriver.common.by import By

    return wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, css), timeout=timeout,
                    message=message or f"nothing matches {css}")[0]


def console_errors(drv) -> list[dict]:
    """SEVERE browser-console entries since the last call (the log is drained by reading it).

    With tiles off there are no tile requests, so nothing needs ignoring; if a basemap is ever
    turned on in a test, its offline tile failures would appear here and must be filtered with a
    comment saying why.
    """
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


PAGE_404 = re.compile(r"^https?://[^/\s]+(/(?!_dash|assets/|data/|_reload)[^\s]*)? - "
                      r"Failed to load resource: the server responded with a status of 404")


def page_status_404(entry: dict) -> bool:
    """A console entry that is only a page address answering 404 (a bad link's friendly page).

    Bad links answer 404 with the app's "not found" page on purpose (issue 15); Chromium logs
    that status as an error. A 404 for a script, style, callback or data route is still an error.
    """
    return entry.get("source") == "network" and bool(PAGE_404.match(entry.get("message", "")))


def assert_no_console_errors(drv) -> None:
    """Fail with the messages if the browser console logged errors."""
    errors = console_errors(drv)
    assert not errors, "browser console errors:\n" + "\n".join(e["message"] for e in errors)


# --------------------------------------------------------------------------- the LSOA canvas
# Every map page draws its LSOAs with the one canvas layer (assets/svrp-canvas.js): no DOM
# element per shape, so tests read the shapes' current styles from svrp.registry[key] (what the
# canvas paints, see canvas_colours) and send real mouse events to the canvas at a point inside
# an LSOA (mouse).

MARKS_JS = "return (window.svrp && window.svrp.marks && window.svrp.marks[arguments[0]]) || null;"
# Current style of every registered LSOA shape of a map: {code: {fill, dash, ...}}.
STYLES_JS = """
const reg = (window.svrp && window.svrp.registry[arguments[0]]) || {};
const out = {};
Object.keys(reg).forEach(function (c) {
    const o = reg[c].options;
    out[c] = {fill: o.fillColor, dash: o.dashArray || "", color: o.color, weight: o.weight,
              fillOpacity: o.fillOpacity, stroke: o.stroke};
});
return out;
"""
# Pixels of each palette colour painted on a map's LSOA canvas (every 3rd pixel sampled).
CANVAS_COLOURS_JS = """
const canvas = document.querySelector('#' + arguments[0] + '-map .leaflet-svrpLsoas-pane canvas');
if (!canvas) { return null; }
const ctx = canvas.getContext('2d');
const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
const out = {};
const palette = arguments[1];
const tol = arguments[2];
const rgb = palette.map(h => [1, 3, 5].map(k => parseInt(h.slice(k, k + 2), 16)));
for (let i = 0; i < d.length; i += 12) {
    if (d[i + 3] < 100) { continue; }
    for (let k = 0; k < rgb.length; k++) {
        const c = rgb[k];
        if (Math.abs(c[0] - d[i]) + Math.abs(c[1] - d[i + 1]) + Math.abs(c[2] - d[i + 2]) < tol) {
            out[palette[k]] = (out[palette[k]] || 0) + 1;
            break;
        }
    }
}
return out;
"""


def marks(drv, key: str) -> dict | None:
    """``window.svrp.marks[key]``: drawn/restyled timings and the feature count."""
    return drv.execute_script(MARKS_JS, key)


def wait_drawn(drv, key: str, expected: int, timeout: float = 30.0) -> dict:
    """Wait until the map ``key`` has drawn ``expected`` LSOAs on its canvas; its marks."""
    return wait_for(lambda: (m := marks(drv, key)) and m.get("features") == expected
                    and m.get("drawn") and m, timeout=timeout,
                    message=f"{expected} LSOAs not drawn on the {key} map")


def styles(drv, key: str) -> dict[str, dict]:
    """Style of every LSOA on the map ``key``: {code: {fill, dash, color, weight, ...}}."""
    return drv.execute_script(STYLES_JS, key) or {}


def fills(drv, key: str) -> dict[str, str]:
    """Fill colour of every LSOA on the map ``key``."""
    return {c: s["fill"] for c, s in styles(drv, key).items()}


def canvas_colours(drv, key: str, palette, tolerance: int = 12) -> dict[str, int] | None:
    """Sampled pixel count of each palette colour on the map's LSOA canvas (None: no canvas)."""
    return drv.execute_script(CANVAS_COLOURS_JS, key, list(palette), tolerance)


_SHAPES: dict[str, dict] = {}


def interior_point(code: str) -> list[float]:
    """A [lat, lon] inside an LSOA's web shape (shapely's representative point)."""
    import shapely.geometry

    if not _SHAPES:
        import gzip
        import json

        blob = (ROOT / "data/boundaries/england_lsoa21_web.geojson.gz").read_bytes()
        for f in json.loads(gzip.decompress(blob))["features"]:
            _SHAPES[f["properties"]["lsoa21_code"]] = f["geometry"]
    if code not in _SHAPES:
        raise AssertionError(f"{code} not in the web geometry")
    p = shapely.geometry.shape(_SHAPES[code]).representative_point()
    return [p.y, p.x]


def mouse(drv, key: str, code: str, *events: str) -> None:
    """Real mouse events on the map's LSOA canvas at a point inside ``code``'s shape, in order.

    The map is first panned so the point is in view (a shape may lie outside a zoomed map).
    """
    drv.execute_script(
        """
        const layer = window.svrp.registry[arguments[0]][arguments[1]];
        const map = layer._map;
        if (!map.getBounds().pad(-0.05).contains(arguments[2])) {
            map.setView(arguments[2], map.getZoom(), {animate: false});
        }
        const p = map.latLngToContainerPoint(arguments[2]);
        const box = map.getContainer().getBoundingClientRect();
        const canvas = map.getContainer().querySelector('.leaflet-svrpLsoas-pane canvas');
        const opts = {bubbles: true, cancelable: true, clientX: box.left + p.x,
                      clientY: box.top + p.y, view: window};
        arguments[3].forEach(function (type) { canvas.dispatchEvent(new MouseEvent(type, opts)); });
        """,
        key,
        code,
        interior_point(code),
        list(events),
    )


def click_lsoa(drv, key: str, code: str) -> None:
    """Hover and click an LSOA on the map's canvas, as a person does."""
    mouse(drv, key, code, "mousemove", "mousedown", "mouseup", "click")


@contextmanager
def running_app(extra_env: dict[str, str] | None = None, timeout: float = 90):
    """Run ``python app.py`` (as ``make run`` does) on a free port with no basemap tiles.

    Yields its URL once it answers; ``extra_env`` adds settings (e.g. ``SVRP_DATA_DIR``). The
    app's output is shown if it exits or does not answer within ``timeout`` seconds.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SVRP_PORT": str(port), "SVRP_TILES_URL": "", "SVRP_DEBUG": "false",
           "DASH_DISABLE_VERSION_CHECK": "true", **(extra_env or {})}
    log = tempfile.TemporaryFile(mode="w+")  # app output, shown if it fails to start
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"app.py exited early:\n{log.read()}")
        try:
            urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 - loopback only
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"app.py did not answer within {timeout:g} s")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
