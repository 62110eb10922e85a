"""Risk vs recorded violence (issue 13): the quadrant layer on the one map stack, its chart, and
an area without police.uk data. Expected groups are derived here from the shipped data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browserkit import screenshot, styles, wait_drawn, wait_for
from selenium.webdriver.common.by import By

from dashboard.state import MAP_STYLE
from profiler.area import AreaCatalogue
from profiler.observed import QUADRANT_GROUPS, QUADRANT_RATE_COLUMN, risk_vs_observed
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LEICS_FORCE = "E23000021"  # Leicestershire Police's force area (with Leicester and Rutland)
WORCS = "E10000034"  # West Mercia's county: no police.uk months shipped
CORNWALL = "E06000052"  # Devon and Cornwall Police: none shipped either
# points of one group's trace on the chart: its codes, in trace order
POINTS_JS = """
const gd = document.querySelector('#ovw-quad-chart .js-plotly-plot');
if (!gd || !gd._fullData) { return null; }
return gd._fullData.map(t => ({name: t.name, codes: Array.from(t.customdata || []),
                               visible: t.visible}));
"""
# the chart's y axis and its horizontal divider, in pixels (the divider's path against the axis)
AXIS_JS = """
const gd = document.querySelector('#ovw-quad-chart .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
const ya = gd._fullLayout.yaxis;
const ticks = Array.from(gd.querySelectorAll('.ytick text')).map(t => t.textContent);
const line = (gd.layout.shapes || [])[1];
if (!line) { return {type: ya.type, ticks: ticks}; }
const top = gd.querySelector('.main-svg').getBoundingClientRect().top + ya._offset;
const rect = gd.querySelectorAll('.shapelayer path')[1].getBoundingClientRect();
return {type: ya.type, ticks: ticks, y80: line.y0,
        divider: rect.top + rect.height / 2 - top, expected: ya.l2p(Math.log10(line.y0)),
        spread: gd._fullData.slice(0, 4).map(t => Array.from(t.y)).flat()
                  .map(v => ya.l2p(Math.log10(v)))};
"""


def _download(page, download_dir, button, pattern):
    for old in download_dir.glob("*"):
        old.unlink()
    page.find_element(By.ID, button).click()
    return wait_for(lambda: [p for p in download_dir.glob(pattern) if p.stat().st_size > 0],
                    timeout=20, message=f"no {pattern} downloaded")[0]


@pytest.fixture(scope="module")
def world():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    catalogue = AreaCatalogue.load(ROOT / "data", table=table)
    rates = table.set_index("lsoa21_code")[QUADRANT_RATE_COLUMN]

    def groups(code: str):
        area = catalogue.resolve(code)
        result = score_scope(table, spec, scope=area, reference="area")
        return area, risk_vs_observed(result, spec, rates)

    return groups


@pytest.fixture(autouse=True)
def small_window(page):
    """Screenshots at 1280x720, as a partnership laptop shows the page; restored after."""
    size = page.get_window_size()
    page.set_window_size(1280, 720)
    yield
    page.set_window_size(size["width"], size["height"])


def _expected_fills(quad) -> dict[str, str]:
    colours = [g.colour for g in QUADRANT_GROUPS]
    return {c: (colours[g] if g >= 0 else MAP_STYLE["no_data"])
            for c, g in zip(quad["lsoa21_code"], quad["group"], strict=True)}


def _show_layer(page):
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='quadrants']").click()


def _wait_groups(page, quad, what):
    want = _expected_fills(quad)
    wait_for(lambda: {c: s["fill"] for c, s in styles(page, "ovw").items()} == want,
             timeout=25, message=f"{what}: the quadrant layer is not drawn with the four groups")


@pytest.mark.parametrize("code,name", [("E10000031", "warwickshire"),
                                       (LEICS_FORCE, "leicestershire")])
def test_quad001_layer_draws_the_four_groups(page, server, world, code, name):
    area, quad = world(code)
    assert (quad["group"] >= 0).all(), "the shipped police.uk months cover this area"
    page.get(server + ("/" if name == "warwickshire" else f"/area/{code}"))
    wait_drawn(page, "ovw", len(area))
    _show_layer(page)
    _wait_groups(page, quad, name)
    legend = wait_for(lambda: (t := page.find_element(By.ID, "ovw-legend").text)
                      and "Risk vs recorded violence" in t and t, timeout=15,
                      message="the legend is not the quadrant layer's")
    counts = quad["group"].value_counts()
    for g, group in enumerate(QUADRANT_GROUPS):
        assert group.name.split(",")[0].capitalize() in legend
        assert str(int(counts.get(g, 0))) in legend
    # the chart has one trace per group, holding that group's LSOAs
    traces = wait_for(lambda: page.execute_script(POINTS_JS), timeout=15,
                      message="no quadrant chart")
    for g in range(4):
        assert set(traces[g]["codes"]) == set(quad.loc[quad["group"] == g, "lsoa21_code"])
    # a log axis labelled in real units, the divider drawn at the top fifth's rate
    axis = page.execute_script(AXIS_JS)
    assert axis["type"] == "log" and axis["ticks"] and "10" in axis["ticks"]
    assert axis["y80"] == pytest.approx(quad["observed_rate"].quantile(0.8), rel=1e-6)
    assert axis["divider"] == pytest.approx(axis["expected"], abs=2)
    # readable spread: the middle half of the LSOAs spans 40 px or more, at least twice
    # its share of the height on a linear axis (where one town centre squashed it to a line)
    pixels = sorted(axis["spread"])
    q1, q3 = pixels[len(pixels) // 4], pixels[3 * len(pixels) // 4]
    rates = quad["observed_rate"]
    linear = (rates.quantile(0.75) - rates.quantile(0.25)) / (rates.max() - rates.min())
    share = (q3 - q1) / (max(pixels) - min(pixels))
    print(f"{name}: middle half {q3 - q1:.0f} px, {share:.0%} of the height (linear {linear:.0%})")
    assert q3 - q1 > 40 and share > 2 * linear
    page.execute_script("arguments[0].scrollIntoView();",
                        page.find_element(By.CSS_SELECTOR, ".svrp-quadrants"))
    screenshot(page, f"quadrants-{name}-chart")
    page.execute_script("window.scrollTo(0, 0);")
    screenshot(page, f"quadrants-{name}-map")


def test_quad002_chart_point_opens_the_lsoa_panel(page, server, world):
    area, quad = world("E10000031")
    page.get(server + "/")
    wait_drawn(page, "ovw", len(area))
    traces = wait_for(lambda: page.execute_script(POINTS_JS), timeout=15,
                      message="no quadrant chart")
    # the first LSOA of the "low risk, high violence" group (town centres)
    code = traces[2]["codes"][0]
    point = page.find_elements(
        By.CSS_SELECTOR, "#ovw-quad-chart .scatterlayer .trace:nth-of-type(3) path.point")[0]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'});", point)
    # Plotly listens on its drag layer: a real click at the point's position
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(page).move_to_element(point).click().perform()
    wait_for(lambda: code in page.find_element(By.ID, "ovw-panel").text, timeout=15,
             message="clicking a chart point did not open that LSOA's panel")
    assert styles(page, "ovw")[code]["weight"] >= 4  # selected on the map too


def test_quad003_legend_pick_highlights_the_group_on_the_map(page, server, world):
    area, quad = world("E10000031")
    page.get(server + "/")
    wait_drawn(page, "ovw", len(area))
    wait_for(lambda: page.execute_script(POINTS_JS), timeout=15, message="no quadrant chart")
    # hide every group but "high risk, low recorded violence" (legend double-click isolates)
    items = page.find_elements(By.CSS_SELECTOR, "#ovw-quad-chart .legend .traces")
    from selenium.webdriver.common.action_chains import ActionChains

    page.execute_script("arguments[0].scrollIntoView({block: 'center'});", items[1])
    ActionChains(page).double_click(items[1]).perform()
    keep = set(quad.loc[quad["group"] == 1, "lsoa21_code"])

    def highlighted():
        s = styles(page, "ovw")
        faded = {c for c, v in s.items() if v["fillOpacity"] is not None
                 and v["fillOpacity"] < 0.3}
        return s and faded == set(s) - keep

    wait_for(highlighted, timeout=20, message="picking a group did not highlight it on the map")
    assert page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='quadrants']").is_selected()
    page.execute_script("window.scrollTo(0, 0);")
    screenshot(page, "quadrants-warwickshire-prevention-candidates")


@pytest.mark.parametrize("code,name", [(WORCS, "worcestershire"), (CORNWALL, "cornwall")])
def test_quad004_area_without_police_data_shows_the_risk_axis_only(page, server, world, code,
                                                                   name):
    area, quad = world(code)
    assert (quad["group"] < 0).all()
    page.get(server + f"/area/{code}")
    wait_drawn(page, "ovw", len(area))
    note = wait_for(lambda: page.find_element(By.ID, "ovw-quad-note").text, timeout=15)
    assert "No police.uk months are imported" in note and "risk-factor axis only" in note
    assert area.name in note
    traces = wait_for(lambda: page.execute_script(POINTS_JS), timeout=15,
                      message="no quadrant chart")
    assert len(traces) == 1 and set(traces[0]["codes"]) == set(quad["lsoa21_code"])
    assert page.execute_script(AXIS_JS)["type"] != "log"
    # no group lists and no group export where there are no groups
    assert not page.find_elements(By.ID, "ovw-quad-groups")
    assert not page.find_elements(By.ID, "ovw-quad-export-csv")
    _show_layer(page)
    wait_for(lambda: "No police.uk months" in page.find_element(By.ID, "ovw-legend").text,
             timeout=15, message="the legend does not say there is no police.uk data")
    page.execute_script("arguments[0].scrollIntoView();",
                        page.find_element(By.CSS_SELECTOR, ".svrp-quadrants"))
    screenshot(page, f"quadrants-{name}-no-police")


def test_quad005_district_page_lists_groups_and_its_backtest(page, server, world):
    area, quad = world("E10000031")
    district = "E07000221"  # Stratford-on-Avon: town-centre violence on low risk factors
    page.get(server + f"/district/{district}")
    section = wait_for(lambda: page.find_element(By.ID, "dst-quadrants"), timeout=20)
    codes = set(area.subarea(district).lsoa_codes)
    for g, group in enumerate(QUADRANT_GROUPS):
        summary = page.find_element(By.CSS_SELECTOR, f"#dst-quad-group-{g} summary").text
        members = quad.loc[(quad["group"] == g) & quad["lsoa21_code"].isin(codes)]
        assert f"({len(members)} LSOAs)" in summary, summary
        assert group.name.split(",")[0].capitalize() in summary
    text = page.find_element(By.ID, "dst-backtest").text
    assert "How well does this profile find where violence happens?" in text
    assert "Warwickshire: test Mar-Apr 2024" in text
    page.execute_script("arguments[0].scrollIntoView();", section)
    screenshot(page, "quadrants-district-stratford-groups")
    # a row chosen in a group's list (open: "low risk, high violence") outlines that LSOA on
    # the district map and opens its panel, as a row of the high-risk list does
    wait_drawn(page, "dst", len(area))
    first = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#dst-quad-table-2 td[data-dash-column='lsoa21_code']"), timeout=10)
    code = first.text
    assert code in codes
    page.execute_script("arguments[0].scrollIntoView({block: 'center'});", first)
    first.click()
    wait_for(lambda: code in page.find_element(By.ID, "dst-panel").text, timeout=15,
             message="selecting a row of a district's group list did not open its panel")
    assert page.execute_script("return window.svrp.state.dst.selected;") == code
    page.execute_script("arguments[0].scrollIntoView();",
                        page.find_element(By.ID, "dst-backtest"))
    screenshot(page, "quadrants-district-stratford-backtest")


def test_quad006_methodology_shows_every_shipped_backtest(page, server):
    from profiler.backtest_data import load_backtests

    page.get(server + "/methodology")
    text = wait_for(lambda: (t := page.find_element(By.ID, "mth-text").text)
                    and "How well does this profile" in t and t, timeout=20,
                    message="no backtest section on the methodology page")
    for record in load_backtests(ROOT / "data")["backtests"]:
        assert record["label"] in text
    assert "Areas without police.uk data" in text
    heading = page.find_element(By.XPATH, "//h2[contains(., 'How well does this profile')]")
    page.execute_script("arguments[0].scrollIntoView();", heading)
    screenshot(page, "quadrants-methodology-backtest")


def test_quad007_overview_lists_and_exports_each_group(page, server, world, download_dir):
    area, quad = world("E10000031")
    page.get(server + "/")
    wait_drawn(page, "ovw", len(area))
    wait_for(lambda: page.execute_script(POINTS_JS), timeout=15, message="no quadrant chart")
    counts = quad["group"].value_counts()
    for g, group in enumerate(QUADRANT_GROUPS):
        summary = page.find_element(By.CSS_SELECTOR, f"#ovw-quad-group-{g} summary").text
        assert f"({int(counts.get(g, 0))} LSOAs)" in summary
        assert group.name.split(",")[0].capitalize() in summary
    page.execute_script("arguments[0].scrollIntoView({block: 'center'});",
                        page.find_element(By.ID, "ovw-quad-groups"))
    screenshot(page, "quadrants-warwickshire-overview-group-lists")
    # open "low risk, high violence" (town centres): its rows carry both axes' values
    details = page.find_element(By.ID, "ovw-quad-group-2")
    summary = details.find_element(By.TAG_NAME, "summary")
    page.execute_script("arguments[0].scrollIntoView({block: 'start'});", summary)
    summary.click()
    table = wait_for(lambda: (t := details.find_element(By.ID, "ovw-quad-table-2")).is_displayed()
                     and t, timeout=10, message="the group's list does not open")
    headers = [h.text for h in table.find_elements(By.CSS_SELECTOR, "th")]
    assert "Risk-factor score" in headers and "Recorded violence per 1,000 a year" in headers
    assert "District" in headers and "Band" in headers
    members = quad.loc[quad["group"] == 2]
    listed = {c.text for c in table.find_elements(By.CSS_SELECTOR,
                                                  "td[data-dash-column='lsoa21_code']")}
    assert listed and listed <= set(members["lsoa21_code"])  # the first page of the group
    screenshot(page, "quadrants-warwickshire-overview-groups")
    # selecting a row opens that LSOA's panel
    first = table.find_element(By.CSS_SELECTOR, "td[data-dash-column='lsoa21_code']")
    code = first.text
    first.click()
    wait_for(lambda: code in page.find_element(By.ID, "ovw-panel").text, timeout=15,
             message="selecting a group list row did not open its panel")
    # export the group through the one export path
    page.find_element(By.CSS_SELECTOR, "#ovw-quad-export-group input[value='2']").click()
    path = _download(page, download_dir, "ovw-quad-export-csv", "*.zip")
    from profiler.export import read_export_csv

    meta, frame = read_export_csv(path)
    assert set(frame["LSOA code"]) == set(members["lsoa21_code"])
    assert meta["risk_vs_recorded_violence_group"] == QUADRANT_GROUPS[2].name
    assert path.name.startswith(QUADRANT_GROUPS[2].key.replace("_", "-"))
    assert "Prepared" in page.find_element(By.ID, "ovw-quad-export-msg").text
