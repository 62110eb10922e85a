"""The dashboard as a user sees it, in headless Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browserkit import click_lsoa, marks, screenshot, styles, wait_for
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from shipped import WARWICKSHIRE_DISTRICTS

from dashboard.state import MAP_STYLE, PALETTE
from profiler.export import header, read_export_csv
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def county():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    return score_scope(table, spec, scope="warwickshire")


def _key(map_id: str) -> str:
    return map_id.removesuffix("-map")


def _paths(drv, map_id="ovw-map"):
    """Codes of the LSOAs drawn on a map's canvas (registered shapes), once it has drawn."""
    m = marks(drv, _key(map_id)) or {}
    return sorted(styles(drv, _key(map_id))) if m.get("drawn") else []


def _fills(drv, map_id="ovw-map"):
    """``fill|dash`` of every LSOA on a map, in code order."""
    got = styles(drv, _key(map_id))
    return [f"{got[c]['fill']}|{got[c]['dash']}" for c in sorted(got)]


def _open_overview(drv, url):
    start = time.perf_counter()
    drv.get(url)
    wait_for(lambda: len(_paths(drv)) >= 354, timeout=30, message="354 LSOA shapes not drawn")
    try:
        wait_for(lambda: PALETTE[4] in "".join(_fills(drv)), timeout=15,
                 message="map not coloured")
    except AssertionError:
        screenshot(drv, "failure-not-coloured")
        print(drv.get_log("browser"), _fills(drv)[:5])
        raise
    return time.perf_counter() - start


def test_brw001_overview_renders_354_coloured_shapes(page, server):
    elapsed = _open_overview(page, server + "/")
    print(f"\ncounty page: navigation to 354 coloured shapes in {elapsed * 1000:.0f} ms")
    assert len(_paths(page)) == 354
    got = wait_for(lambda: marks(page, "ovw"), timeout=5)
    assert got["features"] == 354 and got["drawn"] > 0  # the timing hook benchmarks read
    # drawn on the one canvas layer: no SVG path per LSOA
    assert not page.find_elements(By.CSS_SELECTOR, "#ovw-map path.leaflet-interactive")
    fills = [f.split("|")[0] for f in _fills(page)]
    assert {PALETTE[2], PALETTE[3], PALETTE[4]} <= set(fills)
    legend = page.find_element(By.ID, "ovw-legend").text
    assert "Very High" in legend and "Medium" in legend
    screenshot(page, "overview")


def test_brw002_clicking_an_lsoa_fills_the_panel(page, server):
    _open_overview(page, server + "/")
    target = _paths(page)[120]
    click_lsoa(page, "ovw", target)
    title = wait_for(lambda: page.find_element(By.ID, "panel-title").text, timeout=15)
    code = title.split("(")[-1].rstrip(")")
    assert code == target
    ranks = page.find_element(By.ID, "panel-ranks").text
    assert "in the county" in ranks and "in England" in ranks
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#panel-chart .main-svg"), timeout=15,
             message="contribution chart not drawn")
    assert f"lsoa={code}" in page.current_url
    screenshot(page, "lsoa-panel")


def test_brw003_weight_change_recolours_and_reports_changed_bands(page, server):
    _open_overview(page, server + "/")
    before = _fills(page)
    # the slider is a lazily loaded Dash component: it can render just after the map draws
    handle = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, '[id*="violence_with_injury"] .rc-slider-handle, '
        '[id*="violence_with_injury"] [role="slider"]'
    ), timeout=15, message="no weight slider on the overview")
    times = []
    for offset in (150, -60, 40, -30):  # the first change warms the server; then 3 measured
        previous = _fills(page)
        ActionChains(page).click_and_hold(handle).move_by_offset(offset, 0).release().perform()
        start = time.perf_counter()
        wait_for(lambda prev=previous: _fills(page) != prev, timeout=10, interval=0.005,
                 message="map did not recolour after a weight change")
        times.append(time.perf_counter() - start)
    median = sorted(times[1:])[1]
    print(f"\nrecolour after a weight change: median {median * 1000:.0f} ms of 3 "
          f"(first, cold: {times[0] * 1000:.0f} ms; 354 LSOAs)")
    assert _fills(page) != before
    report = wait_for(lambda: "changed overall band" in page.find_element(By.ID, "ovw-changed").text
                      and page.find_element(By.ID, "ovw-changed").text)
    assert int(report.split()[0]) > 0
    assert any("5,4" in f or "5 4" in f for f in _fills(page))  # changed LSOAs outlined
    assert "w=violence_with_injury" in page.current_url
    screenshot(page, "what-if")


def test_brw004_shared_url_restores_the_view(fresh_driver, server, county):
    code = county.iloc[5]["lsoa21_code"]
    url = f"{server}/?layer=knife&w=violence_with_injury:4,homelessness:0&lsoa={code}"
    _open_overview(fresh_driver, url)
    checked = fresh_driver.find_element(By.CSS_SELECTOR, "#ovw-layer input:checked")
    assert checked.get_attribute("value") == "knife"
    wait_for(lambda: code in fresh_driver.find_element(By.ID, "panel-title").text)
    assert "changed overall band" in fresh_driver.find_element(By.ID, "ovw-changed").text
    assert "Knife crime" in fresh_driver.find_element(By.ID, "ovw-legend").text
    assert not [e for e in fresh_driver.get_log("browser") if e["level"] == "SEVERE"]


def test_brw005_bad_url_values_get_a_clear_message(page, server):
    page.get(server + "/?lsoa=<script>alert(1)</script>&w=violence_with_injury:101&layer=x")
    alert = wait_for(lambda: page.find_element(By.ID, "ovw-alert").text, timeout=15)
    assert "not a 2021 LSOA code in Warwickshire" in alert and "from 0 to 100" in alert
    assert "Traceback" not in page.page_source
    wait_for(lambda: len(_paths(page)) >= 354, timeout=30)


@pytest.mark.parametrize("code", list(WARWICKSHIRE_DISTRICTS))
def test_brw006_district_page_lists_its_high_risk_lsoas(page, server, county, code):
    page.get(f"{server}/district/{code}")
    wait_for(lambda: len(_paths(page, "dst-map")) >= 354, timeout=30)
    expected = county[(county["lad24_code"] == code)
                      & county["band"].isin(["High", "Very High"])]
    summary = page.find_element(By.ID, "dst-summary").text
    assert f"{len(expected)} High or Very High" in summary
    cells = "#dst-table tbody tr td[data-dash-column='lsoa21_code']"
    rows = page.find_elements(By.CSS_SELECTOR, cells)
    shown = [r.text for r in rows]
    assert shown == list(expected["lsoa21_code"])[: len(shown)]
    assert len(shown) == min(15, len(expected))
    assert WARWICKSHIRE_DISTRICTS[code] in page.find_element(By.ID, "dst-title").text


def test_brw007_presentation_mode_hides_controls(page, server):
    page.get(f"{server}/district/E07000219")
    wait_for(lambda: len(_paths(page, "dst-map")) >= 354, timeout=30)
    screenshot(page, "district")
    page.find_element(By.ID, "dst-present").click()
    wait_for(lambda: "svrp-present" in page.find_element(By.ID, "dst-root").get_attribute("class"))
    time.sleep(0.5)
    assert not page.find_element(By.CSS_SELECTOR, ".svrp-nav").is_displayed()
    assert not page.find_element(By.ID, "dst-export-csv").is_displayed()
    assert page.find_element(By.ID, "dst-slides").is_displayed()  # the compact list
    screenshot(page, "district-presentation")


def test_brw008_exported_csv_downloads_and_parses(page, server, county, download_dir):
    for old in download_dir.glob("*"):
        old.unlink()
    page.get(f"{server}/district/E07000220")
    wait_for(lambda: page.find_element(By.ID, "dst-export-csv").is_displayed(), timeout=30)
    page.find_element(By.ID, "dst-export-csv").click()
    path = wait_for(lambda: [p for p in download_dir.glob("*.zip")], timeout=20,
                    message="no CSV zip downloaded")[0]
    meta, frame = read_export_csv(path)
    expected = county[(county["lad24_code"] == "E07000220")
                      & county["band"].isin(["High", "Very High"])]
    assert list(frame["LSOA code"]) == list(expected["lsoa21_code"])
    assert meta["district"] == "E07000220" and meta["spec_sha256"]
    assert frame[header("p_high")].astype(float).between(0, 1).all()


def test_brw009_methodology_lists_every_indicator(page, server):
    page.get(f"{server}/methodology")
    text = wait_for(lambda: page.find_element(By.ID, "mth-text").text, timeout=15)
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    for ind in spec.indicators:
        assert ind.label in text
    assert "Open Government Licence" in text


def test_brw010_unknown_district_is_explained(page, server):
    page.get(f"{server}/district/E07999999")
    msg = wait_for(lambda: page.find_element(By.ID, "dst-error").text, timeout=15)
    assert "not a district of Warwickshire" in msg


@pytest.mark.parametrize("mode", ["cluster", "heat", "points"])
def test_brw011_incident_layers_draw(page, server, mode):
    _open_overview(page, server + "/")
    page.find_element(By.CSS_SELECTOR, f"#ovw-incidents input[value='{mode}']").click()
    if mode == "cluster":
        found = wait_for(lambda: page.find_elements(By.CSS_SELECTOR, ".marker-cluster"), timeout=15)
    else:  # SVG circles in the incidents' own pane (the LSOAs are on the canvas below)
        found = wait_for(lambda: len(page.find_elements(
            By.CSS_SELECTOR, "#ovw-map .leaflet-svrp-incidents-pane path")) > 40, timeout=15)
    assert found
    # incidents are drawn above the areas: the LSOA canvas's pane is below the overlay pane,
    # and the incidents' pane above it
    z = page.execute_script(
        "const m = document.getElementById('ovw-map');"
        "const z = s => Number(getComputedStyle(m.querySelector(s)).zIndex);"
        "return [z('.leaflet-svrpLsoas-pane'), z('.leaflet-overlay-pane'),"
        " z('.leaflet-marker-pane')];")
    assert z[0] < z[1] < z[2], z
    screenshot(page, f"incidents-{mode}")


def test_brw012_selecting_a_table_row_selects_the_lsoa(page, server, county):
    _open_overview(page, server + "/")
    first = county.iloc[0]["lsoa21_code"]
    cell = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#ovw-table td[data-dash-column='lsoa21_code']"), timeout=15)
    assert cell.text == first
    cell.click()
    wait_for(lambda: first in page.find_element(By.ID, "panel-title").text, timeout=15)
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#panel-compare .main-svg"), timeout=15)
    # the map outlines the same LSOA (blue, heavy)
    wait_for(lambda: styles(page, "ovw")[first]["color"] == MAP_STYLE["selected"], timeout=10,
             message="the list's LSOA not outlined on the map")
    assert styles(page, "ovw")[first]["weight"] == 4
    screenshot(page, "lsoa-panel-from-table")


def test_brw013_panel_and_tables_say_how_sure(page, server):
    page.get(f"{server}/district/E07000219")
    cell = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#dst-table td[data-dash-column='p_high']"), timeout=30)
    assert cell.text.endswith("%")
    page.find_element(By.CSS_SELECTOR, "#dst-table td[data-dash-column='lsoa21_code']").click()
    text = wait_for(lambda: page.find_element(By.ID, "panel-stability").text, timeout=15)
    assert "of 1,000 what-if profiles" in text


def test_brw014_hot_spot_layer(page, server):
    _open_overview(page, server + "/")
    before = _fills(page)
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='hotspots']").click()
    wait_for(lambda: "Hot spot (99%)" in page.find_element(By.ID, "ovw-legend").text, timeout=15)
    wait_for(lambda: _fills(page) != before, timeout=10)
    assert "#b2182b" in "".join(_fills(page))  # 99% hot spots drawn
    assert "layer=hotspots" in page.current_url
    screenshot(page, "hotspots")


def test_brw015_district_compares_banding_methods(page, server):
    page.get(f"{server}/district/E07000222")
    summary = wait_for(lambda: page.find_element(By.ID, "dst-compare-summary").text, timeout=30)
    assert "under all four schemes" in summary
    headers = page.find_element(By.ID, "dst-compare-bands").text
    for name in ("Std. deviations", "Quintiles", "Natural breaks", "Fixed thresholds"):
        assert name in headers


def test_brw016_how_sure_layer_fades_unstable_lsoas(page, server):
    _open_overview(page, server + "/")
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='stability']").click()
    note = wait_for(lambda: "what-if profiles" in page.find_element(By.ID, "ovw-legend").text
                    and page.find_element(By.ID, "ovw-legend").text, timeout=15)
    assert "Faded, dotted" in note
    wait_for(lambda: any(f.endswith("|2 3") for f in _fills(page)), timeout=10,
             message="no unstable LSOA drawn dotted")
    screenshot(page, "how-sure")


def test_brw017_sensitivity_chart_when_nothing_selected(page, server):
    _open_overview(page, server + "/")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#panel-sensitivity .main-svg"),
             timeout=15, message="sensitivity chart not drawn")
    time.sleep(0.5)
    screenshot(page, "sensitivity")


def test_brw018_district_focus_filters_the_list_and_is_shareable(fresh_driver, server, county):
    code = "E07000219"  # Nuneaton and Bedworth
    _open_overview(fresh_driver, f"{server}/?district={code}&incidents=points")
    cells = "#ovw-table td[data-dash-column='district']"
    rows = wait_for(lambda: fresh_driver.find_elements(By.CSS_SELECTOR, cells), timeout=15,
                    message="table rows not drawn")
    assert {r.text for r in rows} == {WARWICKSHIRE_DISTRICTS[code]}
    checked = fresh_driver.find_element(By.CSS_SELECTOR, "#ovw-incidents input:checked")
    assert checked.get_attribute("value") == "points"
    # hover details: plain text with the LSOA code, MSOA, district and band
    map_box = fresh_driver.find_element(By.ID, "ovw-map")
    ActionChains(fresh_driver).move_to_element(map_box).move_by_offset(5, 5).perform()
    text = wait_for(lambda: "E01" in fresh_driver.find_element(By.ID, "ovw-hover").text
                    and fresh_driver.find_element(By.ID, "ovw-hover").text, timeout=10,
                    message="hover details not shown")
    assert "MSOA:" in text and WARWICKSHIRE_DISTRICTS[code] in text
    screenshot(fresh_driver, "district-focus")
    assert not [e for e in fresh_driver.get_log("browser") if e["level"] == "SEVERE"]
