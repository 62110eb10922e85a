"""The explore page's early geometry: the boot script in <head>, the worker, the result cache.

The worker (``assets/lsoa-worker.js``) is run with Node where it is installed, against the same
projection computed here, so the shapes the canvas draws are where Leaflet would put them.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import shutil
import subprocess
import weakref
from pathlib import Path

import pandas as pd
import pytest

import dashboard.state as state_module
from dashboard.settings import Settings
from dashboard.state import ResultCache, frame_bytes, release_freed_memory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client():
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app

    return create_app(Settings(tiles_url="", data_dir=ROOT / "data")).server.test_client()


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)


def test_cvs001_explore_head_starts_the_worker_on_its_scope(client):
    html = client.get("/explore?scope=E07000219").get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    boot = re.search(r"<script src=\"/assets/svrp-boot.js\"[^>]*>", head)
    assert boot, "no boot script in <head>"
    assert 'data-worker="/assets/lsoa-worker.js"' in boot.group(0)
    assert 'data-geometry="/data/lsoa21/E07000219.geojson"' in boot.group(0)
    # ahead of every Dash bundle: the first paint's script, the worker's code (a small scope is
    # parsed on the page), then boot; none of them added again by Dash
    scripts = _scripts(html)
    assert scripts[:3] == ["/assets/svrp-paint.js", "/assets/lsoa-worker.js",
                           "/assets/svrp-boot.js"]
    assert 'data-on-page="true"' in boot.group(0)
    for name in ("svrp-boot.js", "svrp-paint.js", "lsoa-worker.js"):
        assert sum(name in s for s in scripts) == 1, name
    # England: the worker does it (no worker script on the page, no data-on-page)
    england = client.get("/explore?scope=england").get_data(as_text=True).split("</head>", 1)[0]
    assert "data-on-page" not in england and "lsoa-worker.js\"></script>" not in england
    assert 'data-geometry="/data/lsoa21/england.geojson"' in england
    assert any("svrp-canvas.js" in s for s in scripts) and any("/svrp.js" in s for s in scripts)
    # the geometry is preloaded first of all, once, at high priority (the worker's request is
    # then answered by the browser's cache: test_first_paint checks it is downloaded once)
    preloads = re.findall(r'<link rel="preload" as="fetch"[^>]*href="(/data/[^"]+)"', head)
    assert preloads == ["/data/lsoa21/E07000219.geojson"]
    assert head.index(preloads[0]) < head.index("svrp-paint.js")
    assert client.get("/assets/lsoa-worker.js").status_code == 200


def test_cvs002_every_map_page_names_its_geometry_and_bad_scopes_none(client):
    # the overview and district pages draw the county with the same canvas layer and worker
    for path, scope in (("/", "E10000031"), ("/district/E07000219", "E10000031"),
                        ("/area/E10000034", "E10000034"),
                        ("/area/E08000026/ward/E05001219", "E08000026")):
        page = client.get(path).get_data(as_text=True)
        head = page.split("</head>", 1)[0]
        assert f'data-geometry="/data/lsoa21/{scope}.geojson"' in head, path
        # preloaded once for the worker; the lazy chunks are preloaded too, once the geometry
        # is in (held with Dash's bundles for the first paint: test_first_paint fp006)
        assert len(re.findall(r'<link rel="preload" as="fetch"[^>]*href="/data/', head)) == 1
        assert 'as="script" href="/_dash-component-suites/dash_leaflet/async-GeoJSON.js"' in page
    methodology = client.get("/methodology").get_data(as_text=True).split("</head>", 1)[0]
    assert "svrp-boot.js" in methodology and "data-geometry" not in methodology
    bad = client.get('/explore?scope="><script>x</script>').get_data(as_text=True)
    head = bad.split("</head>", 1)[0]
    assert "data-geometry" not in head and "<script>x</script>" not in head


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(rows)})


def test_cvs003_result_cache_keeps_under_its_byte_budget():
    one = int(_frame(1000).memory_usage(deep=True).sum())
    cache = ResultCache(int(one * 2.5))
    made = []

    def make(key):
        made.append(key)
        return _frame(1000)

    for key in "abc":
        cache.get(key, lambda key=key: make(key))
    assert len(cache) == 2 and cache.nbytes <= cache.budget  # "a" went first
    cache.get("b", lambda: make("b2"))  # a hit: not recomputed, now most recent
    cache.get("d", lambda: make("d"))  # evicts "c", the least recently used
    cache.get("b", lambda: make("b3"))
    cache.get("c", lambda: make("c2"))
    assert made == ["a", "b", "c", "d", "c2"]
    # one result over the whole budget is still kept (and replaces the rest)
    big = ResultCache(10)
    big.get("x", lambda: _frame(1000))
    assert len(big) == 1


def test_cvs006_an_evicted_result_is_let_go_and_the_heap_trimmed(monkeypatch):
    """What the cache drops is unreferenced before the C heap is trimmed (release_freed_memory)."""
    one = int(_frame(1000).memory_usage(deep=True).sum())
    cache = ResultCache(int(one * 1.5))
    trims = []
    alive = []

    def trim():
        alive.append(first() is not None)
        trims.append(len(cache))

    monkeypatch.setattr(state_module, "release_freed_memory", trim)
    first = weakref.ref(cache.get("a", lambda: _frame(1000)))
    cache.get("a", lambda: _frame(1000))  # a hit: nothing dropped, no trim
    assert trims == [] and first() is not None
    cache.get("b", lambda: _frame(1000))  # "a" goes
    assert trims == [1] and alive == [False] and first() is None
    release_freed_memory()  # the real one: a no-op where the C library has no malloc_trim


def test_cvs005_frame_bytes_sizes_text_columns_from_a_sample():
    frame = pd.DataFrame({"code": [f"E{i:08d}" for i in range(5000)], "x": range(5000)})
    deep = int(frame.memory_usage(deep=True).sum())
    assert 0.8 * deep <= frame_bytes(frame) <= 1.2 * deep
    numbers = _frame(1000)
    assert frame_bytes(numbers) == int(numbers.memory_usage(deep=True).sum())


def _project(lon: float, lat: float, z: int = 12) -> tuple[float, float]:
    """Leaflet's EPSG:3857 pixel at zoom z (its latitude clamp), as the worker computes it."""
    scale = 256 * 2**z
    s = math.sin(math.radians(max(min(85.0511287798, lat), -85.0511287798)))
    return scale * (0.5 + lon / 360), scale * (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
def test_cvs004_worker_projects_every_vertex_as_leaflet_does(tmp_path):
    gz = ROOT / "data/boundaries/england_lsoa21_web.geojson.gz"
    geo = json.loads(gzip.decompress(gz.read_bytes()))
    geo["features"] = [f for f in geo["features"] if f["properties"]["lad24_code"] == "E07000219"]
    src = tmp_path / "nuneaton.geojson"
    src.write_text(json.dumps(geo))
    runner = tmp_path / "run.js"
    runner.write_text(
        "global.window = global; global.self = global;\n"
        f"require({json.dumps(str(ROOT / 'assets/lsoa-worker.js'))});\n"
        "global.fetch = async (u) => ({ok: true, json: async () => "
        "JSON.parse(require('fs').readFileSync(u, 'utf8'))});\n"
        f"window.svrpLoadGeometry({json.dumps(str(src))}).then((o) => console.log(JSON.stringify("
        "{n: o.n, z: o.z, x0: o.x0, y0: o.y0, coords: Array.from(o.coords), "
        "rings: Array.from(o.rings), parts: Array.from(o.parts), bbox: Array.from(o.bbox), "
        "codes: o.props.lsoa21_code})));\n"
    )
    out = json.loads(subprocess.run(["node", str(runner)], capture_output=True, text=True,
                                     check=True, timeout=60).stdout)
    assert out["n"] == len(geo["features"]) == len(out["codes"]) == len(out["parts"]) - 1
    assert out["codes"] == [f["properties"]["lsoa21_code"] for f in geo["features"]]
    for f_i, feature in enumerate(geo["features"]):
        rings = [r for poly in feature["geometry"]["coordinates"] for r in poly]
        first, last = out["parts"][f_i], out["parts"][f_i + 1]
        assert last - first == len(rings)
        xs, ys = [], []
        for r_i, ring in zip(range(first, last), rings, strict=True):
            a, b = out["rings"][r_i], out["rings"][r_i + 1]
            assert b - a == len(ring)
            for v, (lon, lat) in zip(range(a, b), ring, strict=True):
                x, y = _project(lon, lat)
                got = out["coords"][2 * v] + out["x0"], out["coords"][2 * v + 1] + out["y0"]
                assert abs(got[0] - x) < 0.01 and abs(got[1] - y) < 0.01  # Float32: < 1/100 px
                xs.append(got[0] - out["x0"])
                ys.append(got[1] - out["y0"])
        box = out["bbox"][4 * f_i: 4 * f_i + 4]
        assert box == pytest.approx([min(xs), min(ys), max(xs), max(ys)], abs=1e-3)
