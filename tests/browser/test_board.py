"""Meeting room and board paper (issue 17) in headless Chromium at 1280x720.

Presentation mode shows the whole High/Very High list and the map without scrolling; exports
download with readable headers; the printed A4 profile carries page numbers, date and sources
on every page. Expected figures come from the profile scored here, never hard-coded.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from browserkit import marks, screenshot, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.present import PER_SLIDE
from profiler.export import header
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
HIGH = ["Very High", "High"]
NUNEATON = "E07000219"
W, H = 1280, 720

IN_VIEW_JS = """
const r = arguments[0].getBoundingClientRect();
return [r.left, r.top, r.right, r.bottom, r.width, r.height];
"""


@pytest.fixture(scope="module")
def county():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    return score_scope(table, spec, scope="warwickshire")


@pytest.fixture
def screen(page):
    """The session browser with a 1280x720 viewport (a Teams share), reset afterwards."""
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": W, "height": H, "deviceScaleFactor": 1, "mobile": False})
    yield page
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _drawn(drv) -> int:
    m = marks(drv, "dst") or {}
    return m.get("features", 0) if m.get("drawn") else 0


def _open(drv, url):
    drv.get(url)
    wait_for(lambda: _drawn(drv) > 0, timeout=40, message="district map shapes not drawn")


def _inside(drv, element) -> bool:
    left, top, right, bottom, width, height = drv.execute_script(IN_VIEW_JS, element)
    return width > 0 and height > 0 and left >= 0 and top >= 0 and right <= W + 0.5 and \
        bottom <= H + 0.5


def _no_scroll(drv) -> bool:
    return drv.execute_script(
        "return document.documentElement.scrollHeight <= window.innerHeight && "
        "document.documentElement.scrollWidth <= window.innerWidth;")


def test_brd001_presentation_shows_whole_list_and_map_at_1280x720(screen, server, county):
    page = screen
    expected = county[(county["lad24_code"] == NUNEATON) & county["band"].isin(HIGH)]
    codes = list(expected["lsoa21_code"])
    assert codes, "Nuneaton and Bedworth has High/Very High LSOAs in the profile"
    _open(page, f"{server}/district/{NUNEATON}?present=1")
    assert page.execute_script("return [innerWidth, innerHeight]") == [W, H]
    rows = wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#dst-slides .svrp-prow"),
                    timeout=15, message="compact list not rendered")
    assert [r.get_attribute("data-code") for r in rows] == codes  # every one, in order
    time.sleep(0.5)
    screenshot(page, "board-presentation-1280x720")
    shown = [r for r in rows if r.is_displayed()]
    assert len(shown) == min(len(codes), PER_SLIDE)
    time.sleep(0.5)
    the_map = page.find_element(By.ID, "dst-map")
    assert _inside(page, the_map)
    left, top, right, bottom, width, height = page.execute_script(IN_VIEW_JS, the_map)
    assert width >= 0.4 * W and height >= 0.75 * H, (width, height)
    assert all(_inside(page, r) for r in shown), "a row is outside the 1280x720 view"
    assert _no_scroll(page)
    size = page.execute_script(
        "return parseFloat(getComputedStyle(arguments[0]).fontSize);", shown[0])
    assert size >= 16
    screenshot(page, "board-presentation-1280x720")
    # a row explains itself in the same view
    shown[2].click()
    why = wait_for(lambda: page.find_element(By.ID, "dst-why")
                   if page.find_element(By.ID, "dst-why").is_displayed() else None,
                   timeout=10, message="why-panel did not open")
    wait_for(lambda: codes[2] in page.find_element(By.ID, "panel-title").text, timeout=15,
             message="why-panel does not show the chosen LSOA")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#panel-chart .main-svg"), timeout=15)
    assert _inside(page, why) and _inside(page, the_map) and _no_scroll(page)
    time.sleep(0.4)
    screenshot(page, "board-presentation-why-1280x720")
    page.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait_for(lambda: not page.find_element(By.ID, "dst-why").is_displayed(), timeout=5,
             message="Esc did not close the why-panel")
    assert shown[0].is_displayed()


def test_brd002_district_exports_are_board_ready(page, server, county, download_dir):
    expected = county[(county["lad24_code"] == NUNEATON) & county["band"].isin(HIGH)]
    _open(page, f"{server}/district/{NUNEATON}")
    for old in download_dir.glob("*"):
        old.unlink()
    page.find_element(By.ID, "dst-export-xlsx").click()
    path = wait_for(lambda: [p for p in download_dir.glob("*.xlsx") if p.stat().st_size],
                    timeout=20, message="no Excel downloaded")[0]
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    sheet = book["LSOAs"]
    heads = [c.value for c in sheet[1]]
    inner = header("rank", scope="Nuneaton and Bedworth")
    assert inner in heads and header("home_rank", home="Warwickshire") in heads
    ranks = [r[heads.index(inner)] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert ranks == sorted(ranks) and ranks[0] == 1 and len(ranks) == len(expected)
    assert sheet.freeze_panes == "B2"
    assert "Method" in [r[0] for r in book["About"].iter_rows(values_only=True)]
    page.find_element(By.ID, "dst-export-csv").click()
    path = wait_for(lambda: [p for p in download_dir.glob("*.zip") if p.stat().st_size],
                    timeout=20, message="no CSV zip downloaded")[0]
    bundle = zipfile.ZipFile(path)
    table = next(n for n in bundle.namelist() if n.endswith(".csv"))
    first = bundle.read(table).decode("utf-8").split("\n")[0]
    assert first.startswith("LSOA code,") and any(n.endswith("-about.txt")
                                                  for n in bundle.namelist())


def test_brd003_explore_has_exports(page, server, download_dir):
    page.get(f"{server}/explore?scope={NUNEATON}&ref=area")
    button = wait_for(lambda: page.find_element(By.ID, "exp-export-xlsx"), timeout=40)
    for old in download_dir.glob("*"):
        old.unlink()
    button.click()
    path = wait_for(lambda: [p for p in download_dir.glob("*.xlsx") if p.stat().st_size],
                    timeout=30, message="no Excel downloaded from /explore")[0]
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["LSOAs"]
    heads = [c.value for c in sheet[1]]
    assert header("rank", scope="Nuneaton and Bedworth") in heads


PANE_Z_JS = """
const m = document.getElementById('ovw-map');
const z = s => {
  const e = m.querySelector(s);
  return e ? Number(getComputedStyle(e).zIndex) : null;
};
return [z('.leaflet-svrpLsoas-pane'), z('.leaflet-overlay-pane'),
        z('.leaflet-svrp-incidents-pane')];
"""
POINTS = "#ovw-map .leaflet-svrp-incidents-pane path"


def _legend_counts(drv) -> dict[str, int]:
    box = drv.find_elements(By.CSS_SELECTOR, "#ovw-incident-legend .svrp-legend")[0]  # types
    out = {}
    for li in box.find_elements(By.CSS_SELECTOR, ".svrp-legend-list li"):
        name = li.find_element(By.CSS_SELECTOR, ".svrp-legend-band").text
        out[name] = int(li.find_element(By.CSS_SELECTOR, ".svrp-legend-count").text.replace(",",
                                                                                           ""))
    return out


def _overview(drv, url):
    drv.get(url)
    try:
        wait_for(lambda: (marks(drv, "ovw") or {}).get("drawn"), timeout=40,
                 message="overview map not drawn")
    except AssertionError:
        screenshot(drv, "failure-board-overview")
        print(drv.get_log("browser"))
        raise


def test_brd004_police_layer_legend_filter_tooltips_and_order(fresh_driver, server):
    page = fresh_driver
    page.set_window_size(W, H + 120)
    _overview(page, f"{server}/?incidents=points")
    wait_for(lambda: len(page.find_elements(By.CSS_SELECTOR, POINTS)) > 40, timeout=20,
             message="incident points not drawn on a shared link")
    lsoas, overlay, incidents = page.execute_script(PANE_Z_JS)
    assert lsoas < overlay < incidents, (lsoas, overlay, incidents)  # points above the areas
    whole = wait_for(lambda: _legend_counts(page), timeout=10, message="no incident legend")
    assert len(whole) >= 2 and sum(whole.values()) > 0
    # tooltips: plain text, type, month and police.uk's snapped location
    from selenium.webdriver.common.action_chains import ActionChains

    point = page.find_elements(By.CSS_SELECTOR, POINTS)[0]
    ActionChains(page).move_to_element(point).perform()
    tip = wait_for(lambda: page.find_element(By.CSS_SELECTOR, ".svrp-incident-tip").text,
                   timeout=10, message="no incident tooltip")
    assert "Month: " in tip and "Snapped location" in tip
    assert any(t in tip for t in whole)
    screenshot(page, "board-incidents-points")
    # the type filter: drop the commonest type, fewer points, legend without it
    before = len(page.find_elements(By.CSS_SELECTOR, POINTS))
    common = max(whole, key=whole.get)
    page.find_element(By.CSS_SELECTOR, f"#ovw-incident-types input[value='{common}']").click()
    wait_for(lambda: 0 < len(page.find_elements(By.CSS_SELECTOR, POINTS)) < before, timeout=15,
             message="type filter did not remove points")
    wait_for(lambda: common not in _legend_counts(page), timeout=10)
    # counts follow the focused district (a shared link with the district)
    _overview(page, f"{server}/?district={NUNEATON}&incidents=heat")
    title = wait_for(lambda: page.find_element(By.CSS_SELECTOR, "#ovw-incident-legend "
                                               ".svrp-legend-title").text, timeout=15)
    assert "Nuneaton and Bedworth" in title
    here = _legend_counts(page)
    assert all(here[t] <= whole[t] for t in here) and sum(here.values()) < sum(whole.values())
    assert "Heat" in page.find_element(By.ID, "ovw-incident-legend").text
    page.execute_script("document.getElementById('ovw-incident-types').scrollIntoView()")
    time.sleep(0.3)
    screenshot(page, "board-incidents-heat-district")


def _png_size(path: Path) -> tuple[int, int]:
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(blob[16:20], "big"), int.from_bytes(blob[20:24], "big")


def test_brd005_map_and_chart_save_as_slide_pngs(page, server, download_dir):
    from dashboard.slides import SLIDE, slug

    _open(page, f"{server}/district/{NUNEATON}")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#dst-compare .main-svg"), timeout=20,
             message="chart not drawn")
    time.sleep(0.5)
    for old in download_dir.glob("*"):
        old.unlink()
    button = page.find_element(By.ID, "dst-map-png")
    button.click()
    name = button.get_attribute("data-filename")
    assert name == slug("Nuneaton and Bedworth: High and Very High LSOAs") + ".png"
    path = wait_for(lambda: [p for p in download_dir.glob(name) if p.stat().st_size > 10_000],
                    timeout=20, message="map PNG not saved")[0]
    assert _png_size(path) == (SLIDE["width"], SLIDE["height"])
    (ROOT / "artifacts" / "screenshots").mkdir(parents=True, exist_ok=True)
    (ROOT / "artifacts" / "screenshots" / "board-map-slide.png").write_bytes(path.read_bytes())
    # the chart: plotly's own PNG download, named and sized for a slide
    from selenium.webdriver.common.action_chains import ActionChains

    chart = page.find_element(By.ID, "dst-compare")
    ActionChains(page).move_to_element(chart).perform()
    page.find_element(By.CSS_SELECTOR, "#dst-compare .modebar-btn[data-title^='Download']").click()
    stem = slug("Nuneaton and Bedworth vs Warwickshire indicators")
    path = wait_for(lambda: [p for p in download_dir.glob(f"{stem}*.png")
                             if p.stat().st_size > 10_000], timeout=20,
                    message="chart PNG not saved")[0]
    assert _png_size(path) == (SLIDE["width"], SLIDE["height"])
    (ROOT / "artifacts" / "screenshots" / "board-chart-slide.png").write_bytes(path.read_bytes())


def _pdf_pages(path: Path) -> list[str]:
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian poppler-utils) not installed: make browser-deps")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,  # noqa: S603,S607
                          check=True).stdout
    n = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(path), "-"],  # noqa: S603,S607
                           capture_output=True, text=True, check=True).stdout
            for i in range(1, n + 1)]


def test_brd006_printed_profile_has_date_editions_sources_and_page_numbers(page, server,
                                                                          county):
    import base64
    from datetime import datetime

    from dashboard.slides import editions
    from profiler.spec import load_spec

    expected = county[(county["lad24_code"] == NUNEATON) & county["band"].isin(HIGH)]
    _open(page, f"{server}/district/{NUNEATON}")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#dst-compare .main-svg"), timeout=20,
             message="chart not drawn")
    # what the browser does on Ctrl+P or the Print button: beforeprint, then print
    page.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    time.sleep(0.8)
    pdf = page.execute_cdp_cmd("Page.printToPDF", {
        "landscape": True, "printBackground": True, "preferCSSPageSize": True,
        "paperWidth": 11.69, "paperHeight": 8.27})
    page.execute_script("window.dispatchEvent(new Event('afterprint'));")
    out = ROOT / "artifacts" / "board-profile.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(pdf["data"]))
    pages = _pdf_pages(out)
    n = len(pages)
    assert n >= 2
    today = datetime.now().strftime("%-d %B %Y")
    data = "Data: " + editions(load_spec(ROOT / "data/indicators/spec.toml"))
    for i, text in enumerate(pages, 1):
        flat = " ".join(text.split())
        assert f"Page {i} of {n}" in flat, (i, flat[-300:])
        assert f"Printed {today}" in flat, (i, flat[:300])
        assert data[:40] in flat, (i, flat[:300])
        assert "Contains OS data" in flat and "Open Government Licence" in flat, i
        assert "Nuneaton and Bedworth: serious-violence risk profile" in flat, i
    whole = " ".join(" ".join(p.split()) for p in pages)
    for code in expected["lsoa21_code"]:
        assert code in whole, code  # every High/Very High LSOA is printed
    for section in ("Change since IoD2019", "Rose",
                    "How Nuneaton and Bedworth compares",
                    "Most similar to", "standard deviations", "Reading these changes"):
        assert section in whole, section


def test_brd007_ward_of_a_one_district_area_compares_with_district_england_and_similar(
        screen, server, county):
    from profiler.area import AreaCatalogue
    from profiler.similar import district_profiles, nearest_districts

    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    coventry = AreaCatalogue.load(ROOT / "data", table=table).resolve("E08000026")
    ward = coventry.subareas[0]
    page = screen
    page.get(f"{server}/area/E08000026/ward/{ward.code}")
    bench = wait_for(lambda: page.find_element(By.ID, "dst-benchmark"), timeout=60,
                     message="no comparison on the ward page")
    heads = [th.text for th in bench.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads[1:] == [ward.name, "Coventry (home area)",
                         "Similar districts (average of 5)", "England"]
    near = nearest_districts(district_profiles(table, spec), "E08000026")
    similar = page.find_element(By.ID, "dst-similar").text
    assert all(name in similar for name in near["lad24_name"])
    assert "Euclidean" in page.find_element(By.ID, "dst-similar-method").text
    page.execute_script("document.getElementById('dst-compare-others').scrollIntoView()")
    time.sleep(0.3)
    screenshot(page, "board-ward-comparison-1280x720")


@pytest.mark.parametrize("url,contexts,click", [
    (f"/district/{NUNEATON}?present=1", ["#dst-slides"], None),
    # the live page's rows (the first paint's static copy has the same classes, without ids)
    (f"/district/{NUNEATON}?present=1", ["#dst-why"], "#react-entry-point .svrp-prow"),
    (f"/district/{NUNEATON}", ["#dst-compare-others", ".svrp-exports", "#dst-map-png"], None),
    ("/?incidents=heat", ["#ovw-incident-types", "#ovw-incident-legend"], None),
    (f"/explore?scope={NUNEATON}&ref=area", [".svrp-exports"], None),
])
def test_brd008_new_controls_pass_axe(screen, server, url, contexts, click):
    """The accessibility issue's axe check (tests/browser/axe.py) on this issue's controls."""
    axe = pytest.importorskip("axe", reason="tests/browser/axe.py (accessibility issue) not here")
    page = screen
    page.get(server + url)
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, contexts[0]) or (
        click and page.find_elements(By.CSS_SELECTOR, click)), timeout=40)
    if click:
        page.find_elements(By.CSS_SELECTOR, click)[0].click()
        wait_for(lambda: page.find_element(By.ID, "panel-title"), timeout=15)
    time.sleep(1.0)
    for context in contexts:
        found = axe.axe_violations(page, context)
        assert not found, [(v["id"], v["nodes"][0]["target"]) for v in found]
