"""Partner data in the browser: uploads never inject markup; theme layers name their source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from browserkit import click_lsoa, marks, mouse, screenshot, styles, wait_for
from selenium.webdriver.common.by import By

from profiler.export import read_export_csv

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = ROOT / "data" / "partner" / "synthetic_incidents_warwickshire.csv"
IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"
WARWICK = (52.2820, -1.5850)


def _codes(drv) -> list[str]:
    """Codes of the LSOAs drawn on the overview's canvas (none until it has drawn)."""
    return sorted(styles(drv, "ovw")) if (marks(drv, "ovw") or {}).get("drawn") else []


def _open(drv, url):
    drv.get(url + "/")
    wait_for(lambda: len(_codes(drv)) >= 354, timeout=30, message="354 LSOA shapes not drawn")
    drv.find_element(By.ID, "ovw-partner-summary").click()  # the panel starts folded


def _upload(drv, which: str, path: Path) -> str:
    drv.find_element(By.CSS_SELECTOR, f"#ovw-upload-{which} input[type=file]").send_keys(
        str(path))
    status = drv.find_element(By.ID, "ovw-partner-report")
    return wait_for(lambda: status.text if ("Loaded" in status.text or "Nothing was loaded"
                                            in status.text) and str(path.name)[:8] in status.text
                    else None, timeout=30, message=f"no report for {path.name}")


def _report(drv) -> str:
    return drv.find_element(By.ID, "ovw-partner-report").text


def test_xss001_uploaded_markup_is_shown_as_text(page, server, tmp_path):
    _open(page, server)
    page.execute_script("delete window.__xss;")
    # an extract named with markup, with markup in the offence and location type fields
    extract = tmp_path / f"{IMG}.csv"
    rows = ["date,latitude,longitude,offence,domestic,knife,location_type"]
    rows += [f"2024-01-0{i},{WARWICK[0]},{WARWICK[1]},{IMG},no,yes,{SCRIPT}" for i in range(1, 8)]
    rows += [f"2024-01-08,{WARWICK[0]},{WARWICK[1]},Assault {SCRIPT},yes,no,{IMG}"]
    extract.write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = _upload(page, "incidents", extract)
    assert text.startswith("Loaded") and IMG in text and SCRIPT[:25] in text  # as text
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='knife']").click()
    wait_for(lambda: IMG in page.find_element(By.ID, "ovw-legend").text, timeout=15,
             message="legend does not name the extract")
    click_lsoa(page, "ovw", _codes(page)[200])
    wait_for(lambda: page.find_element(By.ID, "panel-partner-title").text, timeout=15)
    assert IMG in page.find_element(By.ID, "panel-partner-title").text

    # an indicator table with markup in the LSOA names, and a refused file full of markup
    codes = pd.read_csv(ROOT / "data" / "indicators" / "lsoa21_indicators.csv",
                        usecols=["lsoa21_code", "utla_code"])
    codes = codes.loc[codes["utla_code"] == "E10000031", "lsoa21_code"]
    table = tmp_path / "names.csv"
    pd.DataFrame({"lsoa21_code": codes, "lsoa_name": f"{IMG}{SCRIPT}",
                  "violence_with_injury": 1.5}).to_csv(table, index=False)
    assert _upload(page, "indicators", table).startswith("Loaded")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,latitude,longitude,offence\n2024-01-01,{SCRIPT},-1.58,{IMG}\n"
                   f"{IMG},52.28,-1.58,x\n", encoding="utf-8")
    text = _upload(page, "incidents", bad)
    assert "Nothing was loaded" in text and "not a number (latitude)" in text
    assert SCRIPT[:20] in text
    screenshot(page, "partner-xss")
    assert page.execute_script("return typeof window.__xss") == "undefined"
    assert not page.find_elements(By.CSS_SELECTOR, "#ovw-partner-panel img, #ovw-panel img, "
                                  ".leaflet-tooltip img, #ovw-legend img")
    page.find_element(By.ID, "ovw-clear-partner").click()
    wait_for(lambda: "cleared" in _report(page), timeout=15)


def test_upl010_synthetic_extract_names_its_source_and_suppresses(page, server, download_dir):
    _open(page, server)
    sources = page.find_element(By.ID, "ovw-layer-sources").text
    assert sources.count("open proxies") == 3
    page.find_element(By.ID, "ovw-load-synthetic").click()
    wait_for(lambda: "3,000 row(s) marked SYNTHETIC" in _report(page), timeout=30,
             message="synthetic example not loaded")
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").text.count(
        "partner extract, SYNTHETIC example") == 3, timeout=10)
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='domestic']").click()
    legend = wait_for(lambda: (t := page.find_element(By.ID, "ovw-legend").text)
                      and "SYNTHETIC" in t and t, timeout=15, message="legend source missing")
    assert "Domestic violence" in legend and "not real data" in legend
    # the table gains a suppressed partner-count column
    cells = wait_for(lambda: [c.text for c in page.find_elements(
        By.CSS_SELECTOR, "#ovw-table td[data-dash-column='partner']")], timeout=15,
        message="no partner column in the table")
    assert any("<5" in c for c in cells)
    assert all(part == "<5" or part == "0" or int(part) >= 5
               for c in cells for part in c.split(" / ")), cells
    # hover text and the panel show <5 and "suppressed", never a count from 1 to 4
    codes = _codes(page)
    seen = []
    for target in codes[::25]:
        mouse(page, "ovw", target, "mousemove")
        wait_for(lambda: "Partner extract" in page.find_element(By.ID, "ovw-hover").text,
                 timeout=5)
        seen.append(page.find_element(By.ID, "ovw-hover").text)
    assert any("<5 incident(s); rate suppressed" in s for s in seen), seen
    assert all("(partner extract, SYNTHETIC example)" in s for s in seen)
    click_lsoa(page, "ovw", codes[30])
    panel = wait_for(lambda: page.find_element(By.ID, "panel-partner").text, timeout=15)
    assert "Per 1,000 residents" in panel
    screenshot(page, "partner-synthetic")
    # the partner export is suppressed too
    for old in download_dir.glob("*"):
        old.unlink()
    page.find_element(By.ID, "ovw-export-partner").click()
    path = wait_for(lambda: list(download_dir.glob("partner-incident-counts*.csv")), timeout=20,
                    message="partner export not downloaded")[0]
    meta, table = read_export_csv(path)
    assert path.name == "partner-incident-counts-SYNTHETIC.csv" and "SYNTHETIC" in meta["extract"]
    for col in ("knife_count", "domestic_count", "public_place_count"):
        shown = table.loc[table[col] != "<5", col].astype(int)
        assert not shown.between(1, 4).any() and (table[col] == "<5").any()
    page.find_element(By.ID, "ovw-clear-partner").click()
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").text.count("open proxies")
             == 3, timeout=15)


def test_upl012_an_upload_survives_a_visit_to_a_district_page(page, server):
    _open(page, server)
    page.find_element(By.ID, "ovw-load-synthetic").click()
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").text.count(
        "partner extract, SYNTHETIC example") == 3, timeout=30, message="example not loaded")
    page.find_element(By.LINK_TEXT, "Rugby").click()  # in-app navigation, same tab
    wait_for(lambda: page.find_elements(By.ID, "dst-title"), timeout=30,
             message="district page not opened")
    page.find_element(By.LINK_TEXT, "Warwickshire overview").click()
    wait_for(lambda: len(_codes(page)) >= 354, timeout=30, message="overview not drawn again")
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").get_attribute(
        "textContent").count("partner extract, SYNTHETIC example") == 3, timeout=15,
        message="the upload was dropped by leaving the overview")
    page.find_element(By.CSS_SELECTOR, "#ovw-layer input[value='knife']").click()
    wait_for(lambda: "SYNTHETIC" in page.find_element(By.ID, "ovw-legend").text, timeout=15,
             message="the knife layer does not use the upload after coming back")
    page.find_element(By.ID, "ovw-partner-summary").click()
    page.find_element(By.ID, "ovw-clear-partner").click()
    wait_for(lambda: page.find_element(By.ID, "ovw-layer-sources").text.count("open proxies")
             == 3, timeout=15)
