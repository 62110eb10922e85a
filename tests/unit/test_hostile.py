"""Issue 18, hostile and odd input: each item's failure, made to fail before the fix."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import partner_state as ps
from dashboard.settings import Settings
from profiler.export import FORMULA_PREFIXES, header, neutralise, read_export_csv
from profiler.partner import PartnerDataError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def state():
    from dashboard.state import load_state

    return load_state(Settings(tiles_url="", data_dir=ROOT / "data"))


def data_url(content: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(content).decode()


def small_counts_upload(state, name="partner.csv"):
    """An indicator upload whose count column is 1-4 in every LSOA (all suppressed)."""
    codes = list(state.county_table["lsoa21_code"])
    n = len(codes)
    blob = pd.DataFrame({"lsoa21_code": codes, "violence_with_injury": np.linspace(1, 9, n),
                         "victims": (np.arange(n) % 4) + 1}).to_csv(index=False).encode()
    return ps.load_indicator_upload(state, blob, name)


# -- items 2 and 3: disclosure control as a type ---------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_hst001_every_export_works_with_counts_of_1_to_4_everywhere(state, fmt):
    from dashboard.components import export_download

    data = ps.PartnerData(indicators=small_counts_upload(state))
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    out = ps.suppress_profile(result, data, 5)
    view = ps.view_state(state, data)
    payload = export_download(view, out, fmt, ["Very Low", "Low", "Medium", "High", "Very High"],
                              None, pairs, prof.normalisation, prof.banding)
    blob = base64.b64decode(payload["content"]) if payload.get("base64") else payload["content"]
    assert len(blob) > 1000
    if fmt == "csv":
        _meta, table = read_export_csv(blob)
        ind = next(i for i in view.spec.indicators if i.label == "Victims")
        assert (table[header("value", label="Victims", unit=ind.unit)] == "<5").all()
        assert (table[header("contribution", label="Victims")] == "suppressed").all()
        assert not table[header("drivers")].str.contains("Victims|victims").any()


def test_hst002_lsoa_panel_builds_for_a_suppressed_lsoa(state):
    from dashboard.components import lsoa_panel

    data = ps.PartnerData(indicators=small_counts_upload(state))
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    view = ps.view_state(state, data)
    hidden = ps.hidden_indicator_values(data, result, 5)
    code = result["lsoa21_code"].iloc[0]
    for frame, hide in ((result, hidden), (ps.suppress_profile(result, data, 5), None)):
        panel = lsoa_panel(view, frame, code, hidden=hide)
        text = str(panel)
        assert "<5" in text and "(suppressed)" in text


# -- item 5: one sanitiser for every text that reaches a file --------------------------------

HOSTILE_NAMES = ['x,"=2+3".csv', 'x,=HYPERLINK("http://example.invalid/?q=1","go").csv',
                 "x;=2+3.csv", "x\t=2+3.csv", "x|=2+3.csv", "x, @SUM(1+1).csv", 'x;"+2+3".csv',
                 "x,  -2+3.csv", "\u202ex=2+3.csv", "=2+3.csv"]


def formula_cells(text: str) -> list[str]:
    """Cells of ``text`` that a spreadsheet would run, reading it with any common delimiter."""
    bad = []
    for delim in (",", ";", "\t", "|"):
        for row in csv.reader(io.StringIO(text), delimiter=delim):
            bad += [c for c in row if c.lstrip(' "').startswith(FORMULA_PREFIXES)]
    return bad


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hst003_file_names_cannot_inject_formulas_in_any_export(state, name):
    from openpyxl import load_workbook

    from dashboard.components import export_download

    up = ps.load_indicator_upload(state, pd.DataFrame({
        "lsoa21_code": state.county_table["lsoa21_code"],
        "violence_with_injury": np.linspace(1, 9, 354)}).to_csv(index=False).encode(), name)
    data = ps.PartnerData(indicators=up)
    assert "\u202e" not in up.name
    pairs = tuple(state.spec.weights.items())
    prof = state.spec.profile
    result = ps.score(state, data, pairs, prof.normalisation, prof.banding, 5)
    view = ps.view_state(state, data)
    for fmt in ("csv", "xlsx", "geojson"):
        payload = export_download(view, result, fmt, ["Very High"], None, pairs,
                                  prof.normalisation, prof.banding,
                                  extra_meta={"theme bands": f"partner {name}"})
        blob = base64.b64decode(payload["content"])
        if fmt == "csv":
            import zipfile

            bundle = zipfile.ZipFile(io.BytesIO(blob))
            about = next(n for n in bundle.namelist() if n.endswith("-about.txt"))
            head = bundle.read(about).decode()
            assert "=2+3" not in head.replace("'=2+3", "") or not formula_cells(head)
            assert formula_cells(head) == [], head
        elif fmt == "xlsx":
            about = load_workbook(io.BytesIO(blob), read_only=True)["About"]
            for row in about.iter_rows(values_only=True):
                text = "\t".join(str(v) for v in row if v is not None)
                assert formula_cells(text) == [], text
        else:
            assert "\u202e" not in blob.decode()
            for value in __import__("json").loads(blob)["metadata"].values():
                assert formula_cells(str(value)) == [], value


def test_hst004_neutralise_is_the_one_sanitiser():
    assert neutralise('x,"=2+3"') == 'x,"\'=2+3"'
    assert neutralise("x;=2+3") == "x;'=2+3"
    assert neutralise("=1") == "'=1" and neutralise(neutralise("a,=1")) == neutralise("a,=1")
    assert neutralise("a\u202eb\u200bc\ufeff") == "abc"
    assert neutralise("Nuneaton and Bedworth") == "Nuneaton and Bedworth"
    assert neutralise(3) == 3
    from profiler.partner import _safe_name

    assert _safe_name("evil\u202etxt.csv") == "eviltxt.csv"
    assert _safe_name("a\u200b\u200db.csv") == "ab.csv"


# -- item 4: reserved names -------------------------------------------------------------------


@pytest.mark.parametrize("column", ["knife", "domestic", "public_place", "Public Place", "high",
                                    "Very High", "score", "band", "rank", "causal"])
def test_hst005_reserved_names_cannot_be_taken_by_an_upload(state, column):
    blob = pd.DataFrame({"lsoa21_code": state.county_table["lsoa21_code"],
                         column: np.linspace(1, 9, 354)}).to_csv(index=False).encode()
    with pytest.raises(PartnerDataError, match=r"^p\.csv: column .* reserved name") as exc:
        ps.load_indicator_upload(state, blob, "p.csv")
    assert "\n" not in str(exc.value)
    # a spec indicator id still replaces that indicator, as documented
    blob = pd.DataFrame({"lsoa21_code": state.county_table["lsoa21_code"],
                         "violence_with_injury": np.linspace(1, 9, 354)}).to_csv(
                             index=False).encode()
    assert ps.load_indicator_upload(state, blob, "p.csv").partner_ids == ("violence_with_injury",)


def test_hst006_spec_ids_cannot_be_theme_or_band_names():
    from profiler.errors import ProfilerError
    from profiler.spec import load_spec, parse_spec

    data = load_spec(ROOT / "data" / "indicators" / "spec.toml").to_dict()
    data["indicator"][0]["id"] = "knife"
    with pytest.raises(ProfilerError, match="reserved"):
        parse_spec(data)


# -- item 6: dates and times ------------------------------------------------------------------

WARWICK = (52.2820, -1.5850)


@pytest.fixture(scope="module")
def bounds():
    from profiler.geo import load_lsoa_boundaries

    return load_lsoa_boundaries(ROOT / "data", "warwickshire")


@pytest.mark.parametrize("text,reason", [
    ("24/01/0024", "year before 1990"), ("3024-01-01", "after today"),
    ("9999-12-31", "after today"), ("0001-01-01", "year before 1990"),
    ("1677-09-21", "year before 1990"), ("2263-01-01", "after today"), ("2027-01-01", "after"),
    ("2024-01-05T25:00", "impossible time"), ("2024-01-05T10:00+99:99", "impossible time"),
    ("2024-01-05 10:61", "impossible time"), ("05/01/2024 24:00", "impossible time"),
    ("2024-01-05T10:00:75Z", "impossible time"),
])
def test_hst007_dates_outside_the_window_and_bad_times_are_refused(bounds, text, reason):
    from datetime import date

    from profiler.partner import load_incidents

    good = f"2024-01-05,{WARWICK[0]},{WARWICK[1]},Assault\n"
    blob = (f"date,latitude,longitude,offence\n{good}{text},{WARWICK[0]},{WARWICK[1]},Assault\n"
            ).encode()
    with pytest.raises(PartnerDataError) as exc:
        load_incidents(blob, "x.csv", lsoa_boundaries=bounds, today=date(2025, 6, 1))
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("x.csv: ") and "row 3" in msg and reason in msg, msg
    ok = (f"date,latitude,longitude,offence\n{good}2024-01-05T23:59:59+14:00,{WARWICK[0]},"
          f"{WARWICK[1]},Assault\n").encode()
    assert len(load_incidents(ok, "x.csv", lsoa_boundaries=bounds, today=date(2025, 6, 1))[0]) == 2


# -- item 9: the smaller ones (profiler side) -------------------------------------------------


def test_hst008_header_only_extract_is_refused(state):
    before = ps.PartnerData()
    for kind, blob in (("incidents", b"date,latitude,longitude,offence\n"),
                       ("indicators", b"lsoa21_code,violence_with_injury\r\n\r\n")):
        with pytest.raises(PartnerDataError, match=r"^h\.csv: a header line but no data rows"):
            if kind == "incidents":
                ps.load_extract_upload(state, blob, "h.csv")
            else:
                ps.load_indicator_upload(state, blob, "h.csv")
    assert before.empty


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1e12", "1.7976931348623157e308"])
def test_hst009_absurd_values_are_refused(state, value):
    values = ["1.5"] * 177 + [value] * 177
    blob = pd.DataFrame({"lsoa21_code": state.county_table["lsoa21_code"],
                         "violence_with_injury": values}).to_csv(index=False).encode()
    with pytest.raises(PartnerDataError, match="implausibly large"):
        ps.load_indicator_upload(state, blob, "big.csv")


def test_hst010_an_indicator_with_no_spread_is_flagged(state):
    blob = pd.DataFrame({"lsoa21_code": state.county_table["lsoa21_code"],
                         "violence_with_injury": ["2.5"] * 354}).to_csv(index=False).encode()
    up = ps.load_indicator_upload(state, blob, "flat.csv")
    assert any("same value in every LSOA" in line for line in up.lines)


def test_hst011_homoglyph_header_names_its_code_points(state):
    blob = "lsoa21_c\u043ede,violence_with_injury\nE01031005,1\n".encode()
    with pytest.raises(PartnerDataError) as exc:
        ps.load_indicator_upload(state, blob, "h.csv")
    assert "'lsoa21_c\u043ede' (has non-ASCII U+043E)" in str(exc.value)


# -- item 7: wrong passwords ------------------------------------------------------------------


def _basic(user: str, password: str, scheme: str = "Basic") -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"{scheme} {token}"}


def _guarded(monkeypatch, **kw):
    from flask import Flask
    from werkzeug.security import generate_password_hash

    import dashboard.security as sec

    calls = []
    real = sec.check_password_hash
    monkeypatch.setattr(sec, "check_password_hash",
                        lambda d, p: calls.append(p) or real(d, p))
    server = Flask("t")
    server.route("/")(lambda: "ok")
    digest = generate_password_hash("pw", method="pbkdf2:sha256:1000")
    server.before_request(sec.basic_guard(Settings(auth="basic", auth_user="u",
                                                   auth_password_hash=digest, **kw)))
    return server, calls


def test_hst012_wrong_passwords_are_throttled_per_client_not_the_signed_in(monkeypatch):
    server, calls = _guarded(monkeypatch, auth_max_failures=3, auth_lockout_seconds=60)
    me = server.test_client()
    assert me.get("/", headers=_basic("u", "pw")).status_code == 200
    for _ in range(10):  # the password check is paid once per session, not per request
        assert me.get("/", headers=_basic("u", "pw")).status_code == 200
    assert calls == ["pw"]
    attacker = server.test_client()
    env = {"REMOTE_ADDR": "10.0.0.9"}
    codes = [attacker.get("/", headers=_basic("u", f"guess{i}"), environ_base=env).status_code
             for i in range(8)]
    assert codes == [401] * 3 + [429] * 5
    assert len(calls) == 1 + 3  # throttled attempts cost no hash check
    resp = attacker.get("/", headers=_basic("u", "x"), environ_base=env)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    # the signed-in user, even from the same address as the attacker, is not slowed
    assert me.get("/", headers=_basic("u", "pw"), environ_base=env).status_code == 200
    # another client is not throttled by this one
    assert attacker.get("/", headers=_basic("u", "bad"),
                        environ_base={"REMOTE_ADDR": "10.0.0.10"}).status_code == 401


def test_hst013_failure_limiter_window_and_bound():
    from dashboard.security import FailureLimiter

    now = [0.0]
    lim = FailureLimiter(2, 10.0, max_clients=3, clock=lambda: now[0])
    lim.failed("a")
    assert lim.retry_after("a") == 0
    lim.failed("a")
    assert lim.retry_after("a") == pytest.approx(10.0)
    now[0] = 10.5
    assert lim.retry_after("a") == 0
    for c in "bcde":
        lim.failed(c)
    assert len(lim._failures) == 3  # bounded


@pytest.mark.parametrize("header,code", [
    ("basic", 200), ("BASIC", 200), ("Basic", 200), ("bAsIc", 200),
    (None, 401),
])
def test_hst014_basic_scheme_is_case_insensitive_and_odd_headers_are_401(monkeypatch, header,
                                                                         code):
    server, _ = _guarded(monkeypatch)
    client = server.test_client()
    headers = _basic("u", "pw", header) if header else {}
    assert client.get("/", headers=headers).status_code == code
    for odd in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
                "Basic " + base64.b64encode(b"nocolon").decode(), "Basic " + "A" * 10_000,
                "Digest x", "Basic dTpwdw== extra"):
        assert client.get("/", headers={"Authorization": odd}).status_code in (401, 429), odd


def test_hst015_partner_data_is_bound_to_the_signed_in_user():
    user = ["alice"]
    ps.set_user_source(lambda: user[0])
    try:
        cache = ps.PartnerCache(4)
        key = cache.put(None, ps.PartnerData())
        assert cache.get(key) is not None
        user[0] = "bob"
        assert cache.get(key) is None  # the session key alone opens nothing
        assert cache.put(key, ps.PartnerData()) != key  # nor can bob overwrite alice's
        cache.drop(key)
        user[0] = "alice"
        assert cache.get(key) is not None
    finally:
        ps.set_user_source(lambda: None)


# -- items 8 and 9: crafted callback bodies, routes, the upload callback -----------------------


@pytest.fixture(scope="module")
def client():
    import os

    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app

    app = create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    c = app.server.test_client()
    assert c.get("/").status_code == 200
    return c


@pytest.fixture(scope="module")
def deps(client):
    return client.get("/_dash-dependencies").get_json()


def _body(dep, values=None, trigger=None):
    """A callback request like the renderer's, with ``values`` by ``(id, property)``."""
    values = values or {}

    def entry(i):
        key = (json_id(i["id"]), i["property"])
        if isinstance(i["id"], dict):  # a wildcard (ALL): one entry per matching component
            if key not in values:
                return []
            concrete = {k: ("x" if v == ["ALL"] else v) for k, v in i["id"].items()}
            return [{"id": concrete, "property": i["property"], "value": values[key]}]
        return {"id": i["id"], "property": i["property"], "value": values.get(key)}

    out = dep["output"]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[-1]}
               for o in out.strip(".").split("...")]
    first = dep["inputs"][0]
    return {"output": out, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [entry(i) for i in dep["inputs"]],
            "state": [entry(i) for i in dep["state"]],
            "changedPropIds": [trigger or f"{json_id(first['id'])}.{first['property']}"]}


def json_id(i):
    return i if isinstance(i, str) else __import__("json").dumps(i, sort_keys=True)


def _dep(deps, output_part):
    return next(d for d in deps if output_part in d["output"] and not d.get("clientside_function"))


def test_hst016_unknown_routes_and_suite_traversal_answer_404(client):
    for path in ("/_dash-component-suites/dash/../../app.py",
                 "/_dash-component-suites/dash/..%2F..%2Fapp.py",
                 "/_dash-component-suites/dash/dcc/../../../../etc/passwd",
                 "/_dash-component-suites/nope/x.js", "/_dash-nope", "/data/nope",
                 "/no-such/page", "/district/E07000218/extra"):
        assert client.get(path).status_code == 404, path
    for path in ("/", "/explore", "/district/E07000218", "/methodology", "/_dash-layout"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("raw", [
    b"{{{", b"[]", b"{}", b'{"output": 1, "inputs": []}', b'{"output":"a.b","inputs":"x"}',
    b"[" * 100_000 + b"]" * 100_000, b'{"output":"a.b","inputs":[{"id":"a","property":"b",'
    b'"value":' + b"9" * 5000 + b"}]}", b'{"output":"a.b","inputs":[],"x":NaN}',
    b'{"output":"a.b","inputs":[],"x":1e999}', b"\xff\xfe",
])
def test_hst017_malformed_callback_bodies_are_400_without_traceback(client, raw, caplog):
    resp = client.post("/_dash-update-component", data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert "\n" not in resp.get_data(as_text=True).strip()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def _nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES = [
    {str(i): i for i in range(10_000)}, _nested(40), 10**17, -1, 1.5, "x" * 5000, ["a"] * 300,
    {"key": ["x"]}, {"key": {"a": 1}}, True, {"props": None}, "<img src=x onerror=alert(1)>",
    [None], {"": ""},
]


def test_hst018_crafted_values_for_every_callback_never_answer_500(client, deps, caplog):
    import itertools

    tried = 0
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        slots = [(json_id(i["id"]), i["property"]) for i in dep["inputs"] + dep["state"]]
        for slot, value in itertools.product(slots, HOSTILE_VALUES):
            body = _body(dep, {slot: value})
            resp = client.post("/_dash-update-component", json=body)
            tried += 1
            assert resp.status_code in (200, 204, 400), (dep["output"], slot, value,
                                                        resp.status_code)
    assert tried > 500
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert not errors, errors[0].getMessage()[:300]


def _outputs(resp) -> dict:
    return resp.get_json()["response"]


def test_hst019_uploads_are_reset_so_the_same_file_loads_again(client, deps, state):
    dep = _dep(deps, "ovw-partner.data")
    blob = data_url(pd.DataFrame({"lsoa21_code": state.county_table["lsoa21_code"],
                                  "violence_with_injury": np.linspace(1, 9, 354)}).to_csv(
                                      index=False).encode())
    values = {("ovw-upload-indicators", "contents"): blob,
              ("ovw-upload-indicators", "filename"): "p.csv"}
    resp = client.post("/_dash-update-component", json=_body(
        dep, values, trigger="ovw-upload-indicators.contents"))
    assert resp.status_code == 200
    out = _outputs(resp)
    assert out["ovw-upload-indicators"] == {"contents": None, "filename": None}
    store = out["ovw-partner"]["data"]
    assert "Loaded." in json.dumps(out["ovw-partner-report"])
    cleared = client.post("/_dash-update-component", json=_body(
        dep, {("ovw-clear-partner", "n_clicks"): 1, ("ovw-partner", "data"): store},
        trigger="ovw-clear-partner.n_clicks"))
    assert _outputs(cleared)["ovw-upload-indicators"]["contents"] is None
    again = client.post("/_dash-update-component", json=_body(
        dep, values, trigger="ovw-upload-indicators.contents"))
    assert "Loaded." in json.dumps(_outputs(again)["ovw-partner-report"])
    tampered = client.post("/_dash-update-component", json=_body(
        dep, {**values, ("ovw-partner", "data"): {"key": ["x"]}},
        trigger="ovw-upload-indicators.contents"))
    assert tampered.status_code == 400


def test_hst020_exports_say_so_when_the_session_store_is_gone(client, deps, monkeypatch):
    from dashboard.shared import SharedStateError

    def dead(self, key):
        raise SharedStateError("shared session store: not answering; restart the server")

    monkeypatch.setattr(ps.PartnerCache, "get", dead)
    store = {"key": "abcdefghijklmnopqrstuvwx", "v": 1}
    dep = _dep(deps, "ovw-partner-download.data")
    resp = client.post("/_dash-update-component", json=_body(
        dep, {("ovw-export-partner", "n_clicks"): 1, ("ovw-partner", "data"): store}))
    assert "Export not made" in json.dumps(_outputs(resp))
    # the LSOA export: the same one-line message (its what-if state is checked first)
    dep = _dep(deps, "ovw-download.data")
    resp = client.post("/_dash-update-component", json=_body(
        dep, {("ovw-export-csv", "n_clicks"): 1, ("ovw-partner", "data"): store}))
    assert resp.status_code == 200 and "Export not made: " in json.dumps(_outputs(resp))
