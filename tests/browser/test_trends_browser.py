"""Monitoring tables and trends in the browser (dashboard/monitoring.py).

The Leicestershire figures are counted by hand from the shipped police.uk store files here
(pandas over the raw CSVs, not profiler.trends), then compared with what the page shows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from browserkit import find, screenshot, wait_for
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SV = {"Violence and sexual offences", "Possession of weapons", "Robbery", "Public order"}
LLR = "E23000021"  # Leicester, Leicestershire and Rutland police force area
DISTRICT = "E07000135"  # Oadby and Wigston
LLR_EXTRACT = DATA / "partner" / "SYNTHETIC_incidents_llr_36m.csv"


def _by_hand(codes: set[str], months: list[str]) -> int:
    total = 0
    for m in months:
        d = pd.read_csv(DATA / "police" / "leicestershire" / f"{m}.csv.gz")
        total += int((d["crime_type"].isin(SV) & d["lsoa21_code"].isin(codes)).sum())
    return total


@pytest.fixture(scope="module")
def district_codes() -> set[str]:
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv",
                        usecols=["lsoa21_code", "lad24_code"])
    return set(table.loc[table["lad24_code"] == DISTRICT, "lsoa21_code"])


def _row(drv, table_id: str, measure: str) -> dict[str, str]:
    """The cells of one measure's row of a monitoring table, by column header."""
    table = drv.find_element(By.ID, table_id)
    heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [tr.find_element(By.CSS_SELECTOR, "th").text] + [
            td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")]
        if cells[0] == measure:
            return dict(zip(heads, cells, strict=True))
    raise AssertionError(f"no row {measure!r} in {table_id}")


def _choose(drv, dropdown_id: str, label: str, prefix: bool = False) -> None:
    """Dash 4 dropdown: click it, type in its search box, click the option (``label``, or the
    first starting with it when ``prefix``)."""
    find(drv, f"#{dropdown_id}").click()  # a lazily loaded component
    search = wait_for(lambda: next(e for e in drv.find_elements(
        By.CSS_SELECTOR, "input.dash-dropdown-search") if e.is_displayed()), timeout=10,
        message=f"{dropdown_id} did not open")
    search.send_keys(label)
    option = wait_for(lambda: next(
        e for e in drv.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
        if e.is_displayed() and (e.text.strip().startswith(label) if prefix
                                 else e.text.strip() == label)), timeout=10,
        message=f"{label!r} not offered in {dropdown_id}")
    option.click()


def _wait_table(drv, table_id: str, period_text: str, timeout: float = 60) -> None:
    wait_for(lambda: period_text in drv.find_element(By.ID, table_id).text, timeout=timeout,
             message=f"{table_id} does not show {period_text!r}")


SV_ROW = "Serious violence (4 police.uk types)"


def test_trd301_llr_district_table_matches_hand_counts_and_follows_the_period(
        page, server, district_codes):
    fy = lambda y: [f"{y}-{m:02d}" for m in range(4, 11)]  # noqa: E731
    now, last, before = (_by_hand(district_codes, fy(y)) for y in (2022, 2021, 2020))
    page.set_window_size(1280, 720)
    page.get(f"{server}/area/{LLR}/district/{DISTRICT}")
    _wait_table(page, "dst-mon-policeuk", "FYTD 2022/23")
    row = _row(page, "dst-mon-policeuk", SV_ROW)
    assert row["Count"] == f"{now:,}"
    assert row["Same period last year (baseline)"] == f"{last:,}"
    assert row["Change on last year"] == f"{now - last:+,}"
    assert row["Three-year average"] == f"{(now + last + before) / 3:,.1f}"
    pct = (now - last) / last * 100
    assert row["Status (vs last year)"] == ("Red" if pct > 5 else "Green" if pct < -5 else
                                            "Amber")
    # the district's LSOA list carries a police.uk sparkline per LSOA
    listed = page.find_element(By.ID, "dst-table")
    assert "Serious violence by month" in listed.text
    spark = wait_for(lambda: page.find_element(
        By.CSS_SELECTOR, "#dst-table td[data-dash-column='trend']").text, timeout=15)
    assert set(spark) <= set("▁▂▃▄▅▆▇█ ") and len(spark.strip()) >= 10
    page.execute_script("arguments[0].scrollIntoView()", listed)
    screenshot(page, "trends_llr_district_list_sparklines")
    section = page.find_element(By.ID, "dst-mon-section")
    page.execute_script("arguments[0].scrollIntoView()", section)
    wait_for(lambda: page.find_element(By.ID, "dst-mon-graph"), timeout=60,
             message="no trend chart")
    screenshot(page, "trends_llr_district_fytd")
    page.execute_script("arguments[0].scrollIntoView()", page.find_element(By.ID, "dst-mon-graph"))
    screenshot(page, "trends_llr_district_chart")
    # drive the period control: one month (Sep 2022) against Sep 2021
    _choose(page, "dst-mon-kind", "Month")
    _choose(page, "dst-mon-end", "Sep 2022")
    _wait_table(page, "dst-mon-policeuk", "Sep 2022")
    row = _row(page, "dst-mon-policeuk", SV_ROW)
    assert row["Count"] == f"{_by_hand(district_codes, ['2022-09']):,}"
    assert row["Same period last year (baseline)"] == f"{_by_hand(district_codes, ['2021-09']):,}"
    # rolling 12 months to Oct 2022: its three-year average needs Nov 2019-Oct 2020, which the
    # 35 months (from Dec 2019) do not fully cover
    _choose(page, "dst-mon-kind", "Rolling 12 months")
    _choose(page, "dst-mon-end", "Oct 2022")
    _wait_table(page, "dst-mon-policeuk", "12 months to Oct 2022")
    row = _row(page, "dst-mon-policeuk", SV_ROW)
    months = [f"{y}-{m:02d}" for y, m in [(2021, m) for m in range(11, 13)]
              + [(2022, m) for m in range(1, 11)]]
    assert row["Count"] == f"{_by_hand(district_codes, months):,}"
    assert row["Three-year average"] == "not enough history"
    assert "Nov 2019" in page.find_element(By.ID, "dst-mon-out").text
    screenshot(page, "trends_llr_district_rolling12")


def test_trd302_warwickshire_district_says_not_enough_history(page, server):
    from profiler.area import AreaCatalogue

    home = AreaCatalogue.load(DATA).resolve("Warwickshire")
    sub = home.subareas[0]
    page.set_window_size(1280, 720)
    page.get(f"{server}/area/{home.code}/district/{sub.code}")
    _wait_table(page, "dst-mon-policeuk", "FYTD")
    row = _row(page, "dst-mon-policeuk", SV_ROW)
    assert row["Count"] not in ("", "–")  # this year's months are imported
    assert row["Same period last year (baseline)"] == "–"
    assert row["Three-year average"] == "not enough history"
    assert row["Status (vs last year)"] == "no status"
    said = page.find_element(By.ID, "dst-mon-out").text  # once above the table, or per row
    assert "no same period last year" in said and "not covered" in said
    page.execute_script("arguments[0].scrollIntoView()",
                        page.find_element(By.ID, "dst-mon-section"))
    screenshot(page, "trends_warwickshire_district")


def test_trd303_partner_extract_shows_as_its_own_table(page, server, district_codes):
    page.set_window_size(1280, 720)
    page.get(f"{server}/area/{LLR}")
    wait_for(lambda: page.find_element(By.ID, "ovw-mon-policeuk"), timeout=90,
             message="no monitoring table on the overview")
    # the overview's table follows "Focus on a district"
    _choose(page, "ovw-district", "Oadby and Wigston")
    _wait_table(page, "ovw-mon-policeuk", "Oadby and Wigston, FYTD 2022/23")
    fytd = [f"2022-{m:02d}" for m in range(4, 11)]
    assert _row(page, "ovw-mon-policeuk", SV_ROW)["Count"] == \
        f"{_by_hand(district_codes, fytd):,}"
    _choose(page, "ovw-district", "Whole of", prefix=True)
    _wait_table(page, "ovw-mon-policeuk", "Leicestershire, FYTD 2022/23")
    page.find_element(By.ID, "ovw-partner-summary").click()
    find(page, "#ovw-upload-incidents input[type=file]").send_keys(str(LLR_EXTRACT))
    status = page.find_element(By.ID, "ovw-partner-report")
    wait_for(lambda: "Loaded" in status.text, timeout=60, message="extract not loaded")
    _wait_table(page, "ovw-mon-partner", "FYTD 2022/23", timeout=30)
    row = _row(page, "ovw-mon-partner", "Knife crime")
    assert row["Three-year average"] != "not enough history"
    assert row["Status (vs last year)"] in ("Red", "Amber", "Green", "no status")
    # the extract's own months are offered (Nov 2019: the extract has it, police.uk does not)
    _choose(page, "ovw-mon-end", "Nov 2019 (partner only)")
    _choose(page, "ovw-mon-kind", "Month")
    _wait_table(page, "ovw-mon-partner", "Nov 2019", timeout=30)
    assert "months not covered by police.uk: Nov 2019" in page.find_element(
        By.ID, "ovw-mon-out").text
    _choose(page, "ovw-mon-kind", "Financial year to date (April-March)")
    _choose(page, "ovw-mon-end", "Oct 2022")
    _wait_table(page, "ovw-mon-partner", "FYTD 2022/23", timeout=30)
    # police.uk stays its own table: the partner rows are never added to it
    assert "Knife crime" not in page.find_element(By.ID, "ovw-mon-policeuk").text
    page.execute_script("arguments[0].scrollIntoView()",
                        page.find_element(By.ID, "ovw-mon-section"))
    screenshot(page, "trends_llr_overview_partner")
    # the district page of the same tab finds the upload too
    page.get(f"{server}/area/{LLR}/district/{DISTRICT}")
    _wait_table(page, "dst-mon-partner", "FYTD 2022/23")
    assert "SYNTHETIC" in page.find_element(By.ID, "dst-mon-out").text


VISIBLE_POINTS_JS = """
return Array.from(document.querySelectorAll('.svrp-month-pane'))
    .filter(p => p.style.display !== 'none')
    .reduce((n, p) => n + p.querySelectorAll('path.svrp-pt').length, 0);"""
GEOMETRY_JS = ("return performance.getEntriesByType('resource')"
               ".filter(e => e.name.includes('/data/lsoa21/')).length;")


def test_trd304_map_period_control_filters_points_keeps_url_and_fetches_no_geometry(page, server):
    county = "E10000018"  # Leicestershire county
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv",
                        usecols=["lsoa21_code", "utla_code"])
    codes = set(table.loc[table["utla_code"] == county, "lsoa21_code"])
    d = pd.read_csv(DATA / "police" / "leicestershire" / "2022-10.csv.gz")
    expected = int((d["crime_type"].isin(SV) & d["lsoa21_code"].isin(codes)
                    & d["longitude"].notna()).sum())
    page.set_window_size(1280, 720)
    page.get(f"{server}/area/{county}?incidents=points")
    total = wait_for(lambda: page.execute_script(VISIBLE_POINTS_JS) > 1000 and
                     page.execute_script(VISIBLE_POINTS_JS), timeout=90,
                     message="incident points not drawn")
    fetched = page.execute_script(GEOMETRY_JS)
    _choose(page, "ovw-period", "Oct 2022")
    wait_for(lambda: page.execute_script(VISIBLE_POINTS_JS) == expected, timeout=20,
             message=f"not {expected} points of Oct 2022 shown")
    wait_for(lambda: "period=2022-10" in page.current_url, timeout=20,
             message="the URL does not keep the period")
    assert page.execute_script(GEOMETRY_JS) == fetched  # no geometry fetched again
    screenshot(page, "trends_map_period_oct2022")
    # the link restores the period
    page.get(page.current_url)
    wait_for(lambda: page.execute_script(VISIBLE_POINTS_JS) == expected, timeout=90,
             message="the shared link does not restore the period")
    assert "Oct 2022" in page.find_element(By.ID, "ovw-period").text
    _choose(page, "ovw-period", "All months", prefix=True)
    wait_for(lambda: page.execute_script(VISIBLE_POINTS_JS) == total, timeout=20,
             message="all months not shown again")
