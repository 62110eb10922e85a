"""Issue 13: optional (police.uk) indicators renormalised, risk vs recorded violence, the backtest
on pages and in exports. Expected figures are derived from the data, never pasted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth import make_spec, random_table

from dashboard.settings import Settings
from profiler.engine import RiskProfiler
from profiler.errors import ProfilerError
from profiler.export import read_export_csv
from profiler.observed import QUADRANT_GROUPS, QUADRANTS, risk_factor_score, risk_vs_observed
from profiler.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]


def _optional(spec, index: int):
    inds = list(spec.indicators)
    inds[index] = dataclasses.replace(inds[index], requires="police_uk")
    return dataclasses.replace(spec, indicators=tuple(inds))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.lists(st.booleans(), min_size=60, max_size=60))
def test_quad101_blank_optional_values_renormalise_over_the_rest(seed, blank):
    """An LSOA without the optional value scores as the spec without it would; contributions
    still add up to the score; LSOAs with it score as before."""
    table = random_table(n=60, k=4, seed=seed)
    spec = _optional(make_spec(k=4, weights=[1.0, 2.0, 0.5, 3.0]), 3)
    holed = table.copy()
    holed.loc[np.array(blank), "c3"] = np.nan
    out = RiskProfiler(spec).fit(holed).transform(holed)
    without = dataclasses.replace(spec, indicators=spec.indicators[:3])
    ref = RiskProfiler(without).fit(holed).transform(holed)
    b = np.array(blank)
    assert np.allclose(out["score"][b], ref["score"][b])
    contrib = out[[f"i{j}_contribution" for j in range(4)]].sum(axis=1, min_count=1)
    assert np.allclose(contrib, out["score"])
    assert out.loc[b, "i3_band"].isna().all() and out.loc[b, "i3_norm"].isna().all()
    assert out["band"].notna().all()


def test_quad102_an_area_without_the_optional_data_is_scored_on_the_rest():
    table = random_table(n=50, k=3, seed=3)
    spec = _optional(make_spec(k=3), 2)
    none = table.assign(c2=np.nan)
    model = RiskProfiler(spec).fit(none)
    assert model.unavailable() == ["i2"]
    out = model.transform(none)
    rest = RiskProfiler(dataclasses.replace(spec, indicators=spec.indicators[:2])).fit(none)
    assert np.allclose(out["score"], rest.transform(none)["score"])
    # a required indicator still refuses blanks, naming the column and the fix
    with pytest.raises(ProfilerError, match="column c1.*missing = \"median\""):
        RiskProfiler(spec).fit(table.assign(c1=np.nan))


def test_quad103_spec_requires_is_checked():
    doc = {k: "x" for k in ("label", "unit", "source", "period", "licence", "rationale")}
    base = {"id": "a", "column": "a", "direction": "higher_is_riskier", "weight": 1.0,
            "themes": ["knife"], **doc}
    assert parse_spec({"indicator": [{**base, "requires": "police_uk"}]}).indicators[0].optional
    with pytest.raises(ProfilerError, match="requires.*police_uk"):
        parse_spec({"indicator": [{**base, "requires": "satellite"}]}, source="s.toml")


def test_quad104_groups_declared_once_with_meaning_and_colour():
    assert len(QUADRANT_GROUPS) == 4 and QUADRANTS == tuple(g.name for g in QUADRANT_GROUPS)
    assert len({g.colour for g in QUADRANT_GROUPS}) == 4
    assert all(g.meaning.strip() and g.colour.startswith("#") for g in QUADRANT_GROUPS)


@pytest.fixture(scope="module")
def state():
    from dashboard.state import load_state

    return load_state(Settings(tiles_url="", data_dir=ROOT / "data"))


def test_quad105_risk_vs_observed_cuts_top_fifths_of_the_area(state):
    county = state.county
    rates = state.county_table.set_index("lsoa21_code")["observed_sv_eb_per_1000"]
    quad = risk_vs_observed(county, state.spec, rates)
    risk = risk_factor_score(county, state.spec)
    high_risk = risk >= np.quantile(risk, 0.8)
    high_obs = quad["observed_rate"].to_numpy() >= np.quantile(quad["observed_rate"], 0.8)
    expect = np.where(high_risk, np.where(high_obs, 0, 1), np.where(high_obs, 2, 3))
    assert (quad["group"].to_numpy() == expect).all()
    # the risk axis is the causal indicators only: crime and observed weights do not move it
    heavier = state.spec.with_weights({"violence_with_injury": 9.0})
    assert np.allclose(risk_factor_score(county, heavier), risk)


def test_quad106_area_without_police_data_has_no_groups(state):
    from dashboard import quadrants as quad
    from dashboard.state import current

    worcs = current("E10000034")
    groups = quad.frame(worcs, worcs.county)
    assert not quad.has_police(groups) and (groups["group"] == -1).all()
    assert groups["risk_score"].notna().all()
    assert "No police.uk months" in quad.legend_note(worcs, groups)
    fig = quad.figure(worcs, groups)
    assert len(fig["data"]) == 1 and len(fig["data"][0]["x"]) == len(worcs.county)


def test_quad107_chart_picks_become_groups():
    from dashboard.quadrants import groups_from_chart

    assert groups_from_chart(None, {"points": [{"curveNumber": 2}, {"curveNumber": 2}]},
                             None) == [2]
    # a legend double-click isolates trace 1; a later click shows trace 3 too
    isolate = [{"visible": ["legendonly", True, "legendonly", "legendonly"]}, [0, 1, 2, 3]]
    assert groups_from_chart(isolate, None, None) == [1]
    assert groups_from_chart([{"visible": [True]}, [3]], None, [1]) == [1, 3]
    assert groups_from_chart([{"visible": [True]}, [0]], None, [1, 2, 3]) is None


def test_quad108_group_export_and_backtest_metadata(state):
    from dashboard import quadrants as quad
    from dashboard.components import export_download
    from profiler.engine import BANDS

    prof = state.spec.profile
    district = next(iter(state.subareas))
    payload = export_download(state, state.county, "csv", BANDS, district,
                              tuple(state.spec.weights.items()), prof.normalisation,
                              prof.banding, group=1)
    import base64

    meta, frame = read_export_csv(base64.b64decode(payload["content"]))
    groups = quad.frame(state, state.county)
    inside = state.in_subarea(groups["lsoa21_code"], district)
    want = set(groups.loc[inside & (groups["group"] == 1).to_numpy(), "lsoa21_code"])
    assert want and set(frame["LSOA code"]) == want
    assert meta["risk_vs_recorded_violence_group"] == QUADRANTS[1]
    backtest = [k for k in meta if k.startswith("backtest")]
    assert backtest and all("later incidents" in meta[k] for k in backtest)


def test_quad109_district_page_and_methodology_show_the_backtest(state):
    from dashboard import backtests
    from dashboard.state import current

    text = backtests.section(state)
    assert "How well does this profile find where violence happens?" in text
    for record in backtests.area_record(state):
        assert record["label"] in text
    worcs = current("E10000034")
    assert "No backtest for this area" in backtests.section(worcs)
    assert backtests.export_lines(worcs)["backtest"].startswith("No backtest")


def test_quad110_panel_says_when_police_data_is_absent(state):
    from dashboard.components import lsoa_panel
    from dashboard.state import current

    def text(node) -> str:
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list | tuple):
            return " ".join(text(n) for n in node)
        return text(getattr(node, "children", None) or "")

    worcs = current("E10000034")
    code = worcs.county["lsoa21_code"].iloc[0]
    panel = text(lsoa_panel(worcs, worcs.county, code))
    n_left = sum(1 for i in worcs.spec.indicators if not i.optional)
    assert "No police.uk months" in panel and f"other {n_left} indicators" in panel
    assert "no police.uk data" in panel and "nan" not in panel.split()
    warks = text(lsoa_panel(state, state.county, state.county["lsoa21_code"].iloc[0]))
    assert "No police.uk months" not in warks


def test_quad111_backtest_runs_on_a_partner_extract(capsys):
    from profiler.__main__ import main

    status = main(["backtest", "--fit-before", "2024-04", "--test", "2024-04..2024-06",
                   "--observed", "2024-01..2024-03", "--boot", "0", "--partner-extract",
                   str(ROOT / "data/partner/synthetic_incidents_warwickshire.csv")])
    out = capsys.readouterr().out
    assert status == 0 and "| profile | top 10% |" in out
    assert "| previous period counts | top 10% |" in out
