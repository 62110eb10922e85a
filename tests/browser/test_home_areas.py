"""Any home area (issue 12): the same pages, map stack and features for areas beyond the default.

Worcestershire (a two-tier county of another force, no police.uk data shipped), Leicestershire
Police (a force area over three authorities, 35 months of police.uk data shipped), Coventry (one
district: drill-down by ward) and South Warwickshire (a partnership of two districts).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browserkit import click_lsoa, find, screenshot, styles, wait_drawn, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.state import PALETTE
from profiler.area import AreaCatalogue
from profiler.engine import BANDS
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
WEIGHT_BOX = """[id*='"id":"violence_with_injury"'][id*='"type":"ovw-weight"'] input[type=number]"""


@pytest.fixture(scope="module")
def world():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    catalogue = AreaCatalogue.load(ROOT / "data", table=table)

    def profile(code: str) -> tuple:
        area = catalogue.resolve(code)
        return area, score_scope(table, spec, scope=area, reference="area")

    return profile


def _fills(result) -> dict[str, str]:
    return dict(zip(result["lsoa21_code"], (PALETTE[BANDS.index(b)] for b in result["band"]),
                    strict=True))


def _wait_fills(drv, key, want, timeout=20.0):
    wait_for(lambda: {c: s["fill"] for c, s in styles(drv, key).items()} == want,
             timeout=timeout, message=f"{key}: map not coloured with the area's own bands")


def test_home001_worcestershire_overview_is_the_whole_tool(page, server, world):
    area, result = world("E10000034")
    page.get(server + "/area/E10000034")
    wait_drawn(page, "ovw", len(area))
    _wait_fills(page, "ovw", _fills(result))
    # the area's own districts to focus on, its name in the controls, and honest about police.uk
    text = page.find_element(By.CSS_SELECTOR, ".svrp-controls").text
    assert "Whole of Worcestershire" in text
    assert "none imported for this area" in text
    nav = page.find_element(By.ID, "svrp-nav-area").text
    assert "Worcestershire overview" in nav and "Bromsgrove" in nav
    # the list holds Worcestershire's High and Very High LSOAs only
    rows = page.find_elements(By.CSS_SELECTOR, "#ovw-table td[data-dash-column='lsoa21_code']")
    high = set(result.loc[result["band"].isin(["High", "Very High"]), "lsoa21_code"])
    assert rows and {r.text for r in rows} <= high
    # clicking an LSOA explains it, against Worcestershire
    code = result["lsoa21_code"].iloc[0]
    click_lsoa(page, "ovw", code)
    wait_for(lambda: code in page.find_element(By.ID, "ovw-panel").text, timeout=15,
             message="panel did not open for the clicked LSOA")
    screenshot(page, "home-worcestershire-overview")


def test_home002_what_if_and_hot_spots_for_another_area(page, server, world):
    area, result = world("E10000034")
    page.get(server + "/area/E10000034")
    wait_drawn(page, "ovw", len(area))
    box = find(page, WEIGHT_BOX)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("5", Keys.ENTER, Keys.TAB)
    wait_for(lambda: page.execute_script("return (window.svrp.state.ovw.changed || []).length"),
             timeout=20, message="a what-if weight changed no band")
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='hotspots']").click()
    wait_for(lambda: "Hot spots" in (page.execute_script(
        "return window.svrp.state.ovw.layer_label") or ""), timeout=20)
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='change']").click()
    wait_for(lambda: "Change" in (page.execute_script(
        "return window.svrp.state.ovw.layer_label") or ""), timeout=20)
    screenshot(page, "home-worcestershire-change")


def test_home003_force_area_shows_its_own_police_months(page, server, world):
    area, result = world("E23000021")
    page.get(server + "/area/E23000021")
    wait_drawn(page, "ovw", len(area))
    heading = page.find_element(By.CSS_SELECTOR, ".svrp-controls").text
    assert "police.uk incidents (" in heading and "2022)" in heading
    page.find_element(By.CSS_SELECTOR, "#ovw-incidents input[value='heat']").click()
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, "#ovw-map .leaflet-overlay-pane path"),
             timeout=20, message="no heat cells drawn for Leicestershire Police")
    screenshot(page, "home-leicestershire-heat")


def test_home004_one_district_area_drills_down_by_ward(page, server, world):
    area, result = world("E08000026")
    ward = area.subareas[0]
    page.get(server + f"/area/E08000026/ward/{ward.code}")
    wait_drawn(page, "dst", len(area))
    title = page.find_element(By.ID, "dst-title").text
    assert ward.name in title
    summary = page.find_element(By.ID, "dst-summary").text
    assert f"{len(ward.lsoa_codes)} LSOAs" in summary and "Coventry" in summary
    view = page.execute_script("return window.svrp.state.dst")
    assert sorted(view["inside"]) == sorted(ward.lsoa_codes)
    screenshot(page, "home-coventry-ward")


def test_home005_partnership_district_profile_and_export(page, server, world):
    area, result = world("E22000359")
    page.get(server + "/area/E22000359/district/E07000221")
    wait_drawn(page, "dst", len(area))
    assert "Stratford-on-Avon" in page.find_element(By.ID, "dst-title").text
    page.find_element(By.ID, "dst-export-csv").click()
    wait_for(lambda: "Prepared" in page.find_element(By.ID, "dst-export-msg").text, timeout=20,
             message="district export of a partnership gave no file")


def test_home006_bad_area_address_says_so_with_close_matches(page, server):
    page.get(server + "/area/Worcestshire")
    msg = wait_for(lambda: page.find_element(By.ID, "area-error"), timeout=15)
    assert "Worcestershire (E10000034)" in msg.text
    page.get(server + "/area/E10000034/district/E07000219")
    err = wait_for(lambda: page.find_element(By.ID, "dst-error"), timeout=15)
    assert "Worcestershire" in err.text


def test_home007_area_chooser_opens_an_area(page, server):
    page.get(server + "/")
    wait_drawn(page, "ovw", 354)
    page.find_element(By.ID, "svrp-area-pick").click()  # opens with its search box focused
    page.switch_to.active_element.send_keys("Coventry")
    option = wait_for(lambda: [o for o in page.find_elements(By.CSS_SELECTOR, "[role='option']")
                               if o.text.startswith("Coventry (")], timeout=10)
    option[0].click()
    wait_for(lambda: "/area/E08000026" in page.current_url, timeout=15,
             message="the chooser did not open Coventry")
    wait_drawn(page, "ovw", 203)


def _incident_file(path: Path, inside: list[str], outside: list[str]) -> Path:
    """A small partner incident extract: a knife and a domestic incident per LSOA given."""
    rows = ["incident_id,date,lsoa21_code,offence,domestic,knife,location_type,source"]
    for i, code in enumerate(inside + outside):
        rows.append(f"T{2 * i:05d},2024-02-01,{code},Violence with injury,no,yes,street,TEST")
        rows.append(f"T{2 * i + 1:05d},2024-02-02,{code},Violence with injury,yes,no,dwelling,TEST")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_home008_upload_is_checked_against_the_area_and_feeds_its_layers(page, server, world,
                                                                          tmp_path):
    area, result = world("E23000021")
    _, warks = world("E10000031")
    inside = list(result["lsoa21_code"].iloc[:40])
    outside = list(warks["lsoa21_code"].iloc[:3])
    bad = _incident_file(tmp_path / "mixed-incidents.csv", inside, outside)
    good = _incident_file(tmp_path / "leics-incidents.csv", inside, [])
    page.get(server + "/area/E23000021")
    wait_drawn(page, "ovw", len(area))
    page.find_element(By.ID, "ovw-partner-summary").click()  # the panel starts folded

    def upload(path: Path) -> str:
        find(page, "#ovw-upload-incidents input[type=file]").send_keys(str(path))
        return wait_for(lambda: (t := page.find_element(By.ID, "ovw-partner-report").text)
                        and path.name in t and t, timeout=40, message=f"no report on {path.name}")

    # Warwickshire's LSOAs are outside Leicestershire Police's area: the file is refused, by row
    report = upload(bad)
    assert "LSOA outside the area" in report and outside[0] in report, report
    assert "Nothing was loaded" in report, report
    report = upload(good)
    assert "80 accepted" in report and "Nothing was loaded" not in report, report
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='knife']").click()
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").text.count(
        "partner extract") == 3, timeout=20, message="theme layers do not name the extract: "
        + page.find_element(By.ID, "ovw-layer-sources").text)
    wait_for(lambda: "partner extract" in page.find_element(By.ID, "ovw-legend").text,
             timeout=15, message="the knife layer's legend does not name the extract")
    screenshot(page, "home-leicestershire-upload")
    page.find_element(By.ID, "ovw-clear-partner").click()


def test_home009_stability_run_and_export_for_another_area(page, server, world, download_dir):
    area, result = world("E10000034")
    page.get(server + "/area/E10000034?layer=stability&w=violence_with_injury:4")
    wait_drawn(page, "ovw", len(area))
    button = page.find_element(By.ID, "ovw-stb-run")
    page.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    wait_for(lambda: page.find_elements(By.ID, "ovw-stb-finished"), timeout=120, interval=0.1,
             message="stability run for Worcestershire did not finish")
    legend = wait_for(lambda: (t := page.find_element(By.ID, "ovw-legend").text)
                      and "around your weights" in t and t, timeout=20)
    assert "Faded, dotted" in legend
    for old in download_dir.glob("*"):
        old.unlink()
    page.find_element(By.ID, "ovw-export-csv").click()
    # the CSV comes zipped with its notes (profiler.export: csv.zip)
    path = wait_for(lambda: [p for p in download_dir.glob("*") if p.suffix in (".csv", ".zip")],
                    timeout=30, message="no CSV export for Worcestershire")[0]
    from profiler.export import read_export_csv

    _, table = read_export_csv(path)
    # the column of LSOA codes, whatever its header wording
    column = next(c for c in table.columns if table[c].astype(str).str.match(r"E01\d{6}$").all())
    codes = set(table[column])
    assert codes and codes <= set(area.lsoa_codes), "export holds LSOAs outside the area"
    screenshot(page, "home-worcestershire-stability")


def test_home010_change_table_has_police_columns_only_where_both_periods_are_imported(
        page, server, world):
    area, _ = world("E10000034")
    page.get(server + "/area/E10000034/district/E07000234")
    wait_drawn(page, "dst", len(area))
    section = wait_for(lambda: page.find_element(By.ID, "dst-change"), timeout=20)
    headers = [h.text for h in section.find_elements(By.CSS_SELECTOR, "th")]
    assert any("Rank in Worcestershire" in h for h in headers), headers
    assert not any("2019 → 2024" in h for h in headers), headers
    assert "No police.uk months of both periods" in page.find_element(
        By.ID, "dst-change-summary").text
