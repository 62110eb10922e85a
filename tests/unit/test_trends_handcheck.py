"""Hand-checked FYTD figures from the shipped Leicestershire police.uk files (trd101).

The expected counts were worked out from the raw store files with the independent pandas code in
:func:`_by_hand` (read each month's CSV, keep the four serious-violence types and the LSOAs, count
rows) and pinned here; the test checks both that the files still give them and that
profiler.trends gives the same figures through its own path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from profiler import police, trends
from profiler.backtest_data import residents

DATA = Path(__file__).resolve().parents[2] / "data"
SV = {"Violence and sexual offences", "Possession of weapons", "Robbery", "Public order"}
DISTRICT = "E07000135"  # Oadby and Wigston
LSOA = "E01025992"  # its LSOA with most serious violence in Apr-Oct 2022
# FYTD Apr-Oct of each year, counted by hand (see _by_hand)
PINNED = {
    DISTRICT: {2020: 1018, 2021: 1318, 2022: 1358},
    LSOA: {2020: 73, 2021: 95, 2022: 124},
}


def _by_hand(codes: set[str], year: int) -> int:
    total = 0
    for month in range(4, 11):
        d = pd.read_csv(DATA / "police" / "leicestershire" / f"{year}-{month:02d}.csv.gz")
        total += int((d["crime_type"].isin(SV) & d["lsoa21_code"].isin(codes)).sum())
    return total


@pytest.fixture(scope="module")
def llr():
    if not (DATA / "police" / "leicestershire").exists():
        pytest.skip("no Leicestershire police.uk store")
    inc = police.load_incidents(DATA, forces="leicestershire", crime_types=sorted(SV))
    months = tuple(police.imported(DATA)["forces"]["leicestershire"]["months"])
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv",
                        usecols=["lsoa21_code", "lad24_code"])
    district = set(table.loc[table["lad24_code"] == DISTRICT, "lsoa21_code"])
    return trends.Trends("police.uk", trends.police_monthly(inc), months, residents(DATA)), district


@pytest.mark.parametrize("which", [DISTRICT, LSOA])
def test_trd101_fytd_vs_last_year_and_three_year_average(llr, which):
    t, district = llr
    codes = district if which == DISTRICT else {LSOA}
    pinned = PINNED[which]
    assert {y: _by_hand(codes, y) for y in pinned} == pinned
    (row,) = trends.monitoring_rows(t, sorted(codes), "fytd", "2022-10", ["sv_all"])
    assert row["period"] == "FYTD 2022/23 (Apr-Oct 2022)"
    assert row["count"] == pinned[2022] and row["last_year"] == pinned[2021]
    assert row["change"] == pinned[2022] - pinned[2021]
    assert row["average_3y"] == round(sum(pinned.values()) / 3, 1)
    pct = (pinned[2022] - pinned[2021]) / pinned[2021] * 100
    assert row["pct_change"] == round(pct, 1)
    assert row["status"] == ("Red" if pct > 5 else "Green" if pct < -5 else "Amber")
