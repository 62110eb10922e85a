"""Benchmark: switching the overview map's incident month (the period control) for a county.

Starts the app (tiles off), opens a county's overview with incident points on in headless
Chromium, then switches the "Incident month" control ``--runs`` times, alternating months.
For each switch: ``performance.now()`` just before the option is clicked, to the last incident
frame after ``svrp.showPeriod`` restyled the points already drawn
(``window.svrp.marks.points.restyled``). Reported: the median redraw time (target < 300 ms) and the
geometry requests (``/data/lsoa21/...``) made during the switches (target 0: only the points are
replaced, the LSOA shapes are never fetched again).

Usage: ``python -m benchmarks.trends_period [--runs N] [--area CODE]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.browser import App, Browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "artifacts" / "bench" / "trends_period.md"
AREA = "E10000018"  # Leicestershire county (35 months of police.uk imported)
TARGET_MS = 300.0
GEOMETRY_JS = ("return performance.getEntriesByType('resource')"
               ".filter(e => e.name.includes('/data/lsoa21/')).length;")
POINTS_JS = "return (window.svrp && window.svrp.marks && window.svrp.marks.points) || null;"
DRAWN_JS = "return ((window.svrp && window.svrp.marks.ovw) || {}).drawn || null;"


def _wait(fn, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        try:
            got = fn()
        except Exception:  # noqa: BLE001 - mid-render
            got = None
        if got:
            return got
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _options(driver) -> list:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "ovw-period").click()
    return _wait(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                          if e.is_displayed()], 10, "the month list")


def switch(browser: Browser, label: str) -> float:
    """Choose ``label`` in the period control; return ms from the click to the restyled frame.

    Single points are restyled in place by ``svrp.showPeriod`` (its ``restyled`` mark is the
    first animation frame after the last point's new style).
    """
    driver = browser.driver
    option = next(e for e in _options(driver) if e.text.strip() == label)
    t0 = browser.js("window.__t0 = performance.now(); arguments[0].click(); return window.__t0;",
                    option)
    done = _wait(lambda: (lambda m: m if m and (m.get("restyled") or 0) > t0 else None)(
        browser.js(POINTS_JS)), 20, "the points restyled")
    time.sleep(0.3)
    print(f"  {label}: callback at +{done['called'] - t0:.0f} ms, painted at "
          f"+{done['restyled'] - t0:.0f} ms", flush=True)
    return done["restyled"] - t0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the period-switch benchmark and print (and write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--area", default=AREA)
    parser.add_argument("--only", default=None, help="skip unless this text is in 'period'")
    args, _ = parser.parse_known_args(argv)
    if args.only and args.only.lower() not in "period switch":
        return 0
    print("\n## Period switch on the map (benchmarks.trends_period)\n", flush=True)
    app = App(ROOT / "artifacts" / "bench" / "app-trends.log")
    browser = None
    try:
        app.start()
        browser = Browser()
        browser.driver.set_window_size(1280, 720)
        browser.driver.get(f"{app.url}/area/{args.area}?incidents=points")
        _wait(lambda: browser.js(DRAWN_JS), 120, "the LSOA map")
        _wait(lambda: browser.js(POINTS_JS), 60, "the incident points")
        time.sleep(1.0)
        geometry_before = browser.js(GEOMETRY_JS)
        labels = [e.text.strip() for e in _options(browser.driver)]
        browser.driver.find_element("tag name", "body").send_keys("\ue00c")  # Escape
        months = [x for x in labels if not x.startswith("All")]
        cycle = [months[-1], months[-2], labels[0]]  # each differs from the one before
        picks = [cycle[i % 3] for i in range(args.runs)]
        times = []
        for label in picks:
            times.append(switch(browser, label))
        geometry_after = browser.js(GEOMETRY_JS)
    finally:
        if browser is not None:
            browser.close()
        app.stop()
    med = statistics.median(times)
    fetched = geometry_after - geometry_before
    ok = med < TARGET_MS and fetched == 0
    lines = [
        f"area {args.area}, {len(times)} switches ({', '.join(dict.fromkeys(picks))})",
        "",
        "| metric | value | goal | result |",
        "|---|---|---|---|",
        f"| redraw after a period switch, median | {med:,.0f} ms | < {TARGET_MS:.0f} ms | "
        f"{'pass' if med < TARGET_MS else 'fail'} |",
        f"| redraw, slowest | {max(times):,.0f} ms | | |",
        f"| geometry requests during the switches | {fetched} | 0 | "
        f"{'pass' if fetched == 0 else 'fail'} |",
    ]
    text = "\n".join(lines)
    print(text, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
