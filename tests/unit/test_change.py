"""Change over time: two editions scored alike, 2011->2021 carry-over, police.uk windows."""

from __future__ import annotations

import gzip
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from synth import make_spec, random_table

from profiler.change import (
    POLICE_WINDOWS,
    SHARED_INDICATORS,
    carry_to_lsoa21,
    comparison_spec,
    locate_records,
    police_change,
    same_calendar_months,
    score_editions,
)
from profiler.errors import ProfilerError


def _values(table: pd.DataFrame, k: int = 4) -> pd.DataFrame:
    return table.set_index("lsoa21_code")[[f"c{j}" for j in range(k)]]


def test_chg001_unchanged_data_gives_no_band_change():
    spec = make_spec(4)
    values = _values(random_table(200, 4, seed=1))
    out = score_editions(values, values, values.copy(), spec)
    assert (out["band_moved"] == 0).all()
    assert (out["band_change"] == "same").all()
    assert (out["rank_change"] == 0).all()
    np.testing.assert_allclose(out["score_before"], out["score_after"])


def test_chg002_planted_rise_raises_that_lsoas_band():
    spec = make_spec(4)
    before = _values(random_table(200, 4, seed=2))
    first = score_editions(before, before, before, spec)
    target = first.index[first["band_before"] == "Medium"][0]
    after = before.copy()
    after.loc[target] = before.quantile(0.99)  # near the county's worst on every indicator
    out = score_editions(before, before, after, spec)
    assert out.loc[target, "band_change"] == "rose"
    assert out.loc[target, "band_moved"] >= 1
    assert out.loc[target, "band_after"] in ("High", "Very High")
    assert out.loc[target, "rank_change"] > 0
    # Scores are relative to the county: the plant widens the spread of scores, so areas near a
    # cut point can move one band towards Medium, never further.
    others = out.drop(index=target)
    assert others["band_moved"].abs().max() <= 1
    assert (others["band_change"] == "same").mean() > 0.85


def test_chg003_editions_must_cover_same_areas():
    spec = make_spec(2)
    values = _values(random_table(20, 2), 2)
    with pytest.raises(ProfilerError, match="same areas"):
        score_editions(values, values, values.iloc[::-1], spec)


@pytest.fixture
def hand_lookup():
    # A unchanged; B split into B1, B2; C and D merged into CD; E and F in a complex change
    # (E -> X1 and X2, F -> X2).
    return pd.DataFrame(
        [("A", "A", "U"), ("B", "B1", "S"), ("B", "B2", "S"), ("C", "CD", "M"),
         ("D", "CD", "M"), ("E", "X1", "X"), ("E", "X2", "X"), ("F", "X2", "X")],
        columns=["lsoa11_code", "lsoa21_code", "change_code"],
    )


def test_chg004_carry_over_arithmetic_on_a_hand_made_lookup(hand_lookup):
    idx = pd.Index(list("ABCDEF"), name="lsoa11_code")
    values = pd.DataFrame({"rate": [0.1, 0.2, 0.3, 0.6, 1.0, 2.0]}, index=idx)
    weights = pd.DataFrame({"rate": [100.0, 200.0, 100.0, 300.0, 400.0, 100.0]}, index=idx)
    households = pd.Series({"A": 50, "B1": 30, "B2": 70, "CD": 80, "X1": 10, "X2": 30})
    out = carry_to_lsoa21(values, weights, hand_lookup, households)
    assert list(out.index) == ["A", "B1", "B2", "CD", "X1", "X2"]
    assert out.loc["A", "rate"] == pytest.approx(0.1)  # unchanged: copied
    assert out.loc["B1", "rate"] == out.loc["B2", "rate"] == pytest.approx(0.2)  # split: copied
    # merged: population-weighted mean (100 x 0.3 + 300 x 0.6) / 400
    assert out.loc["CD", "rate"] == pytest.approx(0.525)
    # complex: E shares its weight 400 among X1, X2 by households (1/4, 3/4); X1 only has E
    assert out.loc["X1", "rate"] == pytest.approx(1.0)
    assert out.loc["X2", "rate"] == pytest.approx((300 * 1.0 + 100 * 2.0) / 400)
    assert out["carried_from_2011"].to_dict() == {
        "A": "U", "B1": "S", "B2": "S", "CD": "M", "X1": "X", "X2": "X"}
    assert out.loc["CD", "lsoa11_codes"] == "C;D"
    assert out.loc["X2", "lsoa11_codes"] == "E;F"


def test_chg005_carry_over_blank_parent_and_no_households(hand_lookup):
    idx = pd.Index(list("ABCDEF"), name="lsoa11_code")
    values = pd.DataFrame({"v": [1.0, 2.0, np.nan, 4.0, 5.0, 7.0]}, index=idx)
    weights = pd.DataFrame({"v": [1.0, 1.0, 5.0, 1.0, 0.0, 0.0]}, index=idx)
    out = carry_to_lsoa21(values, weights, hand_lookup)
    assert out.loc["CD", "v"] == pytest.approx(4.0)  # the blank parent drops out
    # zero weights everywhere: plain mean of the parents
    assert out.loc["X2", "v"] == pytest.approx(6.0)


def test_chg006_carry_over_rejects_unknown_change_code():
    lookup = pd.DataFrame({"lsoa11_code": ["A"], "lsoa21_code": ["A"], "change_code": ["Q"]})
    values = pd.DataFrame({"v": [1.0]}, index=pd.Index(["A"], name="lsoa11_code"))
    with pytest.raises(ProfilerError, match="change_code 'Q'"):
        carry_to_lsoa21(values, values, lookup)


def test_chg007_same_months_picks_january_and_february():
    before, after = same_calendar_months(POLICE_WINDOWS["2018_19"], POLICE_WINDOWS["2024"])
    assert before == ("2019-01", "2019-02")
    assert after == ("2024-01", "2024-02")
    with pytest.raises(ProfilerError, match="no calendar month"):
        same_calendar_months(("2018-10",), ("2024-01",))


def test_chg008_comparison_spec_keeps_shared_indicators_and_weights():
    spec = make_spec(3, weights=[2.0, 1.0, 3.0])
    with pytest.raises(ProfilerError, match="no indicator the two editions share"):
        comparison_spec(spec)
    shared = list(SHARED_INDICATORS)[:2]
    from dataclasses import replace

    renamed = replace(spec, indicators=(
        replace(spec.indicators[0], id=shared[0]), spec.indicators[1],
        replace(spec.indicators[2], id=shared[1])))
    sub = comparison_spec(renamed)
    assert sub.ids == tuple(shared)
    assert [i.weight for i in sub.indicators] == [2.0, 3.0]
    assert sub.profile == spec.profile


@pytest.fixture
def two_pieces():
    # 2011 LSOA P split into Q1 (west) and Q2 (east); R unchanged to its east.
    return gpd.GeoDataFrame(
        {"lsoa21_code": ["Q1", "Q2", "R"]},
        geometry=[box(-1.60, 52.30, -1.55, 52.35), box(-1.55, 52.30, -1.50, 52.35),
                  box(-1.50, 52.30, -1.45, 52.35)],
        crs=4326,
    )


LOOKUP = pd.DataFrame({"lsoa11_code": ["P", "P", "R"], "lsoa21_code": ["Q1", "Q2", "R"]})


def test_chg009_locate_split_records_by_point_in_polygon(two_pieces):
    records = pd.DataFrame({
        "lsoa_code": ["P", "P", "P", "R", "Z", None],
        "longitude": [-1.58, -1.52, -1.52, -1.58, -1.58, -1.58],
        # the third point lies just north of Q2, outside every piece: nearest piece
        "latitude": [52.32, 52.32, 52.3501, 52.32, 52.32, 52.32],
    })
    located = locate_records(records, "2011", LOOKUP, two_pieces)
    # R keeps its own code even though its point lies in Q1: police.uk's assignment wins.
    assert located.tolist()[:4] == ["Q1", "Q2", "Q2", "R"]
    assert located.iloc[4:].isna().all()
    in_2021 = locate_records(records.assign(lsoa_code=["Q1", "Q2", "R", "R", "Z", None]),
                             "2021", LOOKUP, two_pieces)
    assert in_2021.tolist()[:4] == ["Q1", "Q2", "R", "R"] and in_2021.iloc[4:].isna().all()
    with pytest.raises(ProfilerError, match="vintage"):
        locate_records(records, "2001", LOOKUP, two_pieces)


def _write_month(folder, month, rows):
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
              "LSOA name,Crime type,Last outcome category,Context\n")
    lines = [f"x,{month},W,W,{lon},{lat},On or near X,{code},n,{crime},,\n"
             for code, lon, lat, crime in rows]
    with gzip.open(folder / f"{month}-warwickshire-street.csv.gz", "wt") as fh:
        fh.write(header + "".join(lines))


def test_chg010_police_change_counts_same_months_and_flags_small_numbers(tmp_path, two_pieces):
    folder = tmp_path / "sources" / "police_uk"
    folder.mkdir(parents=True)
    vso, pow_ = "Violence and sexual offences", "Possession of weapons"
    months = {m: [] for m in (*POLICE_WINDOWS["2018_19"], *POLICE_WINDOWS["2024"])}
    months["2018-10"] = [("R", -1.47, 52.32, vso)] * 10  # outside the like-for-like months
    months["2019-01"] = [("R", -1.47, 52.32, vso)] * 6 + [("P", -1.58, 52.32, pow_)] * 2
    months["2019-02"] = [("P", -1.52, 52.32, vso)] * 2
    months["2024-01"] = [("R", -1.47, 52.32, vso)] * 7 + [("Q1", -1.58, 52.32, pow_)] * 4
    months["2024-03"] = [("Q2", -1.52, 52.32, vso)] * 8
    for month, rows in months.items():
        _write_month(folder, month, rows)
    out = police_change(tmp_path, LOOKUP, two_pieces)
    assert list(out.index) == ["Q1", "Q2", "R"]
    t = "violence_and_sexual_offences"
    assert out.loc["R", f"{t}_same_months_2018_19"] == 6
    assert out.loc["R", f"{t}_same_months_2024"] == 7
    assert out.loc["R", f"{t}_same_months_change"] == 1
    assert out.loc["R", f"{t}_same_months_pct_change"] == pytest.approx(100 / 6)
    assert out.loc["R", f"{t}_per_month_2018_19"] == pytest.approx(16 / 5)
    assert out.loc["R", f"{t}_per_month_2024"] == pytest.approx(7 / 4)
    assert out.loc["R", f"{t}_per_month_change"] == pytest.approx(7 / 4 - 16 / 5)
    assert out.loc["Q2", f"{t}_same_months_2018_19"] == 2  # located in the east piece
    assert np.isnan(out.loc["Q2", f"{t}_same_months_pct_change"])  # base under 5
    assert bool(out.loc["Q2", f"{t}_small_numbers"])
    assert not bool(out.loc["R", f"{t}_small_numbers"])
    w = "possession_of_weapons"
    assert out.loc["Q1", f"{w}_same_months_2018_19"] == 2
    assert out.loc["Q1", f"{w}_same_months_2024"] == 4
    assert out[f"{w}_same_months_pct_change"].isna().all()
    assert (out["robbery_same_months_2024"] == 0).all()


def test_chg011_change_module_stays_pure():
    code = ("import sys, profiler.change; "
            "bad = [m for m in sys.modules if m == 'dash' or m.startswith(('dash.', 'dash_'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603


@settings(max_examples=40, deadline=None)
@given(
    constant=st.floats(-1e6, 1e6, allow_nan=False),
    weights=st.lists(st.floats(0, 1e4, allow_nan=False), min_size=6, max_size=6),
    households=st.lists(st.integers(0, 1000), min_size=6, max_size=6),
)
def test_chg012_carrying_a_constant_gives_the_constant(constant, weights, households):
    lookup = pd.DataFrame(
        [("A", "A", "U"), ("B", "B1", "S"), ("B", "B2", "S"), ("C", "CD", "M"),
         ("D", "CD", "M"), ("E", "X1", "X"), ("E", "X2", "X"), ("F", "X2", "X")],
        columns=["lsoa11_code", "lsoa21_code", "change_code"],
    )
    idx = pd.Index(list("ABCDEF"), name="lsoa11_code")
    values = pd.DataFrame({"v": [constant] * 6}, index=idx)
    out = carry_to_lsoa21(values, pd.DataFrame({"v": weights}, index=idx), lookup,
                          pd.Series(households, index=["A", "B1", "B2", "CD", "X1", "X2"]))
    np.testing.assert_allclose(out["v"], constant, rtol=1e-12, atol=1e-9)


def test_chg013_shuffling_areas_permutes_the_comparison():
    spec = make_spec(4)
    before = _values(random_table(120, 4, seed=5))
    after = _values(random_table(120, 4, seed=6)).set_axis(before.index)
    out = score_editions(before, before, after, spec)
    order = np.random.default_rng(7).permutation(len(before))
    shuffled = score_editions(before, before.iloc[order], after.iloc[order], spec)
    pd.testing.assert_frame_equal(shuffled.sort_index(), out.sort_index())
