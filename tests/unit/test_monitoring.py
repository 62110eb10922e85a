"""The monitoring builder's formatting: disclosure, sparkline gaps, export (trd401-trd404)."""

from __future__ import annotations

import math

import pandas as pd

from dashboard import monitoring as mon
from profiler import trends
from profiler.export import read_export_csv, table_bytes

POP = pd.Series({"E01000001": 1000.0})


def _partner(counts: dict[str, int]) -> trends.Trends:
    rows = [{"lsoa21_code": "E01000001", "month": m, "measure": "knife", "count": n}
            for m, n in counts.items() if n]
    frame = pd.DataFrame(rows, columns=list(trends.COUNT_COLUMNS))
    return trends.Trends("partner", frame, tuple(counts), POP, name="x.csv")


def test_trd401_partner_counts_under_threshold_hide_what_derives_from_them():
    t = _partner({"2021-05": 3, "2022-05": 12})
    rows = trends.monitoring_rows(t, ["E01000001"], "month", "2022-05", ["knife"])
    (cell,) = mon.display_rows(rows, threshold=5, suppress=True)
    assert cell["Count"] == "12" and cell["Same period last year (baseline)"] == "<5"
    assert cell["Change on last year"] == "suppressed" and cell["% change"] == "suppressed"
    assert cell["Status (vs last year)"] == "no status"
    # police.uk (public) shows the small count but still gives no status
    (cell,) = mon.display_rows(rows, threshold=5, suppress=False)
    assert cell["Same period last year (baseline)"] == "3"
    assert cell["Status (vs last year)"] == "no status" and "under 5" in cell["Notes"]


def test_trd402_sparkline_gap_is_a_space_not_a_zero_bar():
    line = mon.sparkline([0.0, math.nan, 4.0, 8.0])
    assert line[1] == " " and line[0] == mon.SPARKS[0] and line[-1] == mon.SPARKS[-1]
    assert mon.sparkline([math.nan, math.nan]) == ""


def test_trd403_export_uses_the_shared_writers_and_neutralises_cells():
    frame = pd.DataFrame([{"Measure": "=HYPERLINK(1)", "Count": "12"}])
    meta = {"title": "Monitoring table: x", "period": "FYTD 2022/23 (Apr-Oct 2022)"}
    got_meta, got = read_export_csv(table_bytes(frame, meta, "csv"))
    assert got_meta["period"] == meta["period"]
    assert got.loc[0, "Measure"].startswith("'=")
    assert table_bytes(frame, meta, "xlsx")[:2] == b"PK"


def test_trd404_trend_figure_breaks_lines_at_gaps():
    t = _partner({"2021-05": 9, "2022-04": 7, "2022-05": 6})
    fig = mon.trend_figure([(t, True)], ["E01000001"], "2022-05", threshold=5)
    panel = t.measures.index("knife")  # two traces (this year, last year) per panel
    knife = fig.data[2 * panel:2 * panel + 2]
    this_year, last_year = (list(tr.y) for tr in knife)
    assert this_year[-2:] == [7, 6] and this_year[0] is None  # Jun 2021 not covered: a gap
    assert last_year[-1] == 9
