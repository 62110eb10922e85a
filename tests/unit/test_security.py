"""Sign-in on every route and the security headers, on the real app (Flask test client)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from dashboard.security import content_security_policy, tiles_source
from dashboard.settings import Settings
from profiler.export import read_export_csv

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "analyst", "correct horse battery staple"
# Sample arguments for each route's variables, so a with-credentials request reaches the view.
SAMPLE_ARGS = {
    "filename": "svrp.js",
    "path": "methodology",
    "scope": "E07000219",
}
# What a signed-in request to each route answers (a route missing here must at least not be 401).
EXPECTED = {
    "/static/<path:filename>": 404,  # Dash has no static folder; the route is Flask's own
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": 200,
}


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def apps():
    """The app with Basic sign-in (a password hash) and with a proxy header; built once."""
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app

    digest = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast for tests
    basic = create_app(Settings(tiles_url="", data_dir=ROOT / "data", auth="basic",
                                auth_user=USER, auth_password_hash=digest))
    proxy = create_app(Settings(tiles_url="", data_dir=ROOT / "data", auth="proxy"))
    # Refused first requests: Dash then has not run its first-request hooks, which register the
    # pages' inline title script; the CSP must still hash it on later pages (sec005).
    assert basic.server.test_client().get("/").status_code == 401
    assert proxy.server.test_client().get("/").status_code == 401
    return {"basic": basic, "proxy": proxy}


def _pages_request(path: str) -> dict:
    """The body the browser POSTs to route a page (Dash pages' ``_pages_location`` callback)."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def _requests(app, auth: dict):
    """(method, url, rule, json body) for every rule of the server's URL map and method."""
    client = app.server.test_client()
    html = client.get("/", headers=auth).get_data(as_text=True)
    suite = re.search(r'src="/_dash-component-suites/([^/"]+)/([^"?]+)"', html)
    for rule in app.server.url_map.iter_rules():
        args = {name: SAMPLE_ARGS.get(name, "x") for name in rule.arguments}
        if "package_name" in rule.arguments:
            args = {"package_name": suite[1], "fingerprinted_path": suite[2]}
        url = rule.rule
        for name, value in args.items():
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", value, url)
        for method in sorted(rule.methods):
            body = _pages_request("/") if method == "POST" else None
            yield method, url, rule.rule, body


def test_sec001_every_route_needs_basic_credentials(apps):
    app = apps["basic"]
    client = app.server.test_client()
    seen = set()
    for method, url, rule, body in _requests(app, _basic(USER, PASSWORD)):
        seen.add(rule)
        resp = client.open(url, method=method, json=body)
        assert resp.status_code == 401, (method, url)
        assert resp.headers["WWW-Authenticate"].startswith('Basic realm="'), url
        assert b"_dash" not in resp.data and b"geometry" not in resp.data  # nothing of the view
        wrongs = (_basic(USER, "wrong"), _basic("someone", PASSWORD), {"X-Forwarded-User": USER})
        for wrong in wrongs:
            # refused either way; after SVRP_AUTH_MAX_FAILURES wrong ones, 429 without a check
            code = client.open(url, method=method, json=body, headers=wrong).status_code
            assert code in (401, 429), (url, code)
        signed_in = client.open(url, method=method, json=body, headers=_basic(USER, PASSWORD))
        expected = 200 if method == "OPTIONS" else EXPECTED.get(rule, 200)
        assert signed_in.status_code == expected, (method, url, signed_in.status_code)
    for route in ("/", "/<path:path>", "/assets/<path:filename>", "/_dash-layout",
                  "/_dash-dependencies", "/_dash-update-component", "/data/lsoa21/<scope>.geojson"):
        assert route in seen, route
    # unknown URLs too: nothing tells an outsider which routes exist
    assert client.get("/no-such/route").status_code == 401


def test_sec002_signed_in_pages_callbacks_and_exports_work(apps):
    client = apps["basic"].server.test_client()
    auth = _basic(USER, PASSWORD)
    page = client.post("/_dash-update-component", json=_pages_request("/district/E07000219"),
                       headers=auth)
    assert page.status_code == 200 and "dst-map" in page.get_data(as_text=True)
    export = {
        "output": "..dst-download.data...dst-export-msg.children..",
        "outputs": [{"id": "dst-download", "property": "data"},
                    {"id": "dst-export-msg", "property": "children"}],
        "inputs": [{"id": "dst-export-csv", "property": "n_clicks", "value": 1},
                   {"id": "dst-export-xlsx", "property": "n_clicks", "value": None},
                   {"id": "dst-export-geojson", "property": "n_clicks", "value": None}],
        "state": [{"id": "dst-code", "property": "data", "value": "E07000219"},
                  {"id": "dst-export-group", "property": "value", "value": "high"},
                  {"id": "dst-area", "property": "data", "value": None}],
        "changedPropIds": ["dst-export-csv.n_clicks"],
    }
    assert client.post("/_dash-update-component", json=export).status_code == 401
    resp = client.post("/_dash-update-component", json=export, headers=auth)
    payload = resp.get_json()["response"]["dst-download"]["data"]
    assert payload["filename"].endswith(".zip") and payload["base64"]  # CSV + notes
    _meta, table = read_export_csv(base64.b64decode(payload["content"]))
    assert table.iloc[:, 0].str.startswith("E01").all()


def test_sec003_signed_in_responses_are_not_publicly_cacheable(apps):
    client = apps["basic"].server.test_client()
    resp = client.get("/data/lsoa21/E10000031.geojson", headers=_basic(USER, PASSWORD))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, max-age=86400"


def test_sec004_proxy_header_is_the_only_way_in(apps):
    app = apps["proxy"]
    client = app.server.test_client()
    for method, url, rule, body in _requests(app, {"X-Forwarded-User": "a.person@example.org"}):
        resp = client.open(url, method=method, json=body)
        assert resp.status_code == 401 and "WWW-Authenticate" not in resp.headers, url
        assert client.open(url, method=method, json=body,
                           headers={"X-Forwarded-User": " "}).status_code == 401
        assert client.open(url, method=method, json=body,
                           headers=_basic(USER, PASSWORD)).status_code == 401
        signed_in = client.open(url, method=method, json=body,
                                headers={"X-Forwarded-User": "a.person@example.org"})
        expected = 200 if method == "OPTIONS" else EXPECTED.get(rule, 200)
        assert signed_in.status_code == expected, (method, url)


def test_sec005_csp_allows_dash_inline_scripts_by_hash_only(apps):
    resp = apps["basic"].server.test_client().get("/", headers=_basic(USER, PASSWORD))
    policy = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["img-src"] == "'self' data: blob:"  # tiles off: no other host
    assert "unsafe-inline" not in directives["script-src"] and "eval" not in policy
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    html = resp.get_data(as_text=True)
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # IE-only conditional comments
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>",
                        html, flags=re.S)
    assert inline  # Dash's renderer start-up, at least
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"], script[:80]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"
    # the 401 carries the headers too
    assert "Content-Security-Policy" in apps["basic"].server.test_client().get("/").headers


@pytest.mark.parametrize(
    "url, source",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.basemaps.example.com/{z}/{x}/{y}@2x.png", "https://*.basemaps.example.com"),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("", None),
    ],
)
def test_sec006_tiles_host_joins_img_src(url, source):
    assert tiles_source(url) == source
    images = dict(d.strip().split(" ", 1) for d in content_security_policy([], url).split(";"))
    assert images["img-src"] == " ".join(["'self'", "data:", "blob:",
                                          *([source] if source else [])])


def test_sec007_hash_command(capsys, monkeypatch):
    import io

    from werkzeug.security import check_password_hash

    from dashboard.security import main

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    assert main(["hash"]) == 0
    digest = capsys.readouterr().out.strip()
    assert check_password_hash(digest, "s3cret pass")
    Settings(auth="basic", auth_user="u", auth_password_hash=digest)  # accepted as a setting
    assert main([]) == 2


def test_sec008_plain_password_and_remembered_credentials():
    from flask import Flask

    from dashboard.security import basic_guard

    server = Flask("t")
    server.route("/")(lambda: "ok")
    guard = basic_guard(Settings(auth="basic", auth_user=USER, auth_password=PASSWORD))
    server.before_request(guard)
    client = server.test_client()
    assert client.get("/", headers=_basic(USER, PASSWORD)).status_code == 200
    assert client.get("/", headers=_basic(USER, PASSWORD)).status_code == 200  # remembered
    assert client.get("/", headers=_basic(USER, PASSWORD + "x")).status_code == 401
    assert client.get("/", headers=_basic(USER, PASSWORD[:-1])).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer abc"}).status_code == 401
    assert json.dumps(Settings.help())  # settings documented (sanity)


FORMULAS = ("=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)")
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE]-?\d+)?$")
NAME_COLUMNS = ("lsoa21_name", "msoa21_name", "msoa21_hcl_name", "ward24_name", "lad24_name")


@pytest.fixture
def hostile_state(apps):
    """The running state with every name starting like a formula (restored afterwards)."""
    from dataclasses import replace

    import dashboard.state as st

    state = st.current()

    def poison(frame):
        frame = frame.copy()
        for n, col in enumerate(NAME_COLUMNS):
            frame[col] = [f"{FORMULAS[(i + n) % 4]} {v}" for i, v in enumerate(frame[col])]
        return frame

    hostile = replace(state, county=poison(state.county), county_table=poison(state.county_table))
    st._STATES[id(hostile)] = hostile
    st._CURRENT[:] = [hostile]
    yield hostile
    st._CURRENT[:] = [state]
    del st._STATES[id(hostile)]


def _cells(fmt: str, blob: bytes):
    """Every text cell of an export: CSV fields, worksheet cells, GeoJSON properties."""
    import csv
    import io

    import openpyxl

    if fmt == "csv":  # the CSV button sends a zip: the CSV and its -about.txt, both read
        import zipfile

        with zipfile.ZipFile(io.BytesIO(blob)) as bundle:
            for name in bundle.namelist():
                text = bundle.read(name).decode("utf-8-sig")
                for row in csv.reader(io.StringIO(text)):
                    yield from row
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(blob))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", cell.coordinate  # nothing stored as a formula
                    yield cell.value
    else:
        doc = json.loads(blob)
        yield from (str(v) for v in doc["metadata"].values())
        for feature in doc["features"]:
            yield from feature["properties"].values()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
@pytest.mark.parametrize("page", ["ovw", "dst"])
def test_sec009_every_dashboard_export_neutralises_formulas(apps, hostile_state, page, fmt):
    client = apps["basic"].server.test_client()
    spec = hostile_state.spec
    weights = [{"id": {"id": i.id, "type": "ovw-weight"}, "property": "value",
                "value": i.weight + 0.5} for i in spec.indicators]  # a what-if profile
    clicks = [{"id": f"{page}-export-{f}", "property": "n_clicks", "value": 1 if f == fmt else None}
              for f in ("csv", "xlsx", "geojson")]
    if page == "ovw":
        # the export also writes its one-line message beside the download
        deps = client.get("/_dash-dependencies", headers=_basic(USER, PASSWORD)).get_json()
        output = next(d["output"] for d in deps if "ovw-download.data" in d["output"])
        outputs = [{"id": "ovw-download", "property": "data"},
                   {"id": "ovw-partner-report", "property": "children"}]
        state = [weights, {"id": "ovw-norm", "property": "value", "value": "zscore"},
                 {"id": "ovw-banding", "property": "value", "value": "stddev"},
                 {"id": "ovw-bands", "property": "value", "value": ["Very High", "High", "Medium"]},
                 {"id": "ovw-district", "property": "value", "value": "county"},
                 {"id": "ovw-partner", "property": "data", "value": None},
                 {"id": "ovw-area", "property": "data", "value": None}]
    else:
        output = "..dst-download.data...dst-export-msg.children.."
        outputs = [{"id": "dst-download", "property": "data"},
                   {"id": "dst-export-msg", "property": "children"}]
        state = [{"id": "dst-code", "property": "data", "value": "E07000219"},
                 {"id": "dst-export-group", "property": "value", "value": "high"},
                 {"id": "dst-area", "property": "data", "value": None}]
    resp = client.post("/_dash-update-component", headers=_basic(USER, PASSWORD), json={
        "output": output, "outputs": outputs, "inputs": clicks, "state": state,
        "changedPropIds": [f"{page}-export-{fmt}.n_clicks"]})
    assert resp.status_code == 200, resp.data[:300]
    payload = resp.get_json()["response"][f"{page}-download"]["data"]
    assert payload["filename"].endswith(".zip" if fmt == "csv" else f".{fmt}")
    content = payload["content"]
    blob = base64.b64decode(content) if payload["base64"] else content.encode()
    cells = [c for c in _cells(fmt, blob) if isinstance(c, str)]
    hostile = [c for c in cells if any(f in c for f in FORMULAS)]
    assert len(hostile) > 20  # the poisoned names did reach the file
    for cell in cells:
        if NUMBER.match(cell):
            continue  # a negative number in a CSV field is a number, not a formula
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
