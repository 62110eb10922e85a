"""The overview's view functions, called as its callbacks call them (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def overview():
    from app import create_app

    create_app(Settings(tiles_url="", data_dir=ROOT / "data"))  # pages register with an app
    from pages import overview

    return overview


def test_ovv001_stale_how_sure_is_not_shown_for_what_if_weights(overview):
    from dashboard.state import current

    state = current()
    weights = [w + (1.0 if i == 0 else 0.0) for i, w in enumerate(state.spec.weights.values())]
    _, pairs, result, norm, banding = overview._result(weights, "zscore", "stddev")
    args = (state, pairs, result, norm, banding, "overall", None, ["Very High", "High"], None,
            "off")
    shipped = overview.view_details(*args, stab=(state.stability, "spec"))[2]
    assert shipped and all(r["p_high"] is not None for r in shipped)
    stale = overview.view_details(*args, stab=(state.stability, "default"))[2]
    assert [r["lsoa21_code"] for r in stale] == [r["lsoa21_code"] for r in shipped]
    assert all(r["p_high"] is None for r in stale)  # another profile's P(High+) is not shown
