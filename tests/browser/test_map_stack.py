"""One map stack (issue 12): the overview and district pages on explore's canvas layer.

Every map page draws its LSOAs with ``assets/svrp-canvas.js`` from one compact view (class
string, palette, labels, counts, outlines); these tests read what the canvas was told to paint
(``svrp.registry``) and the canvas pixels, and drive it with real mouse events on the canvas.
The ``page`` fixture fails a test on any console error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from browserkit import (
    canvas_colours,
    click_lsoa,
    find,
    marks,
    mouse,
    screenshot,
    styles,
    wait_drawn,
    wait_for,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.state import CHANGE_PALETTE, HOTSPOT_PALETTE, MAP_STYLE, PALETTE
from profiler.engine import BANDS
from profiler.hotspots import CLASSES as HOTSPOT_CLASSES
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
NUNEATON = "E07000219"
WEIGHT_BOX = """[id*='"id":"violence_with_injury"'][id*='"type":"ovw-weight"'] input[type=number]"""


@pytest.fixture(scope="module")
def scored():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    return lambda **kw: score_scope(table, spec, scope="warwickshire", **kw)


def _band_fills(result) -> dict[str, str]:
    return dict(zip(result["lsoa21_code"], (PALETTE[BANDS.index(b)] for b in result["band"]),
                    strict=True))


def _wait_fills(drv, key, want: dict[str, str], timeout: float = 15.0):
    def ok():
        got = {c: s["fill"] for c, s in styles(drv, key).items()}
        return got if got == want else None

    try:
        return wait_for(ok, timeout=timeout, interval=0.1)
    except AssertionError:
        got = {c: s["fill"] for c, s in styles(drv, key).items()}
        wrong = [c for c in want if got.get(c) != want[c]]
        raise AssertionError(f"{len(wrong)} of {len(want)} LSOAs wrongly coloured, first "
                             f"{wrong[:3]}: {[got.get(c) for c in wrong[:3]]}") from None


def _tag(drv, key):
    """Mark one shape object: an in-place restyle keeps it, a rebuild would replace it."""
    drv.execute_script("const r = window.svrp.registry[arguments[0]];"
                       "r[Object.keys(r)[0]]._tag = 1;", key)


def _tagged(drv, key) -> bool:
    return drv.execute_script("const r = window.svrp.registry[arguments[0]];"
                              "return r[Object.keys(r)[0]]._tag === 1;", key)


def test_map001_overview_draws_354_lsoas_on_the_canvas_in_band_colours(page, server, scored):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    county = scored()
    _wait_fills(page, "ovw", _band_fills(county))
    # no SVG path per LSOA: the shapes are on the one canvas, and it really shows the colours
    assert not page.find_elements(By.CSS_SELECTOR, "#ovw-map path.leaflet-interactive")
    colours = canvas_colours(page, "ovw", PALETTE)
    present = {PALETTE[BANDS.index(b)] for b in county["band"].unique()}
    assert colours and present <= set(colours), (colours, present)
    # the worker fetched the county's geometry from the one geometry route
    assert page.execute_script("return Object.keys(window.svrpBoot.timings || {})") == [
        "/data/lsoa21/E10000031.geojson"]
    # High and Very High have heavier outlines
    got = styles(page, "ovw")
    strong = county.loc[county["band"] == "Very High", "lsoa21_code"].iloc[0]
    medium = county.loc[county["band"] == "Medium", "lsoa21_code"].iloc[0]
    assert got[strong]["weight"] > got[medium]["weight"]
    assert got[strong]["color"] == MAP_STYLE["strong_line"]


def test_map002_hover_tooltip_is_text(page, server, scored):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    county = scored().set_index("lsoa21_code")
    code = county.index[10]
    mouse(page, "ovw", code, "mousemove")
    tip = wait_for(lambda: page.find_element(By.CSS_SELECTOR, "#ovw-map .svrp-canvas-tip"),
                   timeout=10, message="no tooltip on hover")
    wait_for(lambda: code in tip.text, timeout=5)
    assert f"Overall risk: {county.loc[code, 'band']}" in tip.text
    assert county.loc[code, "msoa21_hcl_name"] in tip.text
    # text only: nothing but the rows it builds with textContent
    tags = page.execute_script(
        "return Array.from(arguments[0].querySelectorAll('*')).map(e => e.tagName);", tip)
    assert set(tags) <= {"DIV"}, tags
    hover = wait_for(lambda: code in (t := page.find_element(By.ID, "ovw-hover").text) and t,
                     timeout=10, message="hover box not filled")
    assert county.loc[code, "lad24_name"] in hover


def test_map003_click_on_the_canvas_opens_the_panel_and_outlines_the_lsoa(page, server, scored):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    # a rural LSOA (large on screen at county zoom; town ones are a few pixels across)
    county = scored()
    code = county.loc[county["band"] == "Medium", "lsoa21_code"].iloc[-1]
    click_lsoa(page, "ovw", code)
    wait_for(lambda: code in page.find_element(By.ID, "panel-title").text, timeout=15,
             message="panel not filled after a click on the canvas")
    assert "in the county" in page.find_element(By.ID, "panel-ranks").text
    wait_for(lambda: styles(page, "ovw")[code]["color"] == MAP_STYLE["selected"], timeout=10,
             message="clicked LSOA not outlined")
    wait_for(lambda: f"lsoa={code}" in page.current_url, timeout=10)


def test_map004_weight_change_restyles_in_place_with_dashed_outlines(page, server, scored):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    _wait_fills(page, "ovw", _band_fills(scored()))
    _tag(page, "ovw")
    before = marks(page, "ovw")["restyles"]
    box = find(page, WEIGHT_BOX)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("4.5", Keys.ENTER, Keys.TAB)
    wait_for(lambda: marks(page, "ovw")["restyles"] > before, timeout=20,
             message="no in-place restyle after a weight change")
    now = scored(weights={"violence_with_injury": 4.5})
    _wait_fills(page, "ovw", _band_fills(now))
    assert _tagged(page, "ovw") and marks(page, "ovw")["features"] == 354
    was = scored().set_index("lsoa21_code")["band"]
    changed = {c for c, b in zip(now["lsoa21_code"], now["band"], strict=True) if was[c] != b}
    assert changed
    got = styles(page, "ovw")
    dashed = {c for c, s in got.items() if s["dash"] == "5 4"}
    assert dashed == changed
    assert all(got[c]["color"] == MAP_STYLE["changed"] for c in changed)
    screenshot(page, "map-what-if")


def test_map005_hot_spot_and_change_layers_recolour_in_place(page, server):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    _tag(page, "ovw")
    hot = pd.read_csv(ROOT / "data/indicators/hotspots_warwickshire.csv", dtype=str)
    colour = dict(zip(HOTSPOT_CLASSES, HOTSPOT_PALETTE, strict=True))
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='hotspots']").click()
    _wait_fills(page, "ovw", dict(zip(hot["lsoa21_code"], hot["overall_hotspot"].map(colour),
                                      strict=True)))
    assert set(canvas_colours(page, "ovw", HOTSPOT_PALETTE[:2]) or {}) >= {HOTSPOT_PALETTE[0]}
    change = pd.read_csv(ROOT / "data/indicators/change_warwickshire.csv", dtype=str)
    rose, same, fell = CHANGE_PALETTE
    paint = {"rose": rose, "same": same, "fell": fell}
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='change']").click()
    _wait_fills(page, "ovw", dict(zip(change["lsoa21_code"], change["band_change"].map(paint),
                                      strict=True)))
    got = styles(page, "ovw")
    fallen = change.loc[change["band_change"] == "fell", "lsoa21_code"]
    assert all(got[c]["dash"] == "6 3" for c in fallen)  # outline cue, not colour alone
    assert _tagged(page, "ovw")  # restyled, never rebuilt
    # the legend follows the view (update_details runs after the restyle)
    wait_for(lambda: "Band rose" in (t := page.find_element(By.ID, "ovw-legend").text)
             and "Band fell" in t, timeout=15, message="legend is not the change layer's")


def test_map006_district_page_emphasises_and_zooms_to_its_district(page, server, scored):
    page.get(f"{server}/district/{NUNEATON}")
    wait_drawn(page, "dst", 354)
    county = scored()
    here = county[county["lad24_code"] == NUNEATON]
    _wait_fills(page, "dst", _band_fills(county))
    got = styles(page, "dst")
    high = set(here.loc[here["band"].isin(["High", "Very High"]), "lsoa21_code"])
    full = {c for c, s in got.items() if s["fillOpacity"] == 0.78}
    assert full == high  # only the district's High/Very High LSOAs at full strength
    others = county.loc[county["lad24_code"] != NUNEATON, "lsoa21_code"]
    assert all(got[c]["fillOpacity"] == 0.08 for c in others)  # other districts faded
    # zoomed to the district: all of it in view, most of the county not
    inside = page.execute_script(
        "const reg = window.svrp.registry.dst; const map = reg[arguments[0][0]]._map;"
        "const view = map.getBounds();"
        "return arguments[0].map(c => view.intersects(reg[c].getBounds()));",
        list(county["lsoa21_code"]))
    seen = dict(zip(county["lsoa21_code"], inside, strict=True))
    assert all(seen[c] for c in here["lsoa21_code"])
    assert sum(seen.values()) < 0.6 * len(county)
    # district outlines and labels drawn above the canvas
    labels = [e.text for e in page.find_elements(By.CSS_SELECTOR, ".svrp-district-label")]
    assert "Nuneaton and Bedworth" in labels
    assert page.find_elements(By.CSS_SELECTOR, "#dst-map .leaflet-overlay-pane path")
    # a row chosen in the list is outlined on the canvas
    cell = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#dst-table td[data-dash-column='lsoa21_code']"), timeout=15)
    first = cell.text
    cell.click()
    wait_for(lambda: styles(page, "dst")[first]["color"] == MAP_STYLE["selected"], timeout=10,
             message="the list's LSOA not outlined on the district map")
    mouse(page, "dst", first, "mousemove")
    wait_for(lambda: first in page.find_element(By.ID, "dst-hover").text, timeout=10,
             message="district hover line not filled")
    screenshot(page, "map-district")


def test_map007_explore_list_fills_msoa_ward_and_names_the_rank(page, server):
    page.get(server + "/explore?scope=england&ref=england")
    wait_drawn(page, "exp", 33_755, timeout=90)
    header = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#exp-table th[data-dash-column='rank']").text, timeout=15)
    assert "England rank" in header
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#exp-table td"), timeout=15)
    cells = {col: [c.text for c in page.find_elements(
        By.CSS_SELECTOR, f"#exp-table td[data-dash-column='{col}']")] for col in ("msoa", "ward")}
    assert cells["msoa"] and all(cells["msoa"]) and all(cells["ward"])
    # the county, banded against its county with the spec's weights: P(High+) is filled
    page.get(server + "/explore?scope=warwickshire")
    wait_drawn(page, "exp", 354)
    header = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#exp-table th[data-dash-column='rank']").text, timeout=15)
    assert "County rank" in header
    p_high = wait_for(lambda: [c.text for c in page.find_elements(
        By.CSS_SELECTOR, "#exp-table td[data-dash-column='p_high']")], timeout=15)
    assert p_high and all(t.endswith("%") for t in p_high)
