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


def test_ovv002_group_lists_and_group_export_follow_the_what_if_weights(overview):
    import base64

    from dashboard import quadrants as quad
    from dashboard.state import current
    from profiler.export import read_export_csv

    state = current()
    causal = next(i.id for i in state.spec.indicators if "causal" in i.themes)
    weights = [w * (6.0 if k == causal else 1.0) for k, w in state.spec.weights.items()]
    prof = state.spec.profile
    lists = overview.update_quadrant_groups(weights, prof.normalisation, prof.banding)
    _, pairs, result, _, _ = overview._result(weights, prof.normalisation, prof.banding)
    groups = quad.frame(state, result, state.spec.with_weights(dict(pairs)))
    default = quad.frame(state, state.county)
    assert (groups["group"] != default["group"]).any()  # the weights move some LSOAs

    def members(details):
        return {r["id"] for r in details.children[-1].children[1].data}

    for g, details in enumerate(lists):
        assert members(details) == set(quad.group_codes(groups, g))
    payload = overview._export("csv", weights, prof.normalisation, prof.banding, None, None,
                               None, None, group=1)
    meta, frame = read_export_csv(base64.b64decode(payload["content"]))
    assert set(frame["LSOA code"]) == set(quad.group_codes(groups, 1))
    assert meta["risk_vs_recorded_violence_group"] == quad.QUADRANTS[1]
