"""Most similar districts (profiler.similar): method, determinism, shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiler.errors import ProfilerError
from profiler.similar import (
    K,
    district_profiles,
    high_share,
    iod_indicators,
    nearest_districts,
    similar_average,
    standardise,
)
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "data/indicators/lsoa21_indicators.csv"


@pytest.fixture(scope="module")
def spec():
    return load_spec(ROOT / "data/indicators/spec.toml")


def _toy(spec, lads):
    rows = []
    for code, level in lads.items():
        for j in range(3):
            rows.append({"lad24_code": code, "lad24_name": f"D {code}",
                         **{i.column: level + 0.01 * j * (k + 1)
                            for k, i in enumerate(spec.indicators)}})
    return pd.DataFrame(rows)


def test_sim001_nearest_on_the_standardised_profile(spec):
    table = _toy(spec, {"E07000001": 0.0, "E07000002": 1.0, "E07000003": 1.1,
                        "E07000004": 5.0, "E07000005": 0.8, "E07000006": 9.0,
                        "E07000007": 1.05})
    profiles = district_profiles(table, spec)
    z = standardise(profiles)
    assert np.allclose(z.mean(), 0) and np.allclose(z.std(ddof=0), 1)
    near = nearest_districts(profiles, "E07000002", k=3)
    assert list(near["lad24_code"]) == ["E07000007", "E07000003", "E07000005"]
    assert near["distance"].is_monotonic_increasing and "E07000002" not in set(near["lad24_code"])
    with pytest.raises(ProfilerError, match="not an English district"):
        nearest_districts(profiles, "E07999999")


def test_sim002_shares():
    result = pd.DataFrame({"lsoa21_code": list("abcdef"),
                           "lad24_code": ["x", "x", "y", "y", "y", "z"],
                           "band": ["High", "Low", "Very High", "High", "Medium", "Low"]})
    assert high_share(result) == (3, 6) and high_share(result, ["a", "b"]) == (1, 2)
    assert similar_average(result, ["x", "y"]) == pytest.approx((0.5 + 2 / 3) / 2)
    assert similar_average(result, ["nope"]) is None


@pytest.mark.skipif(not TABLE.exists(), reason="shipped indicator table not built")
def test_sim003_every_district_has_k_neighbours_from_the_shipped_table(spec):
    from profiler.table import load_indicator_table

    table = load_indicator_table(TABLE, spec)
    profiles = district_profiles(table, spec)
    assert len(profiles) == table["lad24_code"].nunique()
    # the IoD domain profile only: police.uk or partner measures are not in every area
    used = set(profiles.columns) - {"lad24_name"}
    assert used == {i.id for i in iod_indicators(spec)} and used
    assert not profiles[list(used)].isna().any().any()
    code = table["lad24_code"].iloc[0]
    near = nearest_districts(profiles, code)
    assert len(near) == K and near["lad24_code"].is_unique and code not in set(near["lad24_code"])
    assert list(nearest_districts(profiles, code)["lad24_code"]) == list(near["lad24_code"])
