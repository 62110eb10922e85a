"""profiler.derived reproduces the shipped Warwickshire tables (hot spots, stability, change)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shipped import WARWICKSHIRE

from profiler import derived
from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
INDICATORS = DATA / "indicators"


@pytest.fixture(scope="module")
def spec():
    return load_spec(INDICATORS / "spec.toml")


@pytest.fixture(scope="module")
def table(spec):
    return load_indicator_table(INDICATORS / "lsoa21_indicators.csv", spec)


@pytest.fixture(scope="module")
def codes(table):
    return table.loc[table["utla_code"] == WARWICKSHIRE, "lsoa21_code"].tolist()


def _csv(frame: pd.DataFrame) -> str:
    """The shipped tables' format (python -m profiler hotspots/stability/change)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.6g", lineterminator="\n")
    return buf.getvalue()


def test_drvdata001_hotspots_equal_the_shipped_table(table, spec):
    county = score_scope(table, spec, scope="warwickshire")
    fresh = derived.area_hotspots(county, DATA)
    assert fresh.attrs["boundaries"] == "warwickshire_lsoa21.gpkg"
    shipped_path = INDICATORS / "hotspots_warwickshire.csv"
    if _csv(fresh) == shipped_path.read_text():
        return
    # Another CPU may round the last digit of a p-value differently; classes must not move.
    shipped = pd.read_csv(shipped_path)
    assert list(fresh.columns) == list(shipped.columns)
    assert fresh["lsoa21_code"].tolist() == shipped["lsoa21_code"].tolist()
    for prefix in derived.HOTSPOT_COLUMNS:
        assert fresh[f"{prefix}_hotspot"].tolist() == shipped[f"{prefix}_hotspot"].tolist()
        np.testing.assert_allclose(fresh[f"{prefix}_gi_z"], shipped[f"{prefix}_gi_z"],
                                   atol=1e-4)
        np.testing.assert_allclose(fresh[f"{prefix}_p"], shipped[f"{prefix}_p"], rtol=1e-5)


def test_drvdata002_stability_equals_the_shipped_table(table, spec, codes):
    fresh = derived.area_stability(table, spec, codes)
    shipped_path = INDICATORS / "stability_warwickshire.csv"
    if _csv(fresh) == shipped_path.read_text():
        return
    # As test_prf012: a few draws may band differently on another CPU (rounding at a cut).
    shipped = pd.read_csv(shipped_path)
    assert list(fresh.columns) == list(shipped.columns)
    assert fresh["lsoa21_code"].tolist() == shipped["lsoa21_code"].tolist()
    np.testing.assert_allclose(fresh["p_high"], shipped["p_high"], atol=0.01)


def test_drvdata003_change_equals_the_shipped_table(table, spec, codes):
    fresh = derived.area_change(DATA, spec, table, codes)
    assert fresh.attrs["police_uk"] == "all" and fresh.attrs["police_uk_lsoas"] == 354
    assert _csv(fresh) == (INDICATORS / "change_warwickshire.csv").read_text(), (
        "derived.area_change no longer reproduces data/indicators/change_warwickshire.csv"
    )


def test_drvdata004_order_and_duplicates_of_the_codes_do_not_matter(table, spec, codes):
    shuffled = list(reversed(codes)) + codes[:5]
    a = derived.area_change(DATA, spec, table, codes)
    b = derived.area_change(DATA, spec, table, shuffled)
    pd.testing.assert_frame_equal(a, b)
