"""Place search on every map page (issue 15): find, zoom to, outline; list filters.

The app runs on a data folder whose postcodes were imported from the SYNTHETIC ONSPD extract
(tests/data/onspd), by `python -m profiler postcodes import`, as a user would.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from browserkit import running_app, screenshot, styles, wait_drawn, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.state import MAP_STYLE
from profiler.area import AreaCatalogue
from profiler.places import PlaceIndex, normalise

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ONSPD = ROOT / "tests" / "data" / "onspd" / "ONSPD_SYNTHETIC_UK.csv"

VIEW_JS = """
const layer = window.svrp && window.svrp.canvas && window.svrp.canvas.layer(arguments[0]);
const map = layer && layer._map;
if (!map) { return null; }
const b = map.getBounds();
return {zoom: map.getZoom(), bounds: [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()],
        search: (window.svrp.marks[arguments[0]] || {}).search || null};
"""
# Outline layers drawn on the map in the selection colour (SVG or canvas renderer alike).
OUTLINE_JS = """
const layer = window.svrp.canvas.layer(arguments[0]);
const colour = arguments[1].toLowerCase();
let n = 0;
layer._map.eachLayer(function (l) {
    if (l.feature && l._parts && l._parts.length && l.options &&
        String(l.options.color).toLowerCase() === colour) { n += 1; }
});
return n;
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data folder: the shipped data, and postcodes imported from the synthetic ONSPD."""
    data = tmp_path_factory.mktemp("search-data")
    for name in ("sources", "boundaries", "indicators", "police", "partner"):
        (data / name).symlink_to(ROOT / "data" / name)
    out = subprocess.run(
        [sys.executable, "-m", "profiler", "postcodes", "import", str(ONSPD), "--data",
         str(data), "--area", "Warwickshire,Worcestershire"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "5 live postcodes kept" in out.stdout
    return data


@pytest.fixture(scope="module")
def index(data_dir):
    return PlaceIndex.load(data_dir)


@pytest.fixture(scope="module")
def search_server(data_dir):
    """The app (python app.py) on that data folder, no basemap tiles."""
    with running_app({"SVRP_DATA_DIR": str(data_dir)}, timeout=120) as url:
        yield url


@pytest.fixture
def spage(driver, search_server):
    """The session browser at 1280x720, failing the test on browser console errors."""
    driver.set_window_size(1280, 720)
    driver.get_log("browser")
    if driver.current_url.startswith("http"):
        driver.execute_script("window.sessionStorage.clear();")
    yield driver
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.set_window_size(1600, 1000)
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture(scope="module")
def catalogue():
    return AreaCatalogue.load(ROOT / "data")


def _view(drv, key):
    return drv.execute_script(VIEW_JS, key)


def _search(drv, key: str, text: str, value: str | None = None) -> None:
    """Type ``text`` in the page's search box; pick ``value`` (a place key) by clicking its
    option, or else the first option with ArrowDown and Enter."""
    box = drv.find_element(By.ID, f"{key}-search")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)
    selector = f"#{key}-search-list [role=option]"
    if value is None:
        wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, selector)
                 and drv.find_element(By.ID, f"{key}-search-list").is_displayed(),
                 timeout=30, message=f"no suggestions for {text!r}")
        box.send_keys(Keys.ARROW_DOWN)
        assert box.get_attribute("aria-expanded") == "true"
        assert box.get_attribute("aria-activedescendant") == f"{key}-search-opt-0"
        box.send_keys(Keys.ENTER)
    else:
        option = wait_for(lambda: [o for o in drv.find_elements(By.CSS_SELECTOR, selector)
                                   if o.get_attribute("data-value") == value],
                          timeout=30, message=f"{value} not suggested for {text!r}")[0]
        option.click()


def _assert_zoomed(drv, key: str, place, before: dict) -> dict:
    """The map now shows the place's box, closer than before, with its outline drawn."""
    def done():
        v = _view(drv, key)
        if not v or not v["search"] or v["search"]["key"] != place.key:
            return None
        s, w, n, e = place.bbox
        b = v["bounds"]
        inside = b[0] <= s + 1e-4 and b[1] <= w + 1e-4 and b[2] >= n - 1e-4 and b[3] >= e - 1e-4
        return v if inside and v["zoom"] > before["zoom"] else None

    view = wait_for(done, timeout=20, message=f"map not zoomed to {place.label}")
    wait_for(lambda: drv.execute_script(OUTLINE_JS, key, MAP_STYLE["selected"]), timeout=10,
             message=f"{place.label} not outlined")
    return view


def _settled(drv, key: str) -> None:
    """Wait for the map's zoom animation to end (before a screenshot)."""
    wait_for(lambda: drv.execute_script(
        "const l = window.svrp.canvas.layer(arguments[0]); return l && l._map && "
        "!l._map._animatingZoom && !l._map._panAnim?._inProgress;", key), timeout=10)
    time.sleep(0.4)


def _unique(index, kind: str, lsoas) -> object:
    """A place of ``kind`` in ``lsoas`` whose name no other place has."""
    names: dict[str, int] = {}
    for p in index.places_:
        names[normalise(p.name)] = names.get(normalise(p.name), 0) + 1
    return next(p for p in index.places_ if p.kind == kind and set(p.lsoas) <= lsoas
                and names[normalise(p.name)] == 1 and len(p.lsoas) > 1)


def test_search001_camp_hill_on_the_overview(spage, search_server, index, catalogue):
    home = catalogue.resolve("E10000031")
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    before = _view(spage, "ovw")
    place = index.search("Camp Hill")[0].place
    assert place.name == "Camp Hill" and set(place.lsoas) <= set(home.lsoa_codes)
    _search(spage, "ovw", "Camp Hill")
    _assert_zoomed(spage, "ovw", place, before)
    status = spage.find_element(By.ID, "ovw-search-status").text
    assert "Camp Hill" in status and "outlined" in status
    _settled(spage, "ovw")
    screenshot(spage, "search-camp-hill-overview")


def test_search002_a_ward_by_clicking_its_option(spage, search_server, index, catalogue):
    home = catalogue.resolve("E10000031")
    ward = _unique(index, "ward", set(home.lsoa_codes))
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    before = _view(spage, "ovw")
    _search(spage, "ovw", ward.name.lower(), value=ward.key)
    _assert_zoomed(spage, "ovw", ward, before)
    _settled(spage, "ovw")
    screenshot(spage, "search-ward-overview")


def test_search003_lsoa_code_opens_its_panel(spage, search_server, index, catalogue):
    home = catalogue.resolve("E10000031")
    code = home.lsoa_codes[len(home.lsoa_codes) // 2]
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    before = _view(spage, "ovw")
    _search(spage, "ovw", code.lower())
    _assert_zoomed(spage, "ovw", index.get(f"lsoa:{code}"), before)
    wait_for(lambda: code in spage.find_element(By.ID, "ovw-panel").text, timeout=20,
             message="the LSOA's panel did not open")
    wait_for(lambda: styles(spage, "ovw")[code]["color"] == MAP_STYLE["selected"], timeout=10,
             message="the LSOA is not selected on the canvas")
    _settled(spage, "ovw")
    screenshot(spage, "search-lsoa-code-overview")


def test_search004_imported_postcode(spage, search_server, index, catalogue):
    home = catalogue.resolve("E10000031")
    place = index.get("postcode:CV11 9ZA")
    assert place is not None and place.lsoas == ("E01031073",)
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    before = _view(spage, "ovw")
    _search(spage, "ovw", "cv119za")
    view = _assert_zoomed(spage, "ovw", place, before)
    lat, lon = place.point
    b = view["bounds"]
    assert b[0] <= lat <= b[2] and b[1] <= lon <= b[3]
    wait_for(lambda: "E01031073" in spage.find_element(By.ID, "ovw-panel").text, timeout=20,
             message="the postcode's LSOA panel did not open")
    _settled(spage, "ovw")
    screenshot(spage, "search-postcode-overview")


def test_search005_district_page_and_a_place_in_another_district(spage, search_server, index,
                                                                 catalogue):
    home = catalogue.resolve("E10000031")
    sub = next(s for s in home.subareas if s.code == "E07000222")  # Warwick
    spage.get(search_server + f"/district/{sub.code}")
    wait_drawn(spage, "dst", len(home))
    lill = next(m.place for m in index.search("Lillington") if m.place.kind == "msoa")
    assert set(lill.lsoas) <= set(sub.lsoa_codes)
    before = _view(spage, "dst")
    _search(spage, "dst", "Lillington", value=lill.key)
    view = _assert_zoomed(spage, "dst", lill, before)
    _settled(spage, "dst")
    screenshot(spage, "search-lillington-district")
    camp = index.search("Camp Hill")[0].place  # Nuneaton and Bedworth: on the map, elsewhere
    _search(spage, "dst", "Camp Hill")
    _assert_zoomed(spage, "dst", camp, {"zoom": view["zoom"] - 4})
    link = wait_for(lambda: spage.find_element(By.ID, "dst-search-link"), timeout=10)
    assert link.get_attribute("href").endswith("/district/E07000219")
    _settled(spage, "dst")
    screenshot(spage, "search-camp-hill-from-warwick")


def test_search006_another_area_and_places_outside_it(spage, search_server, index, catalogue):
    area = catalogue.resolve("E10000034")  # Worcestershire
    spage.get(search_server + "/area/E10000034")
    wait_drawn(spage, "ovw", len(area))
    before = _view(spage, "ovw")
    place = index.get("postcode:B60 9ZZ")
    _search(spage, "ovw", "B60 9ZZ")
    _assert_zoomed(spage, "ovw", place, before)
    wait_for(lambda: "E01032122" in spage.find_element(By.ID, "ovw-panel").text, timeout=20)
    ward = _unique(index, "ward", set(area.lsoa_codes))
    after = _view(spage, "ovw")
    _search(spage, "ovw", ward.name, value=ward.key)
    _assert_zoomed(spage, "ovw", ward, {"zoom": after["zoom"] - 4})
    _settled(spage, "ovw")
    screenshot(spage, "search-worcestershire-ward")
    # Camp Hill is not on Worcestershire's map: a link to the area that has it
    _search(spage, "ovw", "Camp Hill")
    link = wait_for(lambda: spage.find_element(By.ID, "ovw-search-link"), timeout=15)
    assert link.get_attribute("href").rstrip("/") == search_server
    assert "not on this map" in spage.find_element(By.ID, "ovw-search-status").text
    _settled(spage, "ovw")
    screenshot(spage, "search-outside-area")


def test_search007_explore_page(spage, search_server, index, catalogue):
    spage.get(search_server + "/explore?scope=E07000222")
    warwick = catalogue.resolve("E07000222")
    wait_drawn(spage, "exp", len(warwick))
    code = warwick.lsoa_codes[0]
    before = _view(spage, "exp")
    _search(spage, "exp", code)
    _assert_zoomed(spage, "exp", index.get(f"lsoa:{code}"), before)
    wait_for(lambda: code in spage.find_element(By.ID, "exp-panel").text, timeout=20)
    _settled(spage, "exp")
    screenshot(spage, "search-explore-lsoa")


def test_search008_keyboard_escape_and_no_match(spage, search_server, catalogue):
    home = catalogue.resolve("E10000031")
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    box = spage.find_element(By.ID, "ovw-search")
    assert box.get_attribute("role") == "combobox"
    label = spage.find_element(By.CSS_SELECTOR, "label[for='ovw-search']")
    assert label.text == "Find a place"
    box.click()
    box.send_keys("Kenil")
    wait_for(lambda: spage.find_element(By.ID, "ovw-search-list").is_displayed(), timeout=30)
    box.send_keys(Keys.ESCAPE)
    wait_for(lambda: not spage.find_element(By.ID, "ovw-search-list").is_displayed(), timeout=10)
    assert box.get_attribute("aria-expanded") == "false"
    box.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    box.send_keys("qqqzzzxx")
    wait_for(lambda: "No place matches" in spage.find_element(By.ID, "ovw-search-status").text,
             timeout=15)


def test_search009_list_filter(spage, search_server, catalogue):
    home = catalogue.resolve("E10000031")
    spage.get(search_server + "/")
    wait_drawn(spage, "ovw", len(home))
    cells = "#ovw-table td[data-dash-column='{}']"
    first = wait_for(lambda: spage.find_elements(By.CSS_SELECTOR, cells.format("ward")),
                     timeout=15)[0].text
    box = spage.find_element(By.ID, "ovw-table-filter")
    box.send_keys(first.lower())
    def filtered():
        wards = [c.text for c in spage.find_elements(By.CSS_SELECTOR, cells.format("ward"))]
        return wards and all(first.lower() in w.lower() for w in wards) and wards
    wait_for(filtered, timeout=10, message="the list was not filtered")
    spage.execute_script("arguments[0].scrollIntoView()", box)
    screenshot(spage, "search-list-filter")
    box.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    box.send_keys("E0103")  # codes
    wait_for(lambda: all(c.text.startswith("E0103") for c in spage.find_elements(
        By.CSS_SELECTOR, cells.format("lsoa21_code"))), timeout=10)
