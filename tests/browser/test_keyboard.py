"""Keyboard only (WCAG 2.1.1, 2.1.2; issue 15): every map page's LSOAs and exports without a mouse.

Each test sends keys and nothing else (no clicks, no scripts that act on the page): Tab to the
skip link, Enter to jump to the LSOA list, Enter on a row opens its "why" panel, Escape closes it
and puts focus back on the row, Tab reaches the exports without being trapped in the list's
page box, and Enter downloads one. The pages and the expected rows come from the app itself.
"""

from __future__ import annotations

import time

import pytest
from browserkit import wait_for
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from test_a11y import settle

pytestmark = pytest.mark.browser
ACTIVE_JS = """
const a = document.activeElement;
return a ? {tag: a.tagName, id: a.id, cls: String(a.className), text: a.textContent.trim(),
            column: a.getAttribute('data-dash-column') || ''} : null;
"""
PANEL_TITLE_JS = """
const t = document.querySelector('#' + arguments[0] + '-panel #panel-title');
return t ? t.textContent : '';
"""


def keys(drv, *sequence) -> None:
    ActionChains(drv).send_keys(*sequence).perform()


def active(drv) -> dict:
    return drv.execute_script(ACTIVE_JS) or {}


def tab_to(drv, predicate, limit: int = 80, back: bool = False) -> dict:
    """Press Tab (Shift+Tab with ``back``) until the focused element fits ``predicate``."""
    for _ in range(limit):
        if back:
            ActionChains(drv).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            keys(drv, Keys.TAB)
        now = active(drv)
        if predicate(now):
            return now
    raise AssertionError(f"not reached in {limit} Tab presses; focus is on {active(drv)}")


def _panel_and_export(drv, key: str, download_dir, export: str, back=False) -> None:
    # from the top of the document (or back up from the navigation after following a link)
    tab_to(drv, lambda a: a.get("id") == "svrp-skip-list", limit=15 if back else 3, back=back)
    keys(drv, Keys.ENTER)
    row = wait_for(lambda: (a := active(drv)).get("column") == "lsoa21_code" and a, timeout=10,
                   message="the skip link did not move focus to the list's first row")
    code = row["text"]
    keys(drv, Keys.ENTER)
    wait_for(lambda: code in drv.execute_script(PANEL_TITLE_JS, key), timeout=20,
             message=f"Enter on {code}'s row did not open its panel")
    assert active(drv).get("id") == f"{key}-panel", "focus did not move to the opened panel"
    keys(drv, Keys.ESCAPE)
    wait_for(lambda: not drv.execute_script(PANEL_TITLE_JS, key), timeout=20,
             message="Escape did not close the panel")
    assert active(drv).get("text") == code, "focus did not go back to the row"
    # the next row, then out of the list (past its page box) to the exports
    nxt = tab_to(drv, lambda a: a.get("column") == "lsoa21_code", limit=2)
    assert nxt["text"] != code
    tab_to(drv, lambda a: a.get("id") == export, limit=40)
    start = time.time() - 1
    keys(drv, Keys.ENTER)
    # a new file, or one of an earlier test's names written again (its mtime tells)
    wait_for(lambda: [p for p in download_dir.iterdir() if p.stat().st_mtime >= start
                      and not p.name.endswith(".crdownload")], timeout=30,
             message="Enter on the export button downloaded nothing")
    # no trap anywhere after it: Tab goes on round to the top of the page
    tab_to(drv, lambda a: "svrp-skip" in a.get("cls", ""), limit=200)


def test_kbd001_overview(page, server, download_dir):
    page.get(server + "/")
    settle(page, "ovw")
    _panel_and_export(page, "ovw", download_dir, "ovw-export-csv")


def test_kbd002_district(page, server, download_dir):
    page.get(server + "/")
    settle(page, "ovw")
    # to a district page by keyboard too: its link in the navigation
    tab_to(page, lambda a: a.get("tag") == "A" and "svrp-nav-link" in a.get("cls", "")
           and a.get("text") not in ("", None) and "overview" not in a.get("text", ""), limit=10)
    keys(page, Keys.ENTER)
    wait_for(lambda: "/district/" in page.current_url, timeout=15,
             message="Enter on a district link did not open it")
    settle(page, "dst")
    time.sleep(0.5)
    assert active(page).get("id") == "svrp-main", "focus did not move to the new page"
    _panel_and_export(page, "dst", download_dir, "dst-export-csv", back=True)


def test_kbd003_explore(page, server, download_dir):
    page.get(server + "/explore")
    settle(page, "exp")
    _panel_and_export(page, "exp", download_dir, "exp-export-csv")
