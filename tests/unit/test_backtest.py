"""Backtest metrics: hit rate, PAI, PEI*, resident index, ties, bootstrap, windows, flat_within."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth import make_spec, random_table

from profiler.backtest import (
    backtest,
    best_hits,
    check_windows,
    flat_within,
    inclusion_weights,
    parse_months,
    profile_backtest,
    set_metrics,
    spearman,
    to_markdown,
)
from profiler.errors import ProfilerError

# A hand-worked example: five areas.
#   area      A    B    C    D    E
#   score     5    4    3    2    1
#   later     10   0    6    3    1     (20 incidents)
#   land km2  1    2    1    4    2     (10 km2)
#   residents 100  200  100  100  500   (1,000)
# Top 2 (40% of LSOAs) = A, B: 10 incidents -> hit rate 0.5; land share 3/10 -> PAI 5/3;
# best two areas A, C hold 16 -> PEI* 10/16 = 0.625; resident index (10/300) / (20/1000) = 5/3.
SCORE = np.array([5.0, 4, 3, 2, 1])
LATER = np.array([10.0, 0, 6, 3, 1])
AREA = np.array([1.0, 2, 1, 4, 2])
RESIDENTS = np.array([100.0, 200, 100, 100, 500])


def test_bt001_hand_worked_top2():
    m = set_metrics(SCORE, LATER, 2, AREA, RESIDENTS)
    assert m["hit_rate"] == pytest.approx(0.5)
    assert m["pai"] == pytest.approx(0.5 / 0.3)
    assert m["pei"] == pytest.approx(10 / 16)
    assert m["resident_index"] == pytest.approx((10 / 300) / (20 / 1000))


def test_bt002_pai_without_area_uses_share_of_lsoas():
    m = set_metrics(SCORE, LATER, 2)
    assert m["pai"] == pytest.approx(0.5 / 0.4)
    assert np.isnan(m["resident_index"])
    assert backtest({"s": SCORE}, LATER, n_boot=0).pai_basis == "share of LSOAs"
    assert backtest({"s": SCORE}, LATER, area=AREA, n_boot=0).pai_basis == "land area"


def test_bt003_fractional_cut_and_ties_share_the_last_place():
    # Top 2.5 of the example: A, B in full and half of C: (10 + 0 + 3) / 20.
    assert set_metrics(SCORE, LATER, 2.5)["hit_rate"] == pytest.approx(13 / 20)
    # B and C tied at the cut of the top 2: each is half in, whichever order they come in.
    tied = np.array([5.0, 3, 3, 2, 1])
    w = inclusion_weights(tied, 2)
    assert w.tolist() == [1.0, 0.5, 0.5, 0.0, 0.0]
    assert set_metrics(tied, LATER, 2)["hit_rate"] == pytest.approx((10 + 3) / 20)
    assert best_hits(LATER, 2) == pytest.approx(16)


def test_bt004_constant_ranking_is_the_random_expectation():
    m = set_metrics(np.zeros(5), LATER, 2, AREA, RESIDENTS)
    assert m["hit_rate"] == pytest.approx(0.4)
    assert m["pai"] == pytest.approx(1.0)
    assert m["resident_index"] == pytest.approx(1.0)
    assert spearman(np.zeros(5), LATER) == 0.0


counts_st = st.lists(st.integers(0, 30), min_size=3, max_size=40).filter(lambda c: sum(c) > 0)


@settings(max_examples=60, deadline=None)
@given(counts_st, st.floats(0.05, 1.0))
def test_bt005_perfect_ranking_scores_the_ceiling(counts, share):
    y = np.array(counts, dtype=float)
    k = share * y.size
    m = set_metrics(y, y, k)
    assert m["pei"] == pytest.approx(1.0)
    assert m["hit_rate"] == pytest.approx(best_hits(y, k) / y.sum())


@settings(max_examples=60, deadline=None)
@given(counts_st, st.floats(0.05, 1.0))
def test_bt006_reversed_ranking_scores_the_floor(counts, share):
    y = np.array(counts, dtype=float)
    k = share * y.size
    floor = -best_hits(-y, k) / y.sum()  # the k smallest counts
    m = set_metrics(-y, y, k)
    assert m["hit_rate"] == pytest.approx(floor, abs=1e-12)
    # Any ranking lies between floor and ceiling.
    rng = np.random.default_rng(len(counts))
    other = set_metrics(rng.normal(size=y.size), y, k)["hit_rate"]
    assert floor - 1e-12 <= other <= best_hits(y, k) / y.sum() + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=3, max_size=30), counts_st, st.floats(0.05, 1.0))
def test_bt007_ties_never_favour_a_ranking(scores, counts, share):
    n = min(len(scores), len(counts))
    s, y = np.array(scores[:n], dtype=float), np.array(counts[:n], dtype=float)
    if y.sum() == 0:
        return
    k = share * n
    w = inclusion_weights(s, k)
    assert w.sum() == pytest.approx(k)
    # Tied areas always get the same inclusion.
    for v in np.unique(s):
        assert np.ptp(w[s == v]) == 0
    # The hit rate is the mean over every order of the tied areas (checked by breaking ties
    # both ways: the result lies between them and is their average when one group is cut).
    lo = set_metrics(s + 1e-9 * np.argsort(np.argsort(y)), y, k)["hit_rate"]
    hi = set_metrics(s - 1e-9 * np.argsort(np.argsort(y)), y, k)["hit_rate"]
    mid = set_metrics(s, y, k)["hit_rate"]
    assert min(lo, hi) - 1e-12 <= mid <= max(lo, hi) + 1e-12


@settings(max_examples=25, deadline=None)
@given(counts_st, st.randoms(use_true_random=False))
def test_bt008_permuting_rows_changes_nothing(counts, rnd):
    y = np.array(counts, dtype=float)
    rng = np.random.default_rng(7)
    s = rng.normal(size=y.size).round(1)
    pop = rng.integers(50, 500, y.size).astype(float)
    perm = np.array(rnd.sample(range(y.size), y.size))
    a = backtest({"s": s}, y, residents=pop, high_count=1, n_boot=0).table
    b = backtest({"s": s[perm]}, y[perm], residents=pop[perm], high_count=1, n_boot=0).table
    cols = ["hit_rate", "pai", "pei", "resident_index", "spearman"]
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), equal_nan=True)


def test_bt009_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    y = rng.poisson(rng.gamma(1.0, 5.0, 150)).astype(float)
    s = y + rng.normal(0, 3, 150)
    r1 = backtest({"s": s, "ceiling": y}, y, high_count=20, n_boot=200, seed=5)
    r2 = backtest({"s": s, "ceiling": y}, y, high_count=20, n_boot=200, seed=5)
    pd.testing.assert_frame_equal(r1.table, r2.table)
    t = r1.table
    assert set(t["set"]) == {"top 5%", "top 10%", "top 20%", "High+"}
    assert (t["hit_rate_lo"] <= t["hit_rate"] + 1e-9).all()
    assert (t["hit_rate"] <= t["hit_rate_hi"] + 1e-9).all()
    assert (t.loc[t["ranking"] == "ceiling", "pei_lo"] == 1.0).all()
    d, lo, hi = r1.difference("s", "s")
    assert (d, lo, hi) == (0.0, 0.0, 0.0)
    d, lo, hi = r1.difference("ceiling", "s", "pei", "High+")
    assert d > 0 and lo <= d <= hi
    with pytest.raises(ProfilerError, match="no row for ranking 'nope'"):
        r1.difference("nope", "s")
    md = to_markdown(r1, "x")
    assert md.startswith("### x") and "| s | top 10% | 15.0 |" in md


def test_bt010_errors_name_the_input_and_fix():
    with pytest.raises(ProfilerError, match="has 3 values for 5 areas"):
        backtest({"s": [1, 2, 3]}, LATER)
    with pytest.raises(ProfilerError, match="blank or infinite"):
        backtest({"s": [1, np.nan, 3, 4, 5]}, LATER)
    with pytest.raises(ProfilerError, match="non-negative"):
        backtest({"s": SCORE}, -LATER)
    with pytest.raises(ProfilerError, match="0 <= k <= n"):
        inclusion_weights(SCORE, 6)


def test_bt011_months_and_windows():
    assert parse_months("2023-11..2024-02") == ("2023-11", "2023-12", "2024-01", "2024-02")
    assert parse_months("2024-03,2024-01") == ("2024-01", "2024-03")
    with pytest.raises(ProfilerError, match="not a month; write YYYY-MM"):
        parse_months("2024-13")
    check_windows("2024-03", ["2024-03", "2024-04"], ["2024-01", "2024-02"])
    with pytest.raises(ProfilerError, match="observed month.*2024-03.*not before"):
        check_windows("2024-03", ["2024-03"], ["2024-02", "2024-03"])
    with pytest.raises(ProfilerError, match="test month.*2024-02.*before --fit-before"):
        check_windows("2024-03", ["2024-02", "2024-03"])


def _incidents(codes, counts_by_month):
    rows = []
    for month, counts in counts_by_month.items():
        for code, c in zip(codes, counts, strict=True):
            rows += [{"month": month, "crime_type": "Robbery", "lsoa21_code": code}] * int(c)
    return pd.DataFrame(rows)


def test_bt012_profile_backtest_uses_only_the_observed_months():
    table = random_table(60, 4, seed=2)
    codes = table["lsoa21_code"].tolist()
    rng = np.random.default_rng(0)
    rate = rng.gamma(1.0, 3.0, 60)
    incidents = _incidents(codes, {m: rng.poisson(rate) for m in ("2024-01", "2024-02",
                                                                  "2024-03")})
    from profiler.spec import parse_spec

    raw = make_spec(4).to_dict()
    raw["indicator"].append({**raw["indicator"][0], "id": "obs", "column": "observed_sv_count",
                             "weight": 5.0})
    spec = parse_spec(raw)
    pop = pd.Series(1500.0, index=codes)
    kw = dict(residents=pop, n_boot=0, scope="E10000031")
    r = profile_backtest(table, spec, incidents, fit_before="2024-03", test_months=["2024-03"],
                         observed_months=["2024-01", "2024-02"], **kw)
    names = r.table["ranking"].unique().tolist()
    assert names[0] == "profile" and "previous period counts" in names
    assert r.n_incidents == int((incidents["month"] == "2024-03").sum())
    # Changing the test month's incidents leaves the fitted profile's ranking alone.
    later = incidents[incidents["month"] != "2024-03"]
    shuffled = pd.concat([later, incidents[incidents["month"] == "2024-03"].assign(
        lsoa21_code=rng.permutation(incidents.loc[incidents["month"] == "2024-03",
                                                  "lsoa21_code"].to_numpy()))])
    r2 = profile_backtest(table, spec, shuffled, fit_before="2024-03",
                          test_months=["2024-03"], observed_months=["2024-01", "2024-02"], **kw)
    top = r.table.query("ranking == 'profile' and set == 'High+'")["k"].item()
    assert r2.table.query("ranking == 'profile' and set == 'High+'")["k"].item() == top
    with pytest.raises(ProfilerError, match="cover 1 of 2 districts.*narrow --area"):
        one = incidents[incidents["lsoa21_code"].map(
            table.set_index("lsoa21_code")["lad24_code"]) == "E07000219"]
        profile_backtest(table, spec, one, fit_before="2024-03", test_months=["2024-03"],
                         observed_months=["2024-01", "2024-02"], **kw)
    with pytest.raises(ProfilerError, match="no --observed months"):
        profile_backtest(table, spec, incidents, fit_before="2024-03", test_months=["2024-03"],
                         **kw)


def test_bt013b_covariate_eb_columns_use_the_iod_indicators_and_observed_months_only():
    from profiler.backtest import add_observed_columns
    from profiler.build import INDICATOR_COLUMNS
    from profiler.observed import observed_rate
    from profiler.spec import parse_spec

    table = random_table(50, 4, seed=5)
    rng = np.random.default_rng(5)
    for col in INDICATOR_COLUMNS:
        table[col] = rng.lognormal(size=50)
    codes = table["lsoa21_code"].tolist()
    incidents = _incidents(codes, {m: rng.poisson(2.0, 50) for m in ("2024-01", "2024-02")})
    raw = make_spec(4).to_dict()
    raw["indicator"].append({**raw["indicator"][0], "id": "obs", "column": "observed_sv_count_eb",
                             "weight": 5.0})
    spec = parse_spec(raw)
    pop = pd.Series(rng.integers(1000, 3000, 50).astype(float), index=codes)
    out = add_observed_columns(table, spec, incidents, ["2024-01"], pop)
    counts = (incidents[incidents["month"] == "2024-01"]["lsoa21_code"].value_counts()
              .reindex(codes, fill_value=0).to_numpy())
    expected = observed_rate(counts, pop.to_numpy(), "count_eb", months=1,
                             covariates=table[list(INDICATOR_COLUMNS)].to_numpy())
    np.testing.assert_allclose(out["observed_sv_count_eb"].to_numpy(), expected)


def test_bt013_flat_within_finds_district_constants():
    table = random_table(40, 4, seed=4)
    table["c2"] = table["lad24_code"].map({"E07000219": 3.0, "E07000220": 7.0})
    out = flat_within(table, make_spec(4)).set_index("id")
    assert out.loc["i2", "flat"] and out.loc["i2", "groups_flat"] == 2
    assert out.loc["i2", "within_share"] == pytest.approx(0.0, abs=1e-12)
    assert not out.loc["i0", "flat"] and out.loc["i0", "within_share"] > 0.5
    with pytest.raises(ProfilerError, match="no column 'ward'"):
        flat_within(table, make_spec(4), by="ward")


DATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "data"


@pytest.mark.skipif(not (DATA / "sources" / "police_uk").exists(), reason="no shipped police.uk")
def test_bt014_cli_backtest_writes_table_json_and_lsoas(tmp_path, capsys):
    import json

    from profiler.__main__ import main

    out = tmp_path / "bt.csv"
    status = main(["backtest", "--fit-before", "2024-03", "--test", "2024-03..2024-04",
                   "--observed", "2024-01..2024-02", "--area", "E07000219", "--boot", "20",
                   "--data", str(DATA), "--spec", str(DATA / "indicators" / "spec.toml"),
                   "--indicators", str(DATA / "indicators" / "lsoa21_indicators.csv"),
                   "--compare", str(DATA / "indicators" / "spec_iod_only.toml"),
                   "--csv", str(out), "--json", str(tmp_path / "bt.json"),
                   "--lsoas", str(tmp_path / "lsoas.csv")])
    text = capsys.readouterr().out
    assert status == 0
    assert "| profile | top 10% |" in text and "Paired differences" in text
    table = pd.read_csv(out)
    assert {"profile", "compared: spec_iod_only.toml", "previous period counts", "IMD 2025",
            "ceiling (test counts)"} <= set(table["ranking"])
    meta = json.loads((tmp_path / "bt.json").read_text())
    assert meta["test_months"] == ["2024-03", "2024-04"] and meta["pai_basis"] == "land area"
    lsoas = pd.read_csv(tmp_path / "lsoas.csv")
    assert len(lsoas) == meta["n_areas"] and lsoas["quadrant"].notna().all()


def test_bt015_cli_refuses_a_window_that_sees_the_test(capsys):
    from profiler.__main__ import main

    status = main(["backtest", "--fit-before", "2024-03", "--test", "2024-03",
                   "--observed", "2024-02..2024-03"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "not before --fit-before 2024-03" in err
