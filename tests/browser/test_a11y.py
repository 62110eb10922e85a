"""WCAG 2.2 AA on every page and state (issue 15): axe-core finds no violation.

Each test opens a page as a user would, waits until it has settled (map drawn, callbacks done),
then runs axe-core (``tests/browser/axe.py``: tags wcag2a, wcag2aa, wcag21a, wcag21aa,
wcag22aa) on the whole document and fails with every rule, node and summary it reports. The
district and ward pages are taken from the area itself (its first sub-area), never named here.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from axe import assert_no_violations
from browserkit import click_lsoa, page_status_404, wait_for
from selenium.webdriver.common.by import By

from dashboard.state import LAYERS
from profiler.area import AreaCatalogue

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
OVERVIEW_LAYERS = tuple(LAYERS)  # every layer the overview offers

SETTLED_JS = """
return document.readyState === 'complete' && !!document.querySelector('.svrp-page') &&
    !document.querySelector('[data-dash-is-loading="true"]');
"""
DRAWN_JS = """
const m = window.svrp && window.svrp.marks && window.svrp.marks[arguments[0]];
return !!(m && m.drawn && m.features > 0);
"""


@pytest.fixture(scope="module")
def catalogue():
    return AreaCatalogue.load(ROOT / "data")


def settle(drv, key: str | None = None, timeout: float = 60.0) -> None:
    """Wait for the map ``key`` (if any) to be drawn and Dash to finish its callbacks."""
    if key:
        wait_for(lambda: drv.execute_script(DRAWN_JS, key), timeout=timeout,
                 message=f"the {key} map was not drawn")
    # twice, a moment apart: a callback's output can start another callback
    for _ in range(2):
        wait_for(lambda: drv.execute_script(SETTLED_JS), timeout=timeout,
                 message="the page did not settle")
        time.sleep(0.4)


def open_page(drv, url: str, key: str | None = None) -> None:
    drv.get(url)
    settle(drv, key)


def first_lsoa(drv, key: str) -> str:
    return drv.execute_script("return Object.keys(window.svrp.registry[arguments[0]]).sort()[0];",
                              key)


def test_a11y001_overview(page, server):
    open_page(page, server + "/", "ovw")
    assert_no_violations(page, "overview")


def test_a11y002_overview_panel_open(page, server):
    open_page(page, server + "/", "ovw")
    code = first_lsoa(page, "ovw")
    click_lsoa(page, "ovw", code)
    wait_for(lambda: code in page.find_element(By.ID, "ovw-panel").text, timeout=20,
             message="the panel did not open")
    settle(page)
    assert_no_violations(page, "overview-panel")


@pytest.mark.parametrize("layer", OVERVIEW_LAYERS)
def test_a11y003_overview_layers(page, server, layer):
    open_page(page, server + "/", "ovw")
    if layer != "overall":
        page.find_element(By.CSS_SELECTOR, f"#ovw-layer input[value='{layer}']").click()
        settle(page)
    assert_no_violations(page, f"overview-layer-{layer}")


@pytest.mark.parametrize("mode", ("cluster", "points", "heat"))
def test_a11y004_overview_incidents(page, server, mode):
    open_page(page, server + "/", "ovw")
    page.find_element(By.CSS_SELECTOR, f"#ovw-incidents input[value='{mode}']").click()
    settle(page)
    assert_no_violations(page, f"overview-incidents-{mode}")


def _default_subarea(page, server) -> str:
    """The first district link of the default area's navigation (``/district/<code>``)."""
    open_page(page, server + "/", "ovw")
    links = page.find_elements(By.CSS_SELECTOR, "#svrp-nav-area a[href^='/district/']")
    assert links, "no district links in the navigation"
    return links[0].get_attribute("href")


def test_a11y005_district(page, server):
    href = _default_subarea(page, server)
    open_page(page, href, "dst")
    wait_for(lambda: page.find_elements(By.ID, "dst-compare"), timeout=30,
             message="the district chart did not arrive")
    settle(page)
    assert_no_violations(page, "district")


def test_a11y006_district_panel_open(page, server):
    href = _default_subarea(page, server)
    open_page(page, href, "dst")
    code = page.execute_script(
        "const v = window.svrp.state.dst; return v.inside && v.inside[0];")
    click_lsoa(page, "dst", code)
    wait_for(lambda: code in page.find_element(By.ID, "dst-panel").text, timeout=20,
             message="the district panel did not open")
    settle(page)
    assert_no_violations(page, "district-panel")


def test_a11y007_presentation(page, server):
    href = _default_subarea(page, server)
    open_page(page, href + "?present=1", "dst")
    assert_no_violations(page, "presentation")


@pytest.mark.parametrize("area", ("E10000034", "E08000026"))
def test_a11y008_other_area_overview_and_profile(page, server, catalogue, area):
    home = catalogue.resolve(area)
    open_page(page, f"{server}/area/{home.code}", "ovw")
    assert_no_violations(page, f"area-{home.code}")
    sub = home.subareas[0]
    open_page(page, f"{server}/area/{home.code}/{home.sub_level}/{sub.code}", "dst")
    assert_no_violations(page, f"area-{home.code}-{home.sub_level}")


@pytest.mark.parametrize("query", ("", "?scope=england"))
def test_a11y009_explore(page, server, query):
    open_page(page, server + "/explore" + query, "exp")
    assert_no_violations(page, "explore" + (query and "-england"))


def test_a11y010_explore_panel_open(page, server):
    open_page(page, server + "/explore", "exp")
    code = first_lsoa(page, "exp")
    click_lsoa(page, "exp", code)
    wait_for(lambda: code in page.find_element(By.ID, "exp-panel").text, timeout=20,
             message="the explore panel did not open")
    settle(page)
    assert_no_violations(page, "explore-panel")


def drop_own_404(drv, url: str) -> None:
    """Read the console: the page's own 404 (its status) is expected, and nothing else."""
    errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    assert errors and all(page_status_404(e) and e["message"].startswith(url + " ")
                          for e in errors), f"expected only the page's own 404: {errors}"


@pytest.mark.parametrize("path", ("/methodology", "/accessibility", "/no-such-page"))
def test_a11y011_text_pages(page, server, path):
    open_page(page, server + path)
    if path == "/no-such-page":
        drop_own_404(page, server + path)
    assert_no_violations(page, path.strip("/"))


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback only
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a11y012_bad_links_answer_404(server, catalogue):
    home = catalogue.resolve("E08000026")  # one district: profiled by ward
    good = ["/", "/explore", "/methodology", "/accessibility", f"/area/{home.code}",
            f"/area/{home.code}/{home.sub_level}/{home.subareas[0].code}"]
    bad = ["/no-such-page", "/404", "/district/E07999999", "/district/nonsense",
           "/area/E99999999", "/area/E10000034/district/E07999999",
           f"/area/{home.code}/district/{home.subareas[0].code}",  # wards, not districts
           "/area/E10000034/nonsense"]
    assert {p: _status(server + p) for p in good} == dict.fromkeys(good, 200)
    assert {p: _status(server + p) for p in bad} == dict.fromkeys(bad, 404)


def test_a11y013_not_found_page_is_friendly(page, server):
    for path in ("/district/E07999999", "/area/E99999999"):
        page.get(server + path)
        settle(page)
        drop_own_404(page, server + path)
        text = page.find_element(By.CSS_SELECTOR, ".svrp-page").text
        assert "not found" in text.lower() or "no such area" in text.lower(), text
        assert_no_violations(page, "not-found" + path.replace("/", "-"))


WIDEST_JS = """
const w = document.documentElement.clientWidth;
const over = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > w + 1 &&
        !e.closest('.dash-table-container, .leaflet-container');
}).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + String(e.className).slice(0, 40));
return {scroll: document.documentElement.scrollWidth, width: w, over: over};
"""


def test_a11y014_district_reflows_at_320px(page, server):
    href = _default_subarea(page, server)
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": False})
    try:
        open_page(page, href, "dst")
        wait_for(lambda: page.find_elements(By.ID, "dst-compare"), timeout=30,
                 message="the district chart did not arrive")
        settle(page)
        from browserkit import screenshot

        screenshot(page, "a11y-district-320px")
        out = page.execute_script(WIDEST_JS)
        assert out["width"] <= 320 and out["scroll"] <= out["width"], out
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


LABELS_JS = """
return [...document.querySelectorAll('#ovw-map .svrp-district-label')]
    .filter(e => e.getBoundingClientRect().width > 0).length;
"""


def test_a11y015_key_folds_and_district_names_switch_off(page, server):
    open_page(page, server + "/", "ovw")
    shown = page.execute_script(LABELS_JS)
    assert shown > 0, "no district names on the map"
    button = page.find_element(By.CSS_SELECTOR, "#ovw-legend .svrp-labels-toggle")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    wait_for(lambda: page.execute_script(LABELS_JS) == 0, timeout=5,
             message="the district names did not switch off")
    assert button.get_attribute("aria-pressed") == "true"
    assert_no_violations(page, "overview-names-off")
    # the key folds to its title and opens again
    page.find_element(By.CSS_SELECTOR, "#ovw-legend summary").click()
    assert not page.find_element(By.CSS_SELECTOR, "#ovw-legend details").get_attribute("open")
    assert not page.find_element(By.CSS_SELECTOR, "#ovw-legend .svrp-legend-list").is_displayed()
    page.find_element(By.CSS_SELECTOR, "#ovw-legend summary").click()
    assert page.find_element(By.CSS_SELECTOR, "#ovw-legend .svrp-legend-list").is_displayed()
    button.click()
    wait_for(lambda: page.execute_script(LABELS_JS) == shown, timeout=5,
             message="the district names did not come back")


def test_a11y016_overview_group_lists_open(page, server):
    open_page(page, server + "/", "ovw")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#ovw-quad-chart .js-plotly-plot"),
             timeout=20, message="the quadrant chart was not mounted")
    for details in page.find_elements(By.CSS_SELECTOR, "#ovw-quad-groups details"):
        page.execute_script("arguments[0].open = true;", details)
    settle(page)
    assert_no_violations(page, "overview-group-lists")
