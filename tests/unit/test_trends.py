"""Monthly series and monitoring tables (profiler.trends): hand-worked examples and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiler import trends
from profiler.errors import ProfilerError

POP = pd.Series({"E01000001": 1000.0, "E01000002": 3000.0})


def _records(rows):
    """police.uk-shaped records from (lsoa, month, crime type, n) tuples."""
    out = [(code, month, kind) for code, month, kind, n in rows for _ in range(n)]
    return pd.DataFrame(out, columns=["lsoa21_code", "month", "crime_type"])


def _trends(rows, covered):
    return trends.Trends("police.uk", trends.police_monthly(_records(rows)), tuple(covered), POP)


VSO = "Violence and sexual offences"


def test_trd001_period_months_and_labels():
    assert trends.period_months("month", "2022-10") == ["2022-10"]
    assert trends.period_months("fytd", "2022-10") == trends.month_range("2022-04", "2022-10")
    assert trends.period_months("fytd", "2023-02") == trends.month_range("2022-04", "2023-02")
    assert trends.period_months("fytd", "2022-04") == ["2022-04"]
    assert trends.period_months("quarter", "2022-11") == ["2022-10", "2022-11"]
    assert trends.period_months("quarter", "2023-03") == ["2023-01", "2023-02", "2023-03"]
    assert trends.period_months("rolling12", "2022-10") == trends.month_range("2021-11", "2022-10")
    assert trends.period_label("fytd", "2022-10") == "FYTD 2022/23 (Apr-Oct 2022)"
    assert trends.period_label("quarter", "2023-03") == "Q4 2022/23 (Jan-Mar 2023)"
    assert trends.period_label("quarter", "2022-11").endswith("to date)")
    assert trends.financial_year("2023-03") == "2022/23"
    with pytest.raises(ProfilerError, match="YYYY-MM"):
        trends.period_months("fytd", "2022-13")
    with pytest.raises(ProfilerError, match="use one of"):
        trends.period_months("week", "2022-10")


def test_trd002_gaps_are_gaps_not_zeros():
    t = _trends([("E01000001", "2021-01", VSO, 3)], ["2021-01", "2021-03"])
    s = t.series(["E01000001"], "violence_sexual")
    assert list(s.index) == ["2021-01", "2021-02", "2021-03"]
    assert s.loc["2021-01", "count"] == 3
    assert math.isnan(s.loc["2021-02", "count"])  # not imported: a gap
    assert s.loc["2021-03", "count"] == 0  # imported, nothing recorded: a zero
    assert s.loc["2021-01", "rate_per_1000"] == pytest.approx(3.0)
    assert t.total(["E01000001"], "violence_sexual", ["2021-01", "2021-02"]) is None


def test_trd003_monitoring_row_hand_worked():
    # FYTD 2022/23 to June: Apr-Jun. 2022: 10+11+12 = 33; 2021: 10+10+10 = 30; 2020: 9*3 = 27.
    rows = []
    for y, per in ((2020, (9, 9, 9)), (2021, (10, 10, 10)), (2022, (10, 11, 12))):
        for m, n in zip((4, 5, 6), per, strict=True):
            rows.append(("E01000001", f"{y}-{m:02d}", VSO, n))
    covered = trends.month_range("2020-04", "2022-06")
    t = _trends(rows, covered)
    (row,) = trends.monitoring_rows(t, ["E01000001", "E01000002"], "fytd", "2022-06",
                                    ["violence_sexual"])
    assert row["count"] == 33 and row["last_year"] == 30 and row["change"] == 3
    assert row["pct_change"] == 10.0
    assert row["average_3y"] == 30.0 and row["pct_vs_average"] == 10.0
    assert row["status"] == "Red" and row["why"] == ""
    assert row["rate_per_1000"] == round(33 / 4000 * 1000, 2)
    # a 10% threshold makes the same +10% Amber (configurable rule)
    (row,) = trends.monitoring_rows(t, ["E01000001"], "fytd", "2022-06", ["violence_sexual"],
                                    rag_pct=10)
    assert row["status"] == "Amber"


def test_trd004_no_status_when_small_or_no_history():
    rows = [("E01000001", "2021-05", VSO, 4), ("E01000001", "2022-05", VSO, 2)]
    t = _trends(rows, trends.month_range("2021-04", "2022-06"))
    (row,) = trends.monitoring_rows(t, ["E01000001"], "month", "2022-05", ["violence_sexual"])
    assert row["count"] == 2 and row["status"] is None
    assert "under 5" in row["why"]
    assert row["average_3y"] is None and "not enough history" in row["why_average"]
    # last year not imported: no baseline, no status, says which months
    t = _trends(rows, ["2022-05"])
    (row,) = trends.monitoring_rows(t, ["E01000001"], "month", "2022-05", ["violence_sexual"])
    assert row["last_year"] is None and row["status"] is None
    assert "May 2021 not covered" in row["why"]
    # last year zero: no percentage
    rows = [("E01000001", "2022-05", VSO, 9)]
    t = _trends(rows, ["2021-05", "2022-05"])
    (row,) = trends.monitoring_rows(t, ["E01000001"], "month", "2022-05", ["violence_sexual"])
    assert row["last_year"] == 0 and row["pct_change"] is None and row["status"] is None


def test_trd005_recording_change_noted_where_crossed():
    assert [c.month for c in trends.RECORDING_CHANGES] == sorted(c.month for c in
                                                                 trends.RECORDING_CHANGES)
    crossed = trends.recording_notes("violence_sexual", ["2023-04", "2024-04"])
    assert [c.month for c in crossed] == ["2023-05"]
    assert trends.recording_notes("violence_sexual", ["2019-12", "2022-10"]) == []
    assert trends.recording_notes("robbery", ["2018-01", "2024-04"]) == []
    t = _trends([("E01000001", "2024-04", VSO, 9)], ["2023-04", "2024-04"])
    (row,) = trends.monitoring_rows(t, ["E01000001"], "month", "2024-04", ["violence_sexual"])
    assert row["recording"] == ["2023-05"]
    # no figure last year: nothing is compared across the change
    t = _trends([("E01000001", "2024-04", VSO, 9)], ["2024-04"])
    (row,) = trends.monitoring_rows(t, ["E01000001"], "month", "2024-04", ["violence_sexual"])
    assert row["recording"] == []


def test_trd006_sources_kept_apart():
    t = _trends([], ["2022-01"])
    with pytest.raises(ProfilerError, match="not a police.uk measure"):
        t.series(["E01000001"], "knife")
    with pytest.raises(ProfilerError, match="source"):
        trends.Trends("both", t.counts, (), POP)
    assert set(t.measures) == {m for m, v in trends.MEASURES.items() if v.source == "police.uk"}
    assert trends.THEME_MEASURES["police.uk"] == ()


def test_trd007_partner_monthly_theme_definitions():
    inc = pd.DataFrame({
        "date": pd.to_datetime(["2022-01-03", "2022-01-09", "2022-02-01", "2022-02-02"]),
        "lsoa21_code": ["E01000001"] * 4,
        "violence": [True, True, True, False],
        "domestic": [True, False, False, True],
        "knife": [False, True, False, False],
        "location_type": ["dwelling", "street", "dwelling", "street"],
    })
    c = trends.partner_monthly(inc)
    got = {(r.month, r.measure): r.count for r in c.itertuples()}
    assert got[("2022-01", "domestic")] == 1 and got[("2022-01", "knife")] == 1
    assert got[("2022-01", "public_place")] == 1 and ("2022-02", "public_place") not in got
    assert ("2022-02", "domestic") not in got  # domestic but not violence
    assert got[("2022-02", "incident")] == 2
    assert trends.partner_covered(inc["date"]) == ("2022-01", "2022-02")


months_st = st.lists(st.sampled_from(trends.month_range("2020-01", "2022-12")), min_size=1,
                     max_size=36, unique=True)
rows_st = st.lists(st.tuples(st.sampled_from(list(POP.index)),
                             st.sampled_from(trends.month_range("2020-01", "2022-12")),
                             st.sampled_from([VSO, "Robbery", "Burglary"]),
                             st.integers(1, 4)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(rows=rows_st, covered=months_st)
def test_trd008_property_gaps_never_zero(rows, covered):
    t = _trends(rows, covered)
    s = t.series(list(POP.index), "sv_all")["count"]
    gaps = [m for m in s.index if m not in covered]
    assert s.reindex(gaps).isna().all()
    assert s.reindex(covered).notna().all()


@settings(max_examples=40, deadline=None)
@given(rows=rows_st, covered=months_st, seed=st.integers(0, 2**16),
       kind=st.sampled_from(trends.PERIODS))
def test_trd009_property_shuffling_rows_changes_nothing(rows, covered, seed, kind):
    records = _records(rows)
    shuffled = records.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a = trends.Trends("police.uk", trends.police_monthly(records), tuple(covered), POP)
    b = trends.Trends("police.uk", trends.police_monthly(shuffled), tuple(reversed(covered)), POP)
    end = max(covered)
    codes = list(POP.index)
    assert trends.monitoring_rows(a, codes, kind, end) == trends.monitoring_rows(b, codes, kind,
                                                                                 end)
    pd.testing.assert_frame_equal(a.lsoa_matrix(codes, "sv_all"), b.lsoa_matrix(codes, "sv_all"))


@settings(max_examples=40, deadline=None)
@given(rows=rows_st, covered=months_st)
def test_trd010_property_area_is_sum_of_lsoas(rows, covered):
    t = _trends(rows, covered)
    m = t.lsoa_matrix(list(POP.index), "sv_all")
    s = t.series(list(POP.index), "sv_all")["count"]
    np.testing.assert_array_equal(m.sum(axis=0, min_count=1).to_numpy(), s.to_numpy())
