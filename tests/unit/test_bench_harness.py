"""The browser benchmark's pure helpers (no browser, no app): medians, ratios, verdicts, table."""

from __future__ import annotations

import gzip

from benchmarks import browser


def test_bench001_median_ignores_missing_runs():
    assert browser.median([3.0, None, 1.0, 2.0]) == 2.0
    assert browser.median([4.0, 1.0]) == 2.5
    assert browser.median([None, None]) is None
    assert browser.median([]) is None


def test_bench002_ratio_needs_both_and_a_nonzero_floor():
    assert browser.ratio(300.0, 200.0) == 1.5
    assert browser.ratio(None, 200.0) is None
    assert browser.ratio(300.0, None) is None
    assert browser.ratio(300.0, 0) is None


def test_bench003_verdict_limit_is_inclusive():
    assert browser.verdict(399.0, 400.0) == "pass"
    assert browser.verdict(400.0, 400.0) == "pass"
    assert browser.verdict(401.0, 400.0) == "fail"
    assert browser.verdict(None, 400.0) == "n/a"
    assert browser.verdict(1.0, None) == ""


def test_bench004_numbers_formatted_for_the_table():
    assert browser.fmt(None) == "–"
    assert browser.fmt(8.6) == "8.60"
    assert browser.fmt(33755.4) == "33,755"
    assert browser.fmt(131.2, " kB") == "131 kB"
    assert browser.kb(2500) == 2.5
    assert browser.kb(None) is None


def test_bench005_markdown_table_has_header_and_ratio():
    rows = [
        browser.Row("England", "first draw, ms", 3900.0, 3000.0, "≤ 1.3× bare", "pass"),
        browser.Row("server", "RSS, MB", 512.0, with_ratio=False),
    ]
    lines = browser.markdown_table(rows).splitlines()
    assert lines[0].startswith("| target | metric | app (median) |")
    assert lines[1].count("|") == len(browser.HEADER) + 1
    assert lines[2] == "| England | first draw, ms | 3,900 | 3,000 | 1.30× | ≤ 1.3× bare | pass |"
    assert lines[3] == "| server | RSS, MB | 512 | – | – |  |  |"


def test_bench006_target_rows_pair_app_with_bare_and_apply_limits():
    target = next(t for t in browser.TARGETS if t.name == "England explore")
    app = [
        browser.Run(draw_ms=d, recolour_ms=r, payload_gz=g, requests=2)
        for d, r, g in ((2600, 300, 20_000), (2800, 390, 21_000), (9000, 900, 22_000))
    ]
    bare = [browser.Run(draw_ms=d, recolour_ms=200) for d in (2000, 2200, 2400)]
    rows = {
        r.metric.split(" (")[0].split(",")[0]: r for r in browser.target_rows(target, app, bare)
    }
    assert rows["first draw"].app == 2800 and rows["first draw"].bare == 2200
    assert rows["first draw"].result == "pass"  # 2,800 ms < 3 s and 1.27x <= 1.3x
    assert rows["recolour"].result == "pass"  # median 390 ms
    assert rows["recolour payload gzipped"].app == 21.0
    assert rows["recolour payload gzipped"].result == "pass"


def test_bench007_gzip_size_and_weight_selector():
    body = b'{"response": {"exp-view": {"data": "' + b"0123" * 5000 + b'"}}}'
    assert browser.gzip_size(body) == len(gzip.compress(body, compresslevel=6, mtime=0))
    assert browser.gzip_size(body) < len(body) / 10
    sel = browser.weight_box("exp")
    assert '"type":"exp-weight"' in sel and sel.endswith("input[type=number]")
