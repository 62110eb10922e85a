"""Contracts on the shipped change-over-time table (``python -m profiler change``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shipped import WARWICKSHIRE

from profiler.__main__ import main
from profiler.build import slug
from profiler.change import (
    DROPPED_INDICATORS,
    POLICE_TYPES,
    SHARED_INDICATORS,
    SMALL_COUNT,
    comparison_spec,
    load_change_table,
    run_change,
)
from profiler.engine import BANDS
from profiler.errors import ProfilerError
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CHANGE = DATA / "indicators" / "change_warwickshire.csv"
SPEC = DATA / "indicators" / "spec.toml"


@pytest.fixture(scope="module")
def change():
    return pd.read_csv(CHANGE, dtype={"lsoa21_code": str, "lsoa11_codes": str})


def test_chgdata001_rebuild_is_byte_identical(tmp_path, capsys):
    out = tmp_path / "change.csv"
    status = main(["change", "--data", str(DATA), "--spec", str(SPEC), "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "354 LSOAs" in printed and "Total" in printed
    assert out.read_bytes() == CHANGE.read_bytes(), (
        "data/indicators/change_warwickshire.csv is stale: run `python -m profiler change`"
    )
    again = tmp_path / "again.csv"
    run_change(DATA, load_spec(SPEC), again)
    assert again.read_bytes() == out.read_bytes()


def test_chgdata002_one_row_per_warwickshire_2021_lsoa(change):
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv",
                        usecols=["lsoa21_code", "utla_code"])
    warks = sorted(table.loc[table["utla_code"] == WARWICKSHIRE, "lsoa21_code"])
    assert len(change) == 354
    assert change["lsoa21_code"].tolist() == warks  # 1:1, sorted
    assert change["lsoa21_code"].is_unique


def test_chgdata003_bands_complete_and_consistent(change):
    for col in ("band_2019", "band_2025"):
        assert change[col].notna().all()
        assert change[col].isin(BANDS).all()
    level = {b: i for i, b in enumerate(BANDS)}
    moved = change["band_2025"].map(level) - change["band_2019"].map(level)
    assert (moved == change["band_moved"]).all()
    expected = np.select([moved > 0, moved < 0], ["rose", "fell"], "same")
    assert (change["band_change"] == expected).all()
    assert (change["rank_change"] == change["rank_2019"] - change["rank_2025"]).all()
    assert change[["rank_2019", "rank_2025"]].min().tolist() == [1, 1]


def test_chgdata004_every_spec_indicator_is_compared_or_dropped_with_a_reason():
    spec = load_spec(SPEC)
    # The default spec and the previous one (IoD2025 only, with overcrowding and homelessness).
    other = load_spec(SPEC.parent / "spec_iod_only.toml")
    assert set(spec.ids) | set(other.ids) <= set(SHARED_INDICATORS) | set(DROPPED_INDICATORS)
    assert not set(SHARED_INDICATORS) & set(DROPPED_INDICATORS)
    assert all(reason.strip() for reason in DROPPED_INDICATORS.values())
    assert all(shared.caveat.strip() for shared in SHARED_INDICATORS.values())
    sub = comparison_spec(spec)
    assert sub.weights == {i: spec.weights[i] for i in sub.ids}


def test_chgdata005_carry_over_from_2011(change):
    # Warwickshire: 328 unchanged 2011 LSOAs, 11 split into 26; no merges or complex changes.
    assert change["carried_from_2011"].value_counts().to_dict() == {"U": 328, "S": 26}
    unchanged = change[change["carried_from_2011"] == "U"]
    assert (unchanged["lsoa11_codes"] == unchanged["lsoa21_code"]).all()
    split = change[change["carried_from_2011"] == "S"]
    assert split["lsoa11_codes"].nunique() == 11
    # Pieces of a split area inherit the whole area's 2019 figures, score and band.
    shared = comparison_spec(load_spec(SPEC)).ids
    cols = [f"{i}_2019" for i in shared] + ["score_2019", "band_2019"]
    assert (split.groupby("lsoa11_codes")[cols].nunique() == 1).all().all()
    assert change[cols + [f"{i}_2025" for i in shared]].notna().all().all()


def test_chgdata006_police_counts_and_small_numbers(change):
    for crime in POLICE_TYPES:
        t = slug(crime)
        before, after = change[f"{t}_same_months_2018_19"], change[f"{t}_same_months_2024"]
        assert (before >= 0).all() and (after >= 0).all()
        assert (change[f"{t}_same_months_change"] == after - before).all()
        pct = change[f"{t}_same_months_pct_change"]
        assert pct[before < SMALL_COUNT].isna().all()
        assert pct[before >= SMALL_COUNT].notna().all()
        small = (before < SMALL_COUNT) | (after < SMALL_COUNT)
        assert (change[f"{t}_small_numbers"] == small).all()
        # Jan-Feb is part of each whole window.
        assert (change[f"{t}_per_month_2018_19"] * 5 >= before - 1e-9).all()
        assert (change[f"{t}_per_month_2024"] * 4 >= after - 1e-9).all()
    # Most Warwickshire violence is placed: Jan-Feb 2024 had about 2,600 records in the county.
    assert change["violence_and_sexual_offences_same_months_2024"].sum() > 2000


def test_chgdata007_loader_reads_the_shipped_table_and_rejects_a_bad_band(tmp_path):
    df = load_change_table(CHANGE)
    assert len(df) == 354
    assert df["violence_and_sexual_offences_small_numbers"].dtype == bool
    bad = tmp_path / "bad.csv"
    bad.write_text(CHANGE.read_text().replace(",Medium,", ",Middling,", 1))
    with pytest.raises(ProfilerError, match="band_20"):
        load_change_table(bad)
    with pytest.raises(ProfilerError, match="python -m profiler change"):
        load_change_table(tmp_path / "absent.csv")
