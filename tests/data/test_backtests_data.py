"""The shipped backtest summary agrees with a fresh run (point estimates; intervals need draws)."""

from __future__ import annotations

from pathlib import Path

import pytest

from profiler.backtest import parse_months
from profiler.backtest_data import SHIPPED_BACKTESTS, load_backtests, run_backtest
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SPEC = DATA / "indicators" / "spec.toml"


@pytest.fixture(scope="module")
def shipped():
    return load_backtests(DATA)


def test_btdata001_one_record_per_shipped_backtest_for_the_default_spec(shipped):
    assert [r["id"] for r in shipped["backtests"]] == [c["id"] for c in SHIPPED_BACKTESTS]
    assert shipped["spec_sha256"] == load_spec(SPEC).sha256, (
        "data/indicators/backtests.json is for another spec: run `python -m profiler backtest "
        "--suite --compare data/indicators/spec_iod_only.toml --json "
        "data/indicators/backtests.json`")


@pytest.mark.parametrize("case", SHIPPED_BACKTESTS, ids=lambda c: c["id"])
def test_btdata002_point_estimates_match_a_fresh_run(shipped, case):
    result, _ = run_backtest(DATA, DATA / "indicators" / "lsoa21_indicators.csv", SPEC,
                             area=case["area"], fit_before=case["fit_before"],
                             test=parse_months(case["test"]),
                             observed=parse_months(case["observed"]),
                             compare=[DATA / "indicators" / "spec_iod_only.toml"], n_boot=0)
    record = next(r for r in shipped["backtests"] if r["id"] == case["id"])
    fresh = result.table.set_index(["ranking", "set"])
    assert record["n_incidents"] == result.n_incidents
    for row in record["rows"]:
        for metric in ("hit_rate", "pei", "spearman"):
            assert row[metric] == pytest.approx(fresh.loc[(row["ranking"], row["set"]), metric],
                                                abs=1e-4), (case["id"], row["ranking"], metric)
    # The done-when targets, as shipped: recorded honestly, whichever way they fall.
    prof = fresh.loc[("profile", "top 10%")]
    prev = fresh.loc[("previous period counts", "top 10%")]
    assert record["targets_met"]["top10_vs_previous_counts"] == bool(
        prof["hit_rate"] >= prev["hit_rate"])


def test_btdata003_selection_splits_lie_inside_their_backtests_fit_windows(tmp_path):
    from profiler.backtest import check_windows
    from profiler.backtest_data import SELECTION_SPLITS, load_suite
    from profiler.errors import ProfilerError

    backtests = {c["id"]: c for c in SHIPPED_BACKTESTS}
    assert SELECTION_SPLITS, "data/indicators/backtest_suite.toml declares no [[selection]]"
    for split in SELECTION_SPLITS:
        check_windows(split["fit_before"], parse_months(split["test"]),
                      parse_months(split["observed"]))
        case = backtests[split["inside"]]
        assert split["area"] == case["area"]
        months = parse_months(split["test"]) + parse_months(split["observed"])
        assert max(months) < case["fit_before"], (split["id"], "sees the test window")
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "backtest_suite.toml").write_text('[[backtest]]\nid = "x"\n')
    with pytest.raises(ProfilerError, match=r"\[\[backtest\]\] 'x' lacks area"):
        load_suite(tmp_path)
