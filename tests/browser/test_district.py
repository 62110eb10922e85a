"""District profile pages in headless Chromium: lists, emphasis, exports, presentation mode."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import openpyxl
import pytest
from browserkit import marks, screenshot, styles, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from shipped import WARWICKSHIRE_DISTRICTS

from profiler.engine import BANDS
from profiler.export import read_export_csv
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
HIGH = ["Very High", "High"]
CODE_CELLS = "#dst-table td[data-dash-column='lsoa21_code']"


@pytest.fixture(scope="module")
def county():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    return score_scope(table, spec, scope="warwickshire")


def _expected(county, code):
    return county[(county["lad24_code"] == code) & county["band"].isin(HIGH)]


def _drawn(drv) -> int:
    m = marks(drv, "dst") or {}
    return m.get("features", 0) if m.get("drawn") else 0


def _open(drv, url):
    drv.get(url)
    wait_for(lambda: _drawn(drv) >= 354, timeout=30, message="district map shapes not drawn")
    # the style function has run once High/Very High shapes are fully opaque
    wait_for(lambda: _opaque(drv), timeout=15, message="district map not styled")


def _opaque(drv, codes: bool = False):
    """Fills (or codes) of the shapes drawn at full strength on the canvas."""
    got = styles(drv, "dst")
    return [c if codes else s["fill"] for c, s in sorted(got.items()) if s["fillOpacity"] == 0.78]


def _all_table_codes(drv) -> list[str]:
    """Codes on every page of ``dst-table``, following its pagination."""
    codes = []
    while True:
        cells = drv.find_elements(By.CSS_SELECTOR, CODE_CELLS)
        codes += [c.text for c in cells]
        nxt = drv.find_elements(By.CSS_SELECTOR, "#dst-table button.next-page")
        if not cells or not nxt or not nxt[0].is_enabled():
            return codes
        first = cells[0].text
        nxt[0].click()
        wait_for(lambda f=first: drv.find_element(By.CSS_SELECTOR, CODE_CELLS).text != f,
                 timeout=10, message="table did not turn the page")


@pytest.mark.parametrize("code", list(WARWICKSHIRE_DISTRICTS))
def test_dst001_district_lists_all_its_high_risk_lsoas(page, server, county, code):
    _open(page, f"{server}/district/{code}")
    expected = _expected(county, code)
    assert WARWICKSHIRE_DISTRICTS[code] in page.find_element(By.ID, "dst-title").text
    summary = page.find_element(By.ID, "dst-summary").text
    assert f"{(county['lad24_code'] == code).sum()} LSOAs; {len(expected)} High or Very High" \
        in summary
    if expected.empty:
        assert not page.find_elements(By.CSS_SELECTOR, CODE_CELLS)
    else:
        wait_for(lambda: page.find_elements(By.CSS_SELECTOR, CODE_CELLS), timeout=15)
    assert _all_table_codes(page) == list(expected["lsoa21_code"])
    # counts per band, overall row, match the profile
    counts = page.find_element(By.CSS_SELECTOR, "#dst-counts tbody tr").text.split()
    rows = county[county["lad24_code"] == code]
    assert [int(n) for n in counts[-5:]] == [int((rows["band"] == b).sum()) for b in BANDS[::-1]]
    # only the district's High/Very High shapes are drawn at full strength
    assert len(_opaque(page)) == len(expected)
    assert set(_opaque(page)) <= {"#d7191c", "#fdae61"}
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#dst-compare .main-svg"), timeout=15,
             message="district vs county chart not drawn")
    for theme in ("Knife crime", "Domestic violence", "Public-place violence"):
        assert theme in page.find_element(By.ID, "dst-counts").text


def test_dst002_presentation_mode_hides_controls_and_fills_the_screen(page, server):
    _open(page, f"{server}/district/E07000219")
    time.sleep(0.5)  # let the tiles-free map settle before the screenshot
    screenshot(page, "district-profile")
    assert page.find_element(By.ID, "dst-export-csv").is_displayed()
    page.find_element(By.ID, "dst-present").click()
    wait_for(lambda: "svrp-present" in page.find_element(By.ID, "dst-root").get_attribute("class"),
             timeout=15, message="presentation mode did not start")
    assert "present=1" in page.current_url  # the mode is in the link, so it can be shared
    wait_for(lambda: _drawn(page) >= 354, timeout=30)
    time.sleep(0.8)
    for hidden in (".svrp-nav", "#dst-export-csv", "#dst-print", "#dst-compare",
                   "#dst-compare-bands"):
        assert not page.find_element(By.CSS_SELECTOR, hidden).is_displayed(), hidden
    # the compact list (dashboard.present) stands in for the paged table
    assert page.find_element(By.ID, "dst-slides").is_displayed()
    height, width = page.execute_script("return [window.innerHeight, window.innerWidth];")
    box = page.find_element(By.ID, "dst-map").rect
    assert box["height"] >= 0.75 * height and box["width"] >= 0.45 * width, box
    font = page.execute_script(
        "return parseFloat(getComputedStyle(document.getElementById('dst-root')).fontSize);")
    assert font >= 20
    screenshot(page, "district-profile-presentation")
    page.find_element(By.ID, "dst-present").click()
    wait_for(lambda: "svrp-present" not in page.find_element(By.ID, "dst-root")
             .get_attribute("class"), timeout=15)
    assert page.find_element(By.CSS_SELECTOR, ".svrp-nav").is_displayed()


def test_dst003_presentation_link_opens_in_presentation_mode(fresh_driver, server):
    _open(fresh_driver, f"{server}/district/E07000222?present=1")
    assert "svrp-present" in fresh_driver.find_element(By.ID, "dst-root").get_attribute("class")
    assert not fresh_driver.find_element(By.ID, "dst-export-xlsx").is_displayed()
    assert not [e for e in fresh_driver.get_log("browser") if e["level"] == "SEVERE"]


def _download(page, download_dir, button, pattern):
    for old in download_dir.glob("*"):
        old.unlink()
    page.find_element(By.ID, button).click()
    return wait_for(lambda: [p for p in download_dir.glob(pattern)
                             if p.stat().st_size > 0], timeout=20,
                    message=f"no {pattern} downloaded")[0]


def test_dst004_exports_download_and_parse(page, server, county, download_dir):
    code = "E07000219"
    expected = list(_expected(county, code)["lsoa21_code"])
    _open(page, f"{server}/district/{code}")
    path = _download(page, download_dir, "dst-export-csv", "*.zip")
    meta, frame = read_export_csv(path)
    assert list(frame["LSOA code"]) == expected and meta["rows"] == str(len(expected))
    assert meta["district"] == code and meta["bands"] == "Very High, High"
    assert "decision support" in meta["caveat"] and meta["generated_at"].endswith("+00:00")
    assert (frame["District"] == WARWICKSHIRE_DISTRICTS[code]).all()
    assert "Prepared" in page.find_element(By.ID, "dst-export-msg").text

    path = _download(page, download_dir, "dst-export-xlsx", "*.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert book.sheetnames == ["LSOAs", "About"]
    assert [r[0] for r in book["LSOAs"].iter_rows(min_row=2, values_only=True)] == expected

    path = _download(page, download_dir, "dst-export-geojson", "*.geojson")
    doc = json.loads(path.read_bytes())
    assert [f["properties"]["LSOA code"] for f in doc["features"]] == expected
    assert doc["metadata"]["district"] == code


def test_dst005_table_is_sortable_and_keyboard_navigable(page, server, county):
    code = "E07000219"
    expected = _expected(county, code)
    _open(page, f"{server}/district/{code}")
    cells = wait_for(lambda: page.find_elements(By.CSS_SELECTOR, CODE_CELLS), timeout=15)
    cells[0].click()
    wait_for(lambda: expected.iloc[0]["lsoa21_code"] in page.find_element(By.ID, "panel-title")
             .text, timeout=15, message="selecting a row did not fill the panel")
    page.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    wait_for(lambda: expected.iloc[1]["lsoa21_code"] in page.find_element(By.ID, "panel-title")
             .text, timeout=15, message="arrow key did not move the selection")
    # sorting by score (ascending) puts the lowest-scoring High LSOA first
    page.find_element(
        By.CSS_SELECTOR, "#dst-table th[data-dash-column='score'] .column-header--sort").click()
    wait_for(lambda: page.find_element(By.CSS_SELECTOR, CODE_CELLS).text
             == expected.iloc[-1]["lsoa21_code"], timeout=10, message="sort did not reorder")


@pytest.mark.parametrize("bad", ["E07999999", "rugby", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"])
def test_dst006_unknown_district_is_explained(page, server, bad):
    page.get(f"{server}/district/{bad}")
    msg = wait_for(lambda: page.find_element(By.ID, "dst-error").text, timeout=15)
    assert "not a district of Warwickshire" in msg and "Rugby (E07000220)" in msg
    assert not page.find_elements(By.CSS_SELECTOR, "#dst-error img")  # shown as text only
    assert "Traceback" not in page.page_source


def test_dst007_print_layout_lists_every_lsoa_and_fits_the_map(page, server, county):
    code = "E07000219"
    expected = _expected(county, code)
    _open(page, f"{server}/district/{code}")
    size = page.get_window_size()
    try:
        page.execute_script("window.dispatchEvent(new Event('beforeprint'))")
        page.set_window_size(1063, 900)  # about A4 landscape (277 mm) at 96 dpi
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert page.execute_script("return window.svrpDistrict.fit()")
        time.sleep(0.8)
        screenshot(page, "district-profile-print")
        for hidden in (".svrp-nav", "#dst-present", "#dst-print", "#dst-export-csv", "#dst-table",
                       "#dst-panel"):
            assert not page.find_element(By.CSS_SELECTOR, hidden).is_displayed(), hidden
        cells = page.find_elements(By.CSS_SELECTOR, "#dst-print-list tbody tr td:first-child")
        assert [c.text for c in cells] == list(expected["lsoa21_code"])  # all, not one page
        assert page.find_element(By.ID, "dst-counts-print").is_displayed()
        # every High/Very High shape of the district lies inside the (paper-sized) map
        inside = page.execute_script(
            "const reg = window.svrp.registry.dst;"
            "return arguments[0].map(c => { const l = reg[c]; const b = l.getBounds();"
            "const s = l._map.getSize();"
            "const a = l._map.latLngToContainerPoint(b.getNorthWest());"
            "const z = l._map.latLngToContainerPoint(b.getSouthEast());"
            "return a.x >= -1 && a.y >= -1 && z.x <= s.x + 1 && z.y <= s.y + 1; });",
            _opaque(page, codes=True))
        assert inside and all(inside)
        page_rule = page.execute_script(
            "for (const s of document.styleSheets) { for (const r of s.cssRules) {"
            " if (r.type === CSSRule.PAGE_RULE) { return r.style.size; } } } return null;")
        assert (page_rule or "").lower() == "a4 landscape"
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        page.execute_script("window.dispatchEvent(new Event('afterprint'))")
        page.set_window_size(size["width"], size["height"])
