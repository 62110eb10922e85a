"""Issue 6 in the browser: change since IoD2019, per-theme hot spots, what-if band stability."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from browserkit import mouse, screenshot, styles, wait_for
from selenium.webdriver.common.by import By
from shipped import WARWICKSHIRE_DISTRICTS

from dashboard.state import CHANGE_PALETTE, HOTSPOT_PALETTE
from profiler.change import CAVEATS
from profiler.hotspots import CLASSES as HOTSPOT_CLASSES

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def change():
    return pd.read_csv(ROOT / "data/indicators/change_warwickshire.csv", dtype=str)


@pytest.fixture(scope="module")
def hotspots():
    return pd.read_csv(ROOT / "data/indicators/hotspots_warwickshire.csv", dtype=str)


def _styles(drv) -> list[tuple[str, str]]:
    """(fill, dash pattern) of every LSOA shape on the overview map's canvas."""
    return [(s["fill"], s["dash"]) for s in styles(drv, "ovw").values()]


def _legend(drv) -> dict[str, int]:
    rows = drv.execute_script(
        "return Array.from(document.querySelectorAll('#ovw-legend li')).map(li => "
        "[li.querySelector('.svrp-legend-band').textContent, "
        "li.querySelector('.svrp-legend-count').textContent]);")
    return {label: int(count) for label, count in rows}


def _open(drv, url):
    drv.get(url)
    wait_for(lambda: len(_styles(drv)) >= 354, timeout=30, message="354 LSOA shapes not drawn")
    wait_for(lambda: any(f == "#d7191c" for f, _ in _styles(drv)), timeout=15,
             message="map not coloured")


def _choose_layer(drv, layer):
    drv.find_element(By.CSS_SELECTOR, f"#ovw-layer input[value='{layer}']").click()


def test_chg020_change_layer_draws_rose_fell_and_counts_match_the_data(page, server, change):
    _open(page, server + "/")
    _choose_layer(page, "change")
    expected = change["band_change"].value_counts()
    n_rose, n_fell, n_same = (int(expected.get(k, 0)) for k in ("rose", "fell", "same"))
    assert n_rose and n_fell and n_rose + n_fell + n_same == 354
    rose, same, fell = CHANGE_PALETTE

    def drawn():
        fills = Counter(f for f, _ in _styles(page))
        return fills if fills[rose] == n_rose and fills[fell] == n_fell else None

    fills = wait_for(drawn, timeout=15, message="change layer not drawn")
    assert fills[same] == n_same
    # fell is also dashed (not colour alone); rose keeps a solid outline
    styles = _styles(page)
    assert all(d.replace(",", " ").split() == ["6", "3"] for f, d in styles if f == fell)
    assert all(d == "" for f, d in styles if f == rose)
    legend = wait_for(lambda: "Band rose" in page.find_element(By.ID, "ovw-legend").text
                      and _legend(page), timeout=10)
    assert legend == {"Band rose": n_rose, "Same band": n_same, "Band fell": n_fell}
    assert "layer=change" in page.current_url
    # the tooltip names the move (e.g. "Medium → High"), as plain text
    code = change.loc[change["band_change"] == "rose", "lsoa21_code"].iloc[0]
    row = change.set_index("lsoa21_code").loc[code]
    mouse(page, "ovw", code, "mousemove")  # a hover on the canvas
    tip = wait_for(lambda: page.find_element(By.CSS_SELECTOR, ".leaflet-tooltip .svrp-tip-band")
                   .text, timeout=10)
    assert tip == f"Change since IoD2019: Band rose ({row['band_2019']} → {row['band_2025']})"
    screenshot(page, "change-since-iod2019")


@pytest.mark.parametrize("code", ["E07000219", "E07000221"])
def test_chg021_district_lists_its_risen_and_fallen_lsoas(page, server, change, code):
    page.get(f"{server}/district/{code}")
    wait_for(lambda: page.find_elements(
        By.CSS_SELECTOR, "#dst-change-table td[data-dash-column='lsoa21_code']"), timeout=30,
        message="change table not drawn")
    here = change[change["lad24_code"] == code]
    moved = here[here["band_change"] != "same"].set_index("lsoa21_code")
    cells = page.find_elements(By.CSS_SELECTOR,
                               "#dst-change-table td[data-dash-column='lsoa21_code']")
    listed = [c.text for c in cells]
    assert sorted(listed) == sorted(moved.index)
    bands = [c.text for c in page.find_elements(
        By.CSS_SELECTOR, "#dst-change-table td[data-dash-column='bands']")]
    msoas = [c.text for c in page.find_elements(
        By.CSS_SELECTOR, "#dst-change-table td[data-dash-column='msoa']")]
    violence = [c.text for c in page.find_elements(
        By.CSS_SELECTOR,
        "#dst-change-table td[data-dash-column='violence_and_sexual_offences']")]
    for lsoa, band, msoa, vso in zip(listed, bands, msoas, violence, strict=True):
        r = moved.loc[lsoa]
        assert band == f"{r['band_2019']} → {r['band_2025']}"
        assert msoa == r["msoa21_hcl_name"]
        assert vso.rstrip("*") == (f"{r['violence_and_sexual_offences_same_months_2018_19']} → "
                                   f"{r['violence_and_sexual_offences_same_months_2024']}")
    counts = here["band_change"].value_counts()
    summary = page.find_element(By.ID, "dst-change-summary").text
    name = WARWICKSHIRE_DISTRICTS[code]
    assert (f"Of {name}'s {len(here)} LSOAs, {counts.get('rose', 0)} rose a band, "
            f"{counts.get('fell', 0)} fell") in summary
    caveats = page.find_elements(By.CSS_SELECTOR, "#dst-change-caveats li")
    assert len(caveats) == len(CAVEATS)
    page.execute_script("document.getElementById('dst-change').scrollIntoView()")
    screenshot(page, f"district-change-{code}")


@pytest.mark.parametrize("theme", ["knife", "domestic", "public_place"])
def test_hot010_theme_hot_spot_layers(page, server, hotspots, theme):
    _open(page, server + "/")
    _choose_layer(page, f"hotspots_{theme}")
    expected = hotspots[f"{theme}_hotspot"].value_counts()
    colour = dict(zip(HOTSPOT_CLASSES, HOTSPOT_PALETTE, strict=True))

    def drawn():
        fills = Counter(f for f, _ in _styles(page))
        return fills if all(fills[colour[c]] == n for c, n in expected.items()) else None

    wait_for(drawn, timeout=15, message=f"{theme} hot-spot layer not drawn as the data says")
    assert any(c.startswith("Hot spot") for c in expected.index)  # something hot is drawn
    legend = wait_for(lambda: "Hot spot (99%)" in page.find_element(By.ID, "ovw-legend").text
                      and _legend(page), timeout=10)
    assert legend == {c: int(expected.get(c, 0)) for c in HOTSPOT_CLASSES}
    assert "false-discovery-rate" in page.find_element(By.ID, "ovw-legend").text
    assert f"layer=hotspots_{theme}" in page.current_url
    screenshot(page, f"hotspots-{theme}")


def test_stb010_what_if_stability_job_completes_and_is_shown(page, server):
    _open(page, server + "/?layer=stability&w=violence_with_injury:4,homelessness:0.5")
    before = page.find_element(By.ID, "ovw-legend").text
    assert "press 'How sure are these bands?'" in before
    button = page.find_element(By.ID, "ovw-stb-run")
    page.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    seen = set()

    def finished():
        status = page.find_element(By.ID, "ovw-stb-status").text
        if "Working" in status:
            seen.add("progress")
        return page.find_elements(By.ID, "ovw-stb-finished")

    wait_for(finished, timeout=90, interval=0.05, message="stability run did not finish")
    assert "progress" in seen  # the progress line was shown while it ran
    assert "done in" in page.find_element(By.ID, "ovw-stb-status").text
    assert not page.find_element(By.ID, "ovw-stb-progress").is_displayed()
    legend = wait_for(lambda: "around your weights" in page.find_element(By.ID, "ovw-legend").text
                      and page.find_element(By.ID, "ovw-legend").text, timeout=15)
    assert "Faded, dotted" in legend
    assert any(d.replace(",", " ").split() == ["2", "3"] for _, d in _styles(page))
    cells = page.find_elements(By.CSS_SELECTOR, "#ovw-table td[data-dash-column='p_high']")
    assert cells and all(c.text.endswith("%") for c in cells)
    screenshot(page, "what-if-how-sure")


def test_stb011_spec_weights_use_the_shipped_analysis(page, server):
    _open(page, server + "/?layer=stability&banding=quantile")
    page.find_element(By.ID, "ovw-stb-run").click()
    status = wait_for(lambda: page.find_element(By.ID, "ovw-stb-status").text, timeout=15)
    assert "shipped analysis already covers them" in status


def test_mth002_methodology_explains_change_and_theme_hot_spots(page, server):
    page.get(f"{server}/methodology")
    text = wait_for(lambda: "Change since IoD2019" in page.find_element(By.ID, "mth-text").text
                    and page.find_element(By.ID, "mth-text").text, timeout=30)
    for title, _ in CAVEATS:
        assert title in text
    assert "one for each theme score" in text
    assert "How sure are these bands?" in text
