"""England and other areas (/explore): all 33,755 LSOAs on a canvas, any district, any reference.

The canvas renderer has no DOM element per shape, so these tests read what Leaflet drew from
the page: the per-LSOA layers registered by ``assets/svrp.js`` (their current style) and the
canvas pixels themselves.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browserkit import find, mouse, screenshot, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.state import PALETTE, SELECTION
from profiler.engine import BANDS
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ENGLAND = "/explore?scope=england&ref=england"
NUNEATON = "E07000219"
WEIGHT_BOX = """[id*='"id":"violence_with_injury"'][id*='"type":"exp-weight"'] input[type=number]"""

MARKS_JS = "return window.svrp && window.svrp.marks && window.svrp.marks.exp || null;"
# Current fill colour of every registered LSOA layer: {code: "#rrggbb"}.
FILLS_JS = """
const reg = (window.svrp && window.svrp.registry.exp) || {};
const out = {};
Object.keys(reg).forEach(function (c) { out[c] = reg[c].options.fillColor; });
return out;
"""
# Pixels of each palette colour painted on the map's canvas (every 3rd pixel sampled).
CANVAS_COLOURS_JS = """
const canvas = document.querySelector('#exp-map canvas');
if (!canvas) { return null; }
const ctx = canvas.getContext('2d');
const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
const out = {};
const palette = arguments[0];
const rgb = palette.map(h => [1, 3, 5].map(k => parseInt(h.slice(k, k + 2), 16)));
for (let i = 0; i < d.length; i += 12) {
    if (d[i + 3] < 100) { continue; }  /* fills are drawn at 0.78 opacity */
    for (let k = 0; k < rgb.length; k++) {
        const c = rgb[k];
        if (Math.abs(c[0] - d[i]) + Math.abs(c[1] - d[i + 1]) + Math.abs(c[2] - d[i + 2]) < 12) {
            out[palette[k]] = (out[palette[k]] || 0) + 1;
            break;
        }
    }
}
return out;
"""


@pytest.fixture(scope="module")
def scored():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)

    def score(scope, reference, **kw):
        return score_scope(table, spec, scope=scope, reference=reference, **kw)

    return score


def _colour(band) -> str:
    return PALETTE[BANDS.index(band)]


def _open(drv, url: str, expected: int, timeout: float = 60.0) -> float:
    start = time.perf_counter()
    drv.get(url)
    wait_for(lambda: (m := drv.execute_script(MARKS_JS)) and m.get("features") == expected
             and m.get("drawn"), timeout=timeout, message=f"{expected} LSOAs not drawn")
    return time.perf_counter() - start


def _legend_counts(drv) -> dict[str, int]:
    items = drv.find_elements(By.CSS_SELECTOR, "#exp-legend li")
    return {
        li.find_element(By.CLASS_NAME, "svrp-legend-band").text: int(
            li.find_element(By.CLASS_NAME, "svrp-legend-count").text.replace(",", "")
        )
        for li in items
    }


def _wait_fills(drv, expected: dict[str, str], timeout: float = 20.0) -> dict[str, str]:
    """Wait until every LSOA's fill is the expected colour; return the fills."""
    def ok():
        fills = drv.execute_script(FILLS_JS)
        return fills if fills == expected else None

    try:
        return wait_for(ok, timeout=timeout, interval=0.1)
    except AssertionError:
        fills = drv.execute_script(FILLS_JS)
        wrong = [c for c in expected if fills.get(c) != expected[c]]
        raise AssertionError(f"{len(wrong)} of {len(expected)} LSOAs wrongly coloured, "
                             f"first {wrong[:3]}: {[fills.get(c) for c in wrong[:3]]}") from None


def test_exp001_england_draws_every_lsoa_on_a_canvas(page, server, scored):
    elapsed = _open(page, server + ENGLAND, 33_755, timeout=90)
    expected = scored("england", "england")
    want = dict(zip(expected["lsoa21_code"], map(_colour, expected["band"]), strict=True))
    _wait_fills(page, want)
    marks = page.execute_script(MARKS_JS)
    print(f"\nEngland: navigation to 33,755 LSOAs drawn in {elapsed * 1000:.0f} ms "
          f"(first frame after the last shape: {marks['drawn']:.0f} ms)")
    # canvas renderer: no SVG path per LSOA, and the canvas really shows the bands' colours
    assert not page.find_elements(By.CSS_SELECTOR, "#exp-map path.leaflet-interactive")
    colours = page.execute_script(CANVAS_COLOURS_JS, list(PALETTE))
    assert colours, "no canvas in the map"
    assert {PALETTE[1], PALETTE[2], PALETTE[4]} <= set(colours), sorted(colours)[:10]
    # the legend names and counts every band as the server scored them
    counts = expected["band"].value_counts()
    assert _legend_counts(page) == {b: int(counts.get(b, 0)) for b in BANDS}
    summary = page.find_element(By.ID, "exp-summary").text
    assert "England: 33,755 LSOAs" in summary and "all England" in summary
    first = page.find_element(By.CSS_SELECTOR, "#exp-table td[data-dash-column=lsoa21_code]")
    assert first.text == expected["lsoa21_code"].iloc[0]  # the list starts at England's top
    screenshot(page, "explore-england")


def test_exp002_district_scope_uses_the_county_bands(page, server, scored):
    county = scored("warwickshire", "county")
    nuneaton = county[county["lad24_code"] == NUNEATON]
    _open(page, f"{server}/explore?scope={NUNEATON}", len(nuneaton))
    want = dict(zip(nuneaton["lsoa21_code"], map(_colour, nuneaton["band"]), strict=True))
    _wait_fills(page, want)
    assert page.find_element(By.CSS_SELECTOR, "#exp-ref input[value=county]").is_selected()
    assert "Nuneaton and Bedworth" in page.find_element(By.ID, "exp-summary").text
    screenshot(page, "explore-district")


def test_exp003_reference_changes_the_bands(page, server, scored):
    own = scored(NUNEATON, "district")
    _open(page, f"{server}/explore?scope={NUNEATON}&ref=district", len(own))
    _wait_fills(page, dict(zip(own["lsoa21_code"], map(_colour, own["band"]), strict=True)))
    assert "banded against its district" in page.find_element(By.ID, "exp-summary").text


def test_exp004_weight_change_restyles_england_in_place(page, server, scored):
    _open(page, server + ENGLAND, 33_755, timeout=90)
    # tag one layer: a redraw would replace it, an in-place restyle keeps it
    page.execute_script("const r = window.svrp.registry.exp; r[Object.keys(r)[0]]._tag = 1;")
    before = page.execute_script(MARKS_JS)["restyles"]
    box = find(page, WEIGHT_BOX)
    box.send_keys(Keys.CONTROL, "a")
    start = time.perf_counter()
    box.send_keys("4.5", Keys.ENTER, Keys.TAB)
    wait_for(lambda: page.execute_script(MARKS_JS)["restyles"] > before, timeout=30,
             interval=0.01, message="England did not recolour after a weight change")
    print(f"\nEngland: weight change to restyled map in {(time.perf_counter() - start) * 1000:.0f}"
          " ms (as seen by the test driver)")
    expected = scored("england", "england", weights={"violence_with_injury": 4.5})
    want = dict(zip(expected["lsoa21_code"], map(_colour, expected["band"]), strict=True))
    _wait_fills(page, want)
    assert page.execute_script(
        "const r = window.svrp.registry.exp; return r[Object.keys(r)[0]]._tag;") == 1
    assert page.execute_script(MARKS_JS)["features"] == 33_755
    wait_for(lambda: "w=violence_with_injury" in page.current_url, timeout=10,
             message="weights not in the URL")
    counts = expected["band"].value_counts()
    wait_for(lambda: _legend_counts(page) == {b: int(counts.get(b, 0)) for b in BANDS},
             timeout=15, message="legend not updated")


def test_exp005_outlines_only_from_town_zoom(page, server):
    _open(page, server + ENGLAND, 33_755, timeout=90)
    first = "const r = window.svrp.registry.exp; const l = r[Object.keys(r)[0]];"
    assert page.execute_script(first + "return l.options.stroke;") is False
    page.execute_script(first + "l._map.setView(l.getBounds().getCenter(), 12, {animate: false});")
    wait_for(lambda: page.execute_script(first + "return l.options.stroke;") is True, timeout=15,
             message="outlines not restored at zoom 12")


def test_exp006_clicking_the_canvas_fills_the_panel(page, server, scored):
    county = scored("warwickshire", "county")
    nuneaton = county[county["lad24_code"] == NUNEATON]
    _open(page, f"{server}/explore?scope={NUNEATON}", len(nuneaton))
    code = nuneaton["lsoa21_code"].iloc[0]  # the district's highest score
    # click at the shape's interior point, on the canvas (the layer hit-tests the click)
    _mouse(page, code, "mousemove", "mousedown", "mouseup", "click")
    title = wait_for(lambda: page.find_element(By.ID, "panel-title").text, timeout=15,
                     message="panel not filled after a click on the canvas")
    assert code in title
    band = nuneaton.set_index("lsoa21_code").loc[code, "band"]
    assert f"Overall: {band}" in page.find_element(By.CSS_SELECTOR, "#exp-panel .svrp-badges").text
    # the one panel: ranks in the area shown, and in England
    ranks = page.find_element(By.ID, "panel-ranks").text
    assert f"of {len(nuneaton)} in Nuneaton and Bedworth" in ranks and "in England" in ranks
    # the hover tooltip (one per map, opened on the shape under the pointer) names it too
    tip = wait_for(lambda: page.find_element(By.CSS_SELECTOR, ".leaflet-tooltip").text,
                   timeout=10, message="no tooltip on hover")
    assert code in tip and f"Overall risk: {band}" in tip
    # the clicked LSOA is outlined as selected; a row chosen in the list moves the outline
    style = "const o = window.svrp.registry.exp[arguments[0]].options; return [o.color, o.weight];"
    assert page.execute_script(style, code) == [SELECTION, 4]
    cells = page.find_elements(By.CSS_SELECTOR, "#exp-table td[data-dash-column=lsoa21_code]")
    other = next(c for c in cells if c.text != code)
    other_code = other.text
    other.click()
    wait_for(lambda: page.execute_script(style, other_code) == [SELECTION, 4], timeout=10,
             message="the list's LSOA not outlined on the map")
    assert page.execute_script(style, code)[0] != SELECTION
    wait_for(lambda: other_code in page.find_element(By.ID, "panel-title").text, timeout=10)
    # a recolour keeps the selection
    before = page.execute_script(MARKS_JS)["restyles"]
    box = find(page, WEIGHT_BOX)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("3.5", Keys.ENTER, Keys.TAB)
    wait_for(lambda: page.execute_script(MARKS_JS)["restyles"] > before, timeout=20,
             message="no recolour after a weight change")
    assert page.execute_script(style, other_code) == [SELECTION, 4]


def test_exp007_choosing_an_area_and_bad_links(page, server, scored):
    page.get(server + "/explore?scope=E99999999&ref=nowhere")
    alert = wait_for(lambda: page.find_element(By.ID, "exp-alert").text, timeout=15)
    assert "E99999999" in alert and "showing Warwickshire" in alert
    assert "nowhere" in alert
    wait_for(lambda: (page.execute_script(MARKS_JS) or {}).get("features") == 354, timeout=30,
             message="Warwickshire not drawn after a bad link")
    # choose Coventry by typing in the area box
    coventry = scored("E08000026", "county")
    page.find_element(By.ID, "exp-scope").click()
    search = wait_for(lambda: next(e for e in page.find_elements(
        By.CSS_SELECTOR, "input.dash-dropdown-search") if e.is_displayed()),
        timeout=10, message="the area box did not open")
    search.send_keys("Coventry")
    option = wait_for(lambda: next(e for e in page.find_elements(
        By.XPATH, "//*[normalize-space(text())='Coventry (E08000026)']") if e.is_displayed()),
        timeout=10, message="Coventry not offered")
    option.click()
    wait_for(lambda: "scope=E08000026" in page.current_url, timeout=15,
             message="choosing Coventry did not open it")
    wait_for(lambda: (page.execute_script(MARKS_JS) or {}).get("features") == len(coventry),
             timeout=30, message="Coventry's LSOAs not drawn")


def test_exp008_reference_and_layer_changes_restyle_in_place(page, server, scored):
    _open(page, server + ENGLAND, 33_755, timeout=90)
    page.execute_script("const r = window.svrp.registry.exp; r[Object.keys(r)[0]]._tag = 1;")
    before = page.execute_script(MARKS_JS)["restyles"]
    page.find_element(By.XPATH, "//*[@id='exp-ref']//*[normalize-space(text())='its county "
                                "(upper-tier authority)']").click()
    wait_for(lambda: page.execute_script(MARKS_JS)["restyles"] > before, timeout=30,
             message="no in-place restyle after a reference change")
    by_county = scored("england", "county")
    _wait_fills(page, dict(zip(by_county["lsoa21_code"], map(_colour, by_county["band"]),
                               strict=True)))
    wait_for(lambda: "ref=county" in page.current_url, timeout=10, message="ref not in the URL")
    before = page.execute_script(MARKS_JS)["restyles"]
    page.find_element(By.XPATH, "//*[@id='exp-layer']//*[normalize-space(text())="
                                "'Knife crime']").click()
    wait_for(lambda: page.execute_script(MARKS_JS)["restyles"] > before, timeout=30,
             message="no in-place restyle after a layer change")
    _wait_fills(page, dict(zip(by_county["lsoa21_code"], map(_colour, by_county["knife_band"]),
                               strict=True)))
    assert page.execute_script(
        "const r = window.svrp.registry.exp; return r[Object.keys(r)[0]]._tag;") == 1
    assert "banded against its county" in page.find_element(By.ID, "exp-summary").text


def _mouse(drv, code: str, *events: str) -> None:
    """Real mouse events on the explore map's canvas inside ``code`` (browserkit.mouse)."""
    mouse(drv, "exp", code, *events)


# Before any page script: a browser with no Web Worker (the page then does the worker's job).
NO_WORKER = {"source": "Object.defineProperty(window, 'Worker', {value: undefined});"}


def test_exp009_hover_box_and_a_browser_without_workers(fresh_driver, server, scored):
    """Hover writes the hover box; with no Web Worker the page does the worker's job itself."""
    drv = fresh_driver
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", NO_WORKER)
    county = scored("warwickshire", "county")
    nuneaton = county[county["lad24_code"] == NUNEATON]
    _open(drv, f"{server}/explore?scope={NUNEATON}", len(nuneaton))
    assert drv.execute_script("return typeof window.svrpLoadGeometry") == "function"
    want = dict(zip(nuneaton["lsoa21_code"], map(_colour, nuneaton["band"]), strict=True))
    _wait_fills(drv, want)
    code = nuneaton["lsoa21_code"].iloc[-1]
    _mouse(drv, code, "mousemove")
    text = wait_for(lambda: code in (t := drv.find_element(By.ID, "exp-hover").text) and t,
                    timeout=10, message="hover box not filled")
    assert nuneaton.set_index("lsoa21_code").loc[code, "band"] in text
    assert "leaflet-interactive" in drv.execute_script(
        "return document.querySelector('#exp-map canvas').className;")


def test_exp010_geometry_that_fails_to_load_is_reported(fresh_driver, server):
    # blocked URLs apply to the page's own requests, not a worker's: the page loads it here
    drv = fresh_driver
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", NO_WORKER)
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/data/lsoa21/*"]})
    drv.get(f"{server}/explore?scope={NUNEATON}")
    alert = wait_for(lambda: drv.find_element(By.ID, "exp-alert").text, timeout=20,
                     message="no message when the geometry could not be loaded")
    assert "could not be loaded" in alert and "Reload the page" in alert
    assert not (drv.execute_script(MARKS_JS) or {}).get("drawn")
