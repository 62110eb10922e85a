"""The Content-Security-Policy in a real browser: no violations, maps and charts still draw."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from browserkit import find, marks, screenshot, styles, wait_for
from selenium.webdriver.common.by import By

from dashboard.state import PALETTE

pytestmark = pytest.mark.browser

# Runs before any page script, so it sees every violation (a CDP script is not subject to CSP).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' +
  e.lineNumber));
"""


@pytest.fixture
def csp_page(page):
    """The session browser recording CSP violations on every document it loads."""
    script = page.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                  {"source": RECORD_VIOLATIONS})
    yield page
    page.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                         {"identifier": script["identifier"]})


def _violations(drv) -> list[str]:
    violations = drv.execute_script("return window.__csp || null")
    assert violations is not None, "the violation recorder did not run"
    csp_logs = [e["message"] for e in drv.get_log("browser")
                if "Content Security Policy" in e["message"]]
    return violations + csp_logs


def _coloured_paths(drv, map_id: str) -> int:
    """LSOAs drawn on a map's canvas, once one of them has the Very High colour."""
    key = map_id.removesuffix("-map")
    if not (marks(drv, key) or {}).get("drawn"):
        return 0
    fills = list(styles(drv, key).values())
    return len(fills) if any(s["fill"] == PALETTE[4] for s in fills) else 0


def test_sec101_server_sends_the_policy(server):
    with urllib.request.urlopen(server + "/", timeout=10) as resp:  # noqa: S310 - loopback only
        policy = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'sha256-" in policy and "unsafe-eval" not in policy


def test_sec102_overview_and_district_draw_with_no_violations(csp_page, server):
    drv = csp_page
    drv.get(server + "/")
    wait_for(lambda: _coloured_paths(drv, "ovw-map") >= 354, timeout=30,
             message="overview: 354 coloured LSOA shapes not drawn under the CSP")
    # plotly draws the sensitivity chart (SVG, inline styles) with nothing selected
    wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, "#panel-sensitivity .main-svg"),
             timeout=15, message="overview: sensitivity chart not drawn under the CSP")
    screenshot(drv, "csp-overview")
    assert _violations(drv) == []

    drv.get(server + "/district/E07000219")
    wait_for(lambda: _coloured_paths(drv, "dst-map") >= 354, timeout=30,
             message="district: LSOA shapes not drawn under the CSP")
    wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg"),
             timeout=15, message="district: comparison chart not drawn under the CSP")
    # select an LSOA from the table: the panel's charts draw too
    drv.find_element(By.CSS_SELECTOR, "#dst-table td[data-dash-column='lsoa21_code']").click()
    wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, "#panel-chart .main-svg"), timeout=15,
             message="district: LSOA panel chart not drawn under the CSP")
    screenshot(drv, "csp-district")
    assert _violations(drv) == []


def test_sec103_explore_draws_with_no_violations(csp_page, server):
    drv = csp_page
    drv.get(server + "/explore")
    # canvas renderer: no path per shape, so read the page's own marks of features drawn
    wait_for(lambda: (drv.execute_script("return window.svrp.marks.exp") or {}).get("features", 0)
             >= 354, timeout=30, message="explore: shapes not drawn under the CSP")
    wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, "#exp-map canvas"), timeout=10)
    screenshot(drv, "csp-explore")
    assert _violations(drv) == []
    # the county's geometry is parsed on the page (a small scope); another area chosen on the
    # page goes to the web worker, which runs under the policy: no fallback to the page
    assert drv.execute_script("return window.svrpBoot.via") == {
        "/data/lsoa21/E10000031.geojson": "page"}
    _choose_area(drv, "Rugby", "E07000220", 67)
    assert drv.execute_script("return window.svrpBoot.via") == {
        "/data/lsoa21/E10000031.geojson": "page", "/data/lsoa21/E07000220.geojson": "worker"}
    assert _violations(drv) == []


def _choose_area(drv, name: str, code: str, lsoas: int, timeout: float = 30) -> None:
    """Choose an area in explore's area box and wait for its LSOAs to be drawn."""
    find(drv, "#exp-scope").click()  # a lazily loaded component
    search = wait_for(lambda: next(e for e in drv.find_elements(
        By.CSS_SELECTOR, "input.dash-dropdown-search") if e.is_displayed()), timeout=10)
    search.send_keys(name)
    wait_for(lambda: next(e for e in drv.find_elements(
        By.XPATH, f"//*[normalize-space(text())='{name} ({code})']") if e.is_displayed()),
        timeout=10, message=f"{name} not offered").click()
    wait_for(lambda: (drv.execute_script("return window.svrp.marks.exp") or {}).get("features")
             == lsoas, timeout=timeout, message=f"{name}'s geometry did not get through")


@pytest.fixture(scope="module")
def basic_server():
    """A second app, started as ``make run`` starts it, with HTTP Basic sign-in on."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVRP_")}
    env |= {"SVRP_PORT": str(port), "SVRP_TILES_URL": "", "SVRP_AUTH": "basic",
            "SVRP_AUTH_USER": "analyst", "SVRP_AUTH_PASSWORD": "pw-for-tests",
            "DASH_DISABLE_VERSION_CHECK": "true"}
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=Path(__file__).resolve().parents[2],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 - loopback only
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.seek(0)
            pytest.fail(f"app.py with sign-in did not start:\n{log.read()}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_sec104_signed_in_browser_gets_the_map(fresh_driver, basic_server):
    import base64

    drv = fresh_driver
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(basic_server + "/data/lsoa21/E10000031.geojson", timeout=5)  # noqa: S310
    assert refused.value.code == 401
    token = base64.b64encode(b"analyst:pw-for-tests").decode()
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                        {"headers": {"Authorization": f"Basic {token}"}})
    drv.get(basic_server + "/")
    wait_for(lambda: _coloured_paths(drv, "ovw-map") >= 354, timeout=30,
             message="signed in: the geometry, callbacks and bundles did not all get through")
    errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    # explore: the header is added to the page's requests only, not to its web worker's. The
    # county's geometry is parsed on the page (preloaded, signed in)
    drv.get(basic_server + "/explore?scope=E07000219")
    wait_for(lambda: (drv.execute_script("return window.svrp.marks.exp") or {}).get("features")
             == 84, timeout=40, message="signed in: explore's geometry did not get through")
    # another area chosen on the page goes to the worker, whose request waits on a sign-in
    # challenge no one answers; after the watchdog (15 s) the page fetches it itself
    _choose_area(drv, "Rugby", "E07000220", 67, timeout=45)
    assert drv.execute_script("return window.svrpBoot.via")["/data/lsoa21/E07000220.geojson"] \
        == "page"

