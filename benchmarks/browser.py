"""Browser benchmark: the app against a bare Leaflet page drawing the same geometry (the floor).

Starts the app (``app.py``, tiles off) on a free port and, for each target page, opens a fresh
headless Chromium per run (new profile, so nothing is cached) and reads the marks that
``assets/svrp.js`` sets in ``window.svrp.marks[key]``:

- first draw: ``drawn`` (ms since navigation start) once ``features`` reaches the full count;
- recolour: a weight typed into the page's number box (``performance.now()`` recorded just
  before), to the ``restyled`` mark of the last in-place restyle it caused;
- bytes: PerformanceResourceTiming of the geometry URL and of the ``_dash-update-component``
  responses the change caused; their bodies are re-posted with requests to report what gzip would
  make of them (Dash does not compress responses);
- server: resident memory of the app process (after start, after each page, peak) and the time to
  score (``benchmarks.scoring``).

The bare page (``benchmarks/bare/``, vendored Leaflet 1.9.4 with ``preferCanvas: true``) is served
by a small threaded ``http.server`` with the bytes the app serves at the same geometry URL (same
gzip ``Content-Encoding``), and bands from the same scoring, as an array in feature order.

Usage: ``python -m benchmarks.browser [--runs N] [--only TEXT] [--out PATH]``
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BARE_DIR = Path(__file__).resolve().parent / "bare"
OUT = ROOT / "artifacts" / "bench" / "browser.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
RUNS = 5  # single first paints of the overview range 1x-1.8x the bare page: 3 is too few
DRAW_TIMEOUT_S = 90.0
RECOLOUR_TIMEOUT_S = 30.0
QUIET_S = 0.8  # no new network request for this long: the page has settled
# Weights typed into the box, one per run, so the server's score cache never answers a run.
WEIGHT_VALUES = (0.5, 0.75, 1.25, 1.5, 1.75, 2.25, 2.5, 2.75, 3.25, 3.5, 3.75, 4.25, 4.5)
ENGLAND_FILE = ROOT / "data" / "boundaries" / "england_lsoa21_web.geojson.gz"


@dataclass(frozen=True)
class Target:
    """One app page to measure, and how the bare page reproduces its map.

    ``weight`` is a CSS selector for the number box of one weight; ``scope`` and ``reference``
    are passed to ``score_scope`` for the bare page's bands. ``fallback`` is a local gzipped file
    the bare page draws when the app does not serve ``geometry`` (yet). ``stroke`` is whether the
    bare page draws outlines (the app drops them at national zoom).
    """

    name: str
    path: str
    key: str
    geometry: str
    weight: str
    scope: str
    reference: str
    stroke: bool = True
    fallback: Path | None = None
    limits: dict[str, float] = field(default_factory=dict)


def weight_box(page: str, indicator: str = "violence_with_injury") -> str:
    """CSS selector of the number box next to one weight slider of a page (``<page>-weight``)."""
    return f"""[id*='"id":"{indicator}"'][id*='"type":"{page}-weight"'] input[type=number]"""


# England limits from issue 4: first draw <= 1.3 x bare and < 3 s; recolour < 400 ms; recolour
# payload < 150 kB compressed; server RSS < 600 MB with England loaded.
ENGLAND_LIMITS = {
    "draw_ms": 3000.0,
    "draw_ratio": 1.3,
    "recolour_ms": 400.0,
    "payload_gz_kb": 150.0,
}
# Issue 12: the overview's first draw within 1.3 x the bare page for the same geometry. The app
# first paints the map from a static copy of the page before Dash starts (dashboard/shell.py),
# then draws the live map: the goal is on that first paint, and the live draw is reported beside.
OVERVIEW_LIMITS = {"paint_ratio": 1.3}
TARGETS = (
    Target(
        "Warwickshire overview",
        "/",
        "ovw",
        "/data/lsoa21/E10000031.geojson",
        weight_box("ovw"),
        "warwickshire",
        "county",
        limits=OVERVIEW_LIMITS,
    ),
    Target(
        "Warwickshire explore",
        "/explore?scope=warwickshire",
        "exp",
        "/data/lsoa21/E10000031.geojson",
        weight_box("exp"),
        "warwickshire",
        "county",
    ),
    Target(
        "England explore",
        "/explore?scope=england&ref=england",
        "exp",
        "/data/lsoa21/england.geojson",
        weight_box("exp"),
        "england",
        "england",
        stroke=False,
        fallback=ENGLAND_FILE,
        limits=ENGLAND_LIMITS,
    ),
)
LIMITS = {"score_england_ms": 50.0, "rss_mb": 600.0}


# --------------------------------------------------------------------------- pure helpers


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None; None when there are none."""
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def ratio(app: float | None, bare: float | None) -> float | None:
    """``app / bare``, or None when either is missing or the floor is zero."""
    if app is None or bare is None or bare == 0:
        return None
    return app / bare


def verdict(value: float | None, limit: float | None) -> str:
    """``pass`` when ``value`` is at most ``limit``, ``fail`` above it, ``n/a`` when unmeasured."""
    if limit is None:
        return ""
    if value is None:
        return "n/a"
    return "pass" if value <= limit else "fail"


def fmt(value: float | None, unit: str = "") -> str:
    """A number for the table: thousands separated, 2 decimals below 10, else none."""
    if value is None:
        return "–"
    text = f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{text}{unit}"


@dataclass
class Row:
    """One line of the results table."""

    target: str
    metric: str
    app: float | None
    bare: float | None = None
    goal: str = ""
    result: str = ""
    unit: str = ""
    with_ratio: bool = True

    def cells(self) -> list[str]:
        """The row as table cells: target, metric, app, bare, ratio, goal, result."""
        r = ratio(self.app, self.bare) if self.with_ratio else None
        return [
            self.target,
            self.metric,
            fmt(self.app, self.unit),
            fmt(self.bare, self.unit) if self.bare is not None else "–",
            f"{r:.2f}×" if r is not None else "–",
            self.goal,
            self.result,
        ]


HEADER = [
    "target",
    "metric",
    "app (median)",
    "bare Leaflet (median)",
    "app / bare",
    "goal",
    "result",
]


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table (numbers right-aligned)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|---:|---:|---:|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def gzip_size(body: bytes) -> int:
    """Size of ``body`` gzipped at level 6 (what a compressing server would typically send)."""
    return len(gzip.compress(body, compresslevel=6, mtime=0))


# --------------------------------------------------------------------------- machine and app


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python and load average (Chromium's version is added later)."""
    import psutil

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": model,
        "cores": f"{psutil.cpu_count()} logical, {psutil.cpu_count(logical=False)} physical",
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "load average at start": load,
    }


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """The dashboard as a subprocess (tiles off), with its memory sampled in a thread."""

    def __init__(self, log_path: Path, root: Path = ROOT) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self, timeout: float = 240.0) -> float:
        """Start ``app.py`` and wait until ``/`` answers; returns the start-up time in seconds."""
        import psutil
        import requests

        env = {
            **os.environ,
            "SVRP_PORT": str(self.port),
            "SVRP_TILES_URL": "",
            "SVRP_DEBUG": "false",
            "DASH_DISABLE_VERSION_CHECK": "true",
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        start = time.perf_counter()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "app.py"], cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self._ps = psutil.Process(self.proc.pid)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the app exited with code {self.proc.returncode} during start-up; "
                    f"see {self.log_path}"
                )
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return time.perf_counter() - start
            except requests.RequestException:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the app did not answer on {self.url} within {timeout:.0f} s")

    def check(self) -> None:
        """Raise if the app process has gone (so a run does not fail with a browser error)."""
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise RuntimeError(f"the app is not running (exit code {code}); see {self.log_path}")

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, self.rss())
            except Exception:  # noqa: BLE001 - the process may be gone; sampling just ends
                return
            time.sleep(0.05)

    def rss(self) -> int:
        """Resident memory of the app process and any children, in bytes."""
        procs = [self._ps, *self._ps.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs)

    def stop(self) -> None:
        """Stop the sampler and the app (terminate, then kill after 10 s)."""
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class BareServer:
    """A threaded ``http.server`` for the bare page, its vendored Leaflet, geometry and bands.

    Geometry is served as stored (already gzipped) with ``Content-Encoding: gzip``, like the app.
    """

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, dict[str, str]]] = {}
        for name, mime in (
            ("index.html", "text/html; charset=utf-8"),
            ("bare.js", "text/javascript"),
            ("vendor/leaflet.js", "text/javascript"),
            ("vendor/leaflet.css", "text/css"),
        ):
            self.files["/" + name] = ((BARE_DIR / name).read_bytes(), {"Content-Type": mime})
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path not in files:
                    self.send_error(404)
                    return
                body, headers = files[path]
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add_geometry(self, name: str, gz: bytes) -> str:
        """Serve gzipped GeoJSON at ``/geometry/<name>.geojson``; returns the path."""
        path = f"/geometry/{name}.geojson"
        self.files[path] = (
            gz,
            {
                "Content-Type": "application/geo+json",
                "Content-Encoding": "gzip",
                "Vary": "Accept-Encoding",
            },
        )
        return path

    def add_json(self, name: str, data) -> str:
        """Serve ``data`` as JSON at ``/data/<name>.json``; returns the path."""
        path = f"/data/{name}.json"
        self.files[path] = (json.dumps(data).encode(), {"Content-Type": "application/json"})
        return path

    def stop(self) -> None:
        """Shut the server down."""
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- the browser


class Browser:
    """A headless Chromium with a fresh, throw-away profile (nothing cached between runs)."""

    def __init__(self) -> None:
        from selenium import webdriver

        self.profile = tempfile.mkdtemp(prefix="svrp-bench-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        self.driver = webdriver.Chrome(options=options)
        self.driver.set_script_timeout(RECOLOUR_TIMEOUT_S + 5)

    @property
    def version(self) -> str:
        """Chromium's version as the driver reports it."""
        return self.driver.capabilities.get("browserVersion", "?")

    def js(self, script: str, *args):
        """Run ``script`` in the page and return its value."""
        return self.driver.execute_script(script, *args)

    def close(self) -> None:
        """Quit Chromium and delete its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


class Skip(Exception):
    """A target that cannot be measured (yet); the message says why."""


MARKS_JS = "return (window.svrp && window.svrp.marks && window.svrp.marks[arguments[0]]) || null;"
RESOURCES_JS = """
return performance.getEntriesByType('resource').map(function (e) {
    return {name: e.name, start: e.startTime, end: e.responseEnd, transfer: e.transferSize,
            encoded: e.encodedBodySize, decoded: e.decodedBodySize};
});"""
# Geometry fetched by the explore page's web worker (not in the page's resource list): the
# timings svrp-canvas.js keeps, in ms since the epoch, turned into ms since navigation.
WORKER_RESOURCES_JS = """
const t = (window.svrpBoot && window.svrpBoot.timings) || {};
return Object.keys(t).map(function (url) {
    const e = t[url];
    return {name: url, start: e.start - performance.timeOrigin, end: e.end - performance.timeOrigin,
            transfer: e.transfer, encoded: e.encoded, decoded: e.decoded};
});"""
# Record the body of every Dash callback request, so the harness can re-post it for the gzip size.
HOOK_FETCH_JS = """
window.__bench = {bodies: []};
const original = window.fetch;
window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (url.indexOf('_dash-update-component') >= 0 && init && typeof init.body === 'string') {
        window.__bench.bodies.push(init.body);
    }
    return original.apply(this, arguments);
};"""
# Type a weight into the number box the way a person does (value, input, Enter, blur); returns
# performance.now() recorded just before.
TYPE_WEIGHT_JS = """
const box = document.querySelector(arguments[0]);
if (!box) { return null; }
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
box.focus();
const t0 = performance.now();
setter.call(box, String(arguments[1]));
box.dispatchEvent(new Event('input', {bubbles: true}));
box.dispatchEvent(new KeyboardEvent('keydown',
                                    {key: 'Enter', code: 'Enter', keyCode: 13, bubbles: true}));
box.dispatchEvent(new Event('change', {bubbles: true}));
box.blur();
return t0;"""
NOT_FOUND_JS = "return !!document.getElementById('nf-text');"
MAP_SIZE_JS = """
const m = document.querySelector('.leaflet-container');
if (!m) { return null; }
const r = m.getBoundingClientRect();
return [Math.round(r.width), Math.round(r.height)];"""


def wait_for(fn: Callable[[], object], timeout: float, every: float = 0.05):
    """Poll ``fn`` until it returns something truthy; None after ``timeout`` seconds."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        got = fn()
        if got:
            return got
        time.sleep(every)
    return None


def wait_quiet(browser: Browser, quiet: float = QUIET_S, timeout: float = 20.0) -> None:
    """Wait until the page has started no network request for ``quiet`` seconds."""
    end = time.perf_counter() + timeout
    last, since = -1, time.perf_counter()
    while time.perf_counter() < end:
        n = browser.js("return performance.getEntriesByType('resource').length;")
        if n != last:
            last, since = n, time.perf_counter()
        elif time.perf_counter() - since >= quiet:
            return
        time.sleep(0.05)


@dataclass
class Run:
    """What one navigation run measured (None where it could not)."""

    draw_ms: float | None = None
    paint_ms: float | None = None  # the static copy's LSOAs on screen (assets/svrp-paint.js)
    features: int | None = None
    geometry_transfer: int | None = None
    geometry_encoded: int | None = None
    geometry_decoded: int | None = None
    geometry_end_ms: float | None = None
    recolour_ms: float | None = None
    restyles: int = 0
    payload_transfer: int | None = None
    payload_body: int | None = None
    payload_gz: int | None = None
    requests: int = 0
    map_size: tuple[int, int] | None = None
    detail: str = ""


def measure(
    browser: Browser,
    url: str,
    key: str,
    geometry: str,
    expected: int,
    change: Callable[[Browser], float | None],
    repost: Callable[[list[str]], tuple[int, int]] | None = None,
) -> Run:
    """Navigate, wait for the full draw, then make one change and wait for its restyle."""
    run = Run()
    browser.driver.get(url)

    def drawn():
        if browser.js(NOT_FOUND_JS):
            raise Skip("the page shows 'Page not found' (not built yet?)")
        m = browser.js(MARKS_JS, key)
        return m if m and m.get("drawn") and m.get("features") == expected else None

    marks = wait_for(drawn, DRAW_TIMEOUT_S)
    if not marks:
        m = browser.js(MARKS_JS, key) or {}
        error = browser.js("return window.bare ? window.bare.error : null;")
        raise Skip(
            f"no full draw of {expected:,} features within {DRAW_TIMEOUT_S:.0f} s "
            f"(marks[{key!r}] = {m}{', error: ' + error if error else ''})"
        )
    run.draw_ms, run.features = marks["drawn"], marks["features"]
    time.sleep(0.05)  # marks are written on the next animation frame
    painted = (browser.js(MARKS_JS, key) or {}).get("painted")
    run.paint_ms = painted if painted and painted <= run.draw_ms else None
    if "parsed" in marks and "built" in marks:
        run.detail = (
            f" (JSON parsed at {fmt(marks['parsed'])}, layers built at {fmt(marks['built'])})"
        )
    elif "built_from" in marks:
        run.detail = f" (shapes made from {fmt(marks['built_from'])})"
    size = browser.js(MAP_SIZE_JS)
    run.map_size = tuple(size) if size else None
    wait_quiet(browser)
    for e in browser.js(RESOURCES_JS) + (browser.js(WORKER_RESOURCES_JS) or []):
        if e["name"].split("?", 1)[0].endswith(geometry):
            run.geometry_transfer, run.geometry_encoded = e["transfer"], e["encoded"]
            run.geometry_decoded, run.geometry_end_ms = e["decoded"], e["end"]

    before = browser.js(MARKS_JS, key) or {}
    browser.js(HOOK_FETCH_JS)
    t0 = change(browser)
    if t0 is None:
        raise Skip("the weight box was not found on the page")
    done = wait_for(
        lambda: (browser.js(MARKS_JS, key) or {}).get("restyles", 0) > before.get("restyles", 0),
        RECOLOUR_TIMEOUT_S,
        every=0.02,
    )
    if not done:
        return run
    wait_quiet(browser)
    after = browser.js(MARKS_JS, key)
    run.recolour_ms = after["restyled"] - t0
    run.restyles = after.get("restyles", 0) - before.get("restyles", 0)
    calls = [
        e
        for e in browser.js(RESOURCES_JS)
        if "_dash-update-component" in e["name"] and e["start"] >= t0
    ]
    run.requests = len(calls)
    if repost is not None:
        run.payload_transfer = sum(e["transfer"] for e in calls)
        bodies = browser.js("return window.__bench ? window.__bench.bodies : [];")
        run.payload_body, run.payload_gz = repost(bodies)
    return run


# --------------------------------------------------------------------------- the benchmark


def bands_in_order(gz: bytes, scope: str, reference: str, scorer) -> tuple[list, int]:
    """Band index (0 = Very Low) of each feature, in feature order; and the feature count."""
    from profiler.engine import BANDS

    features = json.loads(gzip.decompress(gz))["features"]
    scored = scorer(scope, reference)
    band = dict(zip(scored["lsoa21_code"], scored["band"], strict=True))
    out = []
    for f in features:
        b = band.get(f["properties"].get("lsoa21_code"))
        out.append(BANDS.index(b) if b in BANDS else None)
    return out, len(features)


def fetch_geometry(app_url: str, target: Target) -> tuple[bytes, str]:
    """The gzipped geometry the app serves for ``target`` (or its fallback file), and a note."""
    import requests

    resp = requests.get(
        app_url + target.geometry, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60
    )
    if resp.status_code == 200:
        raw = resp.raw.read(decode_content=False)
        if resp.headers.get("Content-Encoding") != "gzip":
            raw = gzip.compress(raw, mtime=0)
            return raw, f"app serves {target.geometry} uncompressed; bare page gets it gzipped"
        return raw, f"same bytes as the app's {target.geometry}"
    if target.fallback and target.fallback.exists():
        return target.fallback.read_bytes(), (
            f"app answers {resp.status_code} for {target.geometry}; bare page draws "
            f"{target.fallback.relative_to(ROOT)}"
        )
    raise Skip(
        f"app answers {resp.status_code} for {target.geometry} and there is no fallback file"
    )


def make_reposter(app_url: str):
    """Re-post Dash callback bodies; returns (sum of raw response sizes, sum gzipped)."""
    import requests

    def repost(bodies: list[str]) -> tuple[int, int]:
        raw = gz = 0
        for body in bodies:
            r = requests.post(
                app_url + "/_dash-update-component",
                data=body.encode(),
                headers={"Content-Type": "application/json", "Accept-Encoding": "identity"},
                timeout=60,
            )
            raw += len(r.content)
            gz += gzip_size(r.content)
        return raw, gz

    return repost


def run_target(
    runs: int, make_run: Callable[[Browser, int], Run], log: Callable[[str], None]
) -> tuple[list[Run], str]:
    """``runs`` navigation runs, each in a fresh browser; returns them and Chromium's version."""
    out, version = [], "?"
    for i in range(runs):
        browser = Browser()
        version = browser.version
        try:
            out.append(make_run(browser, i))
        finally:
            browser.close()
        r = out[-1]
        log(
            f"    run {i + 1}: geometry in at {fmt(r.geometry_end_ms)} ms,"
            f"{f' first paint at {fmt(r.paint_ms)} ms,' if r.paint_ms else ''}"
            f" drawn at {fmt(r.draw_ms)} ms"
            f"{r.detail}; recolour {fmt(r.recolour_ms)} ms"
            f" ({r.restyles} restyle(s), {r.requests} callback request(s))"
        )
    return out, version


def kb(n: float | None) -> float | None:
    """Bytes to kB (1,000 bytes)."""
    return None if n is None else n / 1000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Options of ``python -m benchmarks.browser`` (and ``python -m benchmarks``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"runs per target (default {RUNS}, at least 3)"
    )
    parser.add_argument("--only", default="", help="measure only targets whose name contains this")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="Markdown table (default %(default)s)"
    )
    parser.add_argument(
        "--baseline",
        default="",
        metavar="REV",
        help="also measure a target (--baseline-target) of git revision REV (checked out in a "
        "temporary worktree, run with this environment), alternating runs with this checkout",
    )
    parser.add_argument(
        "--baseline-target",
        default=TARGETS[0].name,
        metavar="TEXT",
        help="the target compared with --baseline: the first whose name contains TEXT "
        "(default %(default)r)",
    )
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error(f"--runs must be at least 3 (medians of 3 or more); got {args.runs}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the browser benchmark and print (and write) the table."""
    args = parse_args(argv)
    if not Path(CHROMIUM).exists() or not shutil.which("chromedriver"):
        print(
            f"error: the browser benchmark needs {CHROMIUM} and chromedriver on PATH "
            "(sudo apt-get install chromium chromium-driver, or make browser-deps)",
            file=sys.stderr,
        )
        return 2

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.perf_counter()
    info = machine()
    log(f"\n## Browser benchmark (medians of {args.runs} runs, fresh Chromium profile per run)\n")

    from benchmarks import scoring
    from profiler.pipeline import score_scope
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)

    def scorer(scope: str, reference: str):
        return score_scope(table, spec, scope=scope, reference=reference)

    score_ms = {
        scope: scoring.median_ms(lambda s=scope, r=ref: scorer(s, r))[0]
        for scope, ref in (("warwickshire", "county"), ("england", "england"))
    }

    app = App(ROOT / "artifacts" / "bench" / "app.log")
    bare = BareServer()
    rows: list[Row] = []
    notes: list[str] = []
    rss: dict[str, int] = {}
    version = "?"
    try:
        startup_s = app.start()
        time.sleep(1.0)
        rss["after start"] = app.rss()
        log(
            f"app started in {startup_s:.1f} s on {app.url};"
            f" RSS {rss['after start'] / 2**20:.0f} MB"
        )
        repost = make_reposter(app.url)
        for target in TARGETS:
            if args.only and args.only.lower() not in target.name.lower():
                continue
            log(f"\n{target.name} ({target.path}, marks key {target.key!r})")
            try:
                gz, note = fetch_geometry(app.url, target)
                bands, n = bands_in_order(gz, target.scope, target.reference, scorer)
            except Skip as exc:
                log(f"  skipped: {exc}")
                notes.append(f"{target.name}: skipped ({exc})")
                continue
            notes.append(f"{target.name}: bare page geometry: {note}")
            log(f"  {n:,} features; {note}")
            app_runs: list[Run] = []

            def app_run(browser: Browser, i: int, target=target, n=n) -> Run:
                app.check()
                value = WEIGHT_VALUES[(i + 3 * TARGETS.index(target)) % len(WEIGHT_VALUES)]
                return measure(
                    browser,
                    app.url + target.path,
                    target.key,
                    target.geometry,
                    n,
                    lambda b, v=value: b.js(TYPE_WEIGHT_JS, target.weight, v),
                    repost,
                )

            try:
                app_runs, version = run_target(args.runs, app_run, log)
            except Skip as exc:
                log(f"  app page skipped: {exc}")
                notes.append(f"{target.name}: app page skipped ({exc})")
            rss[f"after {target.name}"] = app.rss()

            size = next((r.map_size for r in app_runs if r.map_size), None) or (900, 700)
            query = {
                "geometry": bare.add_geometry(target.name.replace(" ", "-"), gz),
                "bands": bare.add_json(target.name.replace(" ", "-"), bands),
                "key": "bare",
                "w": size[0],
                "h": size[1],
                "stroke": int(target.stroke),
            }

            def bare_run(browser: Browser, i: int, query=query, n=n) -> Run:
                return measure(
                    browser,
                    f"{bare.url}/index.html?{urlencode(query)}",
                    "bare",
                    query["geometry"],
                    n,
                    lambda b: b.js(
                        "const t0 = performance.now();"
                        " window.bare.recolour(window.bare.alt); return t0;"
                    ),
                )

            log("  bare Leaflet page")
            try:
                bare_runs, version = run_target(args.runs, bare_run, log)
            except Skip as exc:
                log(f"  bare page skipped: {exc}")
                notes.append(f"{target.name}: bare page skipped ({exc})")
                bare_runs = []
            rows += target_rows(target, app_runs, bare_runs)
        rss["peak"] = app.peak_rss
    finally:
        app.stop()
        bare.stop()

    baseline = (
        compare_baseline(args.baseline, args.runs, log, args.baseline_target)
        if args.baseline
        else ""
    )
    info["Chromium"] = version
    info["load average at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows += server_rows(score_ms, rss)
    elapsed = time.perf_counter() - started
    text = report(info, rows, notes, args.runs, elapsed, baseline)
    log("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    log(f"\n(written to {args.out})")
    return 0


class Worktree:
    """A detached ``git worktree`` of a revision, removed on exit."""

    def __init__(self, rev: str) -> None:
        self.rev = rev
        self.path = Path(tempfile.mkdtemp(prefix="svrp-baseline-"))

    def __enter__(self) -> Path:
        done = subprocess.run(
            ["git", "worktree", "add", "--detach", str(self.path), self.rev],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        if done.returncode:
            raise Skip(f"git worktree add {self.rev}: {done.stderr.strip().splitlines()[-1]}")
        return self.path

    def __exit__(self, *exc) -> None:
        subprocess.run(["git", "worktree", "remove", "--force", str(self.path)], cwd=ROOT,
                       capture_output=True, check=False)
        shutil.rmtree(self.path, ignore_errors=True)


def compare_baseline(
    rev: str, runs: int, log: Callable[[str], None], name: str = TARGETS[0].name
) -> str:
    """One target (the first whose name contains ``name``) of this checkout against ``rev``.

    Both apps run at once; each run opens a fresh browser on one, then on the other, so machine
    load falls on both alike. Returns a Markdown table (empty if the baseline cannot run).
    """
    target = next((t for t in TARGETS if name.lower() in t.name.lower()), None)
    if target is None:
        return f"Baseline {rev}: skipped (no target named like {name!r})."
    log(f"\nbaseline: {target.name} of this checkout against {rev}, alternating runs")
    try:
        with Worktree(rev) as path:
            apps = {"this checkout": App(ROOT / "artifacts/bench/app-now.log"),
                    rev: App(ROOT / "artifacts/bench/app-baseline.log", root=path)}
            got: dict[str, list[Run]] = {k: [] for k in apps}
            try:
                for app in apps.values():
                    app.start()
                gz, _ = fetch_geometry(apps["this checkout"].url, target)
                expected = len(json.loads(gzip.decompress(gz))["features"])
                for i in range(runs):
                    for name, app in apps.items():
                        value = WEIGHT_VALUES[i % len(WEIGHT_VALUES)]
                        browser = Browser()
                        try:
                            run = measure(browser, app.url + target.path, target.key,
                                          target.geometry, expected,
                                          lambda b, v=value: b.js(TYPE_WEIGHT_JS, target.weight,
                                                                  v))
                        finally:
                            browser.close()
                        got[name].append(run)
                        log(f"    {name} run {i + 1}: drawn at {fmt(run.draw_ms)} ms; "
                            f"recolour {fmt(run.recolour_ms)} ms")
            finally:
                for app in apps.values():
                    app.stop()
    except (Skip, RuntimeError) as exc:
        log(f"  baseline skipped: {exc}")
        return f"Baseline {rev}: skipped ({exc})."
    now, base = (got[k] for k in apps)
    lines = [
        f"{target.name}, this checkout against `{rev}` (medians of {runs} alternating runs):",
        "",
        f"| metric | this checkout | {rev} | this / {rev} |",
        "|---|---:|---:|---:|",
    ]
    for label, attr in (("first draw, ms from navigation", "draw_ms"),
                        ("recolour, ms from weight change", "recolour_ms")):
        a, b = median(getattr(r, attr) for r in now), median(getattr(r, attr) for r in base)
        r = ratio(a, b)
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {f'{r:.2f}×' if r else '–'} |")
    return "\n".join(lines)


def target_rows(target: Target, app_runs: Sequence[Run], bare_runs: Sequence[Run]) -> list[Row]:
    """Table rows for one target from its app and bare-page runs."""
    lim = target.limits

    def med(runs, attr):
        return median(getattr(r, attr) for r in runs)

    draw_app, draw_bare = med(app_runs, "draw_ms"), med(bare_runs, "draw_ms")
    draw_goal = draw_result = ""
    if "draw_ms" in lim:
        draw_goal = f"< {lim['draw_ms']:,.0f} ms and ≤ {lim['draw_ratio']}× bare"
        ok = [
            verdict(draw_app, lim["draw_ms"]),
            verdict(ratio(draw_app, draw_bare), lim["draw_ratio"]),
        ]
        draw_result = "n/a" if "n/a" in ok else ("pass" if ok == ["pass", "pass"] else "fail")
    elif "draw_ratio" in lim:
        draw_goal = f"≤ {lim['draw_ratio']}× bare"
        draw_result = verdict(ratio(draw_app, draw_bare), lim["draw_ratio"])
    paint_app = med(app_runs, "paint_ms")
    paint_rows = []
    if paint_app is not None or "paint_ratio" in lim:
        paint_rows.append(Row(
            target.name,
            "first paint (static copy, before Dash), ms from navigation",
            paint_app,
            draw_bare,
            f"≤ {lim['paint_ratio']}× bare" if "paint_ratio" in lim else "",
            verdict(ratio(paint_app, draw_bare), lim["paint_ratio"]) if "paint_ratio" in lim
            else "",
        ))
    rec_app, rec_bare = med(app_runs, "recolour_ms"), med(bare_runs, "recolour_ms")
    gz_app = med(app_runs, "payload_gz")
    rows = [
        Row(
            target.name,
            "first draw of the live map, ms from navigation" if paint_rows
            else "first draw, ms from navigation",
            draw_app,
            draw_bare,
            draw_goal,
            draw_result,
        ),
        *paint_rows,
        Row(
            target.name,
            "recolour, ms from weight change",
            rec_app,
            rec_bare,
            f"< {lim['recolour_ms']:,.0f} ms" if "recolour_ms" in lim else "",
            verdict(rec_app, lim["recolour_ms"]) if "recolour_ms" in lim else "",
        ),
        Row(
            target.name,
            "geometry downloaded, ms from navigation",
            med(app_runs, "geometry_end_ms"),
            med(bare_runs, "geometry_end_ms"),
        ),
        Row(
            target.name,
            "geometry transferred, kB",
            kb(med(app_runs, "geometry_transfer")),
            kb(med(bare_runs, "geometry_transfer")),
        ),
        Row(
            target.name,
            "recolour payload transferred, kB",
            kb(med(app_runs, "payload_transfer")),
            with_ratio=False,
        ),
        Row(
            target.name,
            "recolour payload gzipped, kB",
            kb(gz_app),
            goal=f"< {lim['payload_gz_kb']:,.0f} kB" if "payload_gz_kb" in lim else "",
            result=verdict(kb(gz_app), lim["payload_gz_kb"]) if "payload_gz_kb" in lim else "",
            with_ratio=False,
        ),
    ]
    counts = {r.features for r in [*app_runs, *bare_runs] if r.features}
    reqs = median(r.requests for r in app_runs)
    rows[0].metric += f" ({', '.join(f'{c:,}' for c in sorted(counts))} shapes)" if counts else ""
    if reqs is not None:
        rows[4 + len(paint_rows)].metric += f" ({reqs:.0f} callback responses)"
    return rows


def server_rows(score_ms: dict[str, float], rss: dict[str, int]) -> list[Row]:
    """Rows for the server: scoring time and resident memory."""
    rows = [
        Row(
            "server",
            "score Warwickshire (354 × 13), ms",
            score_ms["warwickshire"],
            with_ratio=False,
        ),
        Row(
            "server",
            "score England (33,755 × 13), ms",
            score_ms["england"],
            goal=f"< {LIMITS['score_england_ms']:.0f} ms",
            result=verdict(score_ms["england"], LIMITS["score_england_ms"]),
            with_ratio=False,
        ),
    ]
    for label, value in rss.items():
        england = label in ("peak", "after England explore")
        rows.append(
            Row(
                "server",
                f"resident memory {label}, MB",
                value / 2**20,
                goal=f"< {LIMITS['rss_mb']:.0f} MB" if england else "",
                result=verdict(value / 2**20, LIMITS["rss_mb"]) if england else "",
                with_ratio=False,
            )
        )
    return rows


def first_draw_summary(rows: Sequence[Row]) -> str:
    """One line per target: first draw, app against bare, side by side (the overview, England)."""
    parts = []
    for row in rows:
        if row.metric.startswith(("first draw", "first paint")) and row.app is not None:
            r = ratio(row.app, row.bare)
            verdict_ = f", {row.result}" if row.result else ""
            what = row.metric.split(",")[0].split(" (")[0]
            parts.append(f"{row.target}, {what}: {fmt(row.app)} ms vs bare {fmt(row.bare)} ms "
                         f"({f'{r:.2f}×' if r else '–'}{verdict_})")
    return "First draw, app vs bare Leaflet: " + "; ".join(parts) + "." if parts else ""


def report(
    info: dict[str, str],
    rows: Sequence[Row],
    notes: Sequence[str],
    runs: int,
    elapsed: float,
    baseline: str = "",
) -> str:
    """The Markdown report: machine, table and notes."""
    lines = [f"Machine: {'; '.join(f'{k}: {v}' for k, v in info.items())}.", ""]
    lines.append(
        f"Medians of {runs} runs, a fresh headless Chromium profile per run;"
        f" {elapsed:.0f} s in all."
    )
    lines += ["", markdown_table(rows), ""]
    summary = first_draw_summary(rows)
    if summary:
        lines += [summary, ""]
    lines += [f"- {n}" for n in notes]
    if baseline:
        lines += ["", baseline]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
