"""Issue 13: the quadrant chart's log axis (a pure transform), the figure built on it, and the
group lists and group export shared by the overview and district pages. Expected values are
derived from the shipped data, never pasted.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import quadrants as quad
from dashboard.settings import Settings
from profiler.engine import BANDS
from profiler.export import read_export_csv
from profiler.observed import QUADRANTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def state():
    from dashboard.state import load_state

    return load_state(Settings(tiles_url="", data_dir=ROOT / "data"))


def _caption(fig) -> str:
    """The figure's caption as one line (captioned wraps it with <br>)."""
    return fig["layout"]["annotations"][-1]["text"].replace("<br>", " ")


def _is_125(v: float) -> bool:
    mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
    return any(math.isclose(mantissa, m) for m in (1, 2, 5))


def test_quad112_log_axis_places_rates_at_their_values_with_1_2_5_ticks():
    values = [2.9, 15.2, 27.4, 47.8, 319.7]
    axis = quad.log_axis(values)
    assert axis.positions == tuple(values) and axis.floor is None
    assert axis.tickvals == (5, 10, 20, 50, 100, 200)
    assert axis.ticktext == ("5", "10", "20", "50", "100", "200")  # honest: the units shown
    low, high = axis.range
    assert 10 ** low < min(values) and 10 ** high > max(values)  # nothing clipped
    big = quad.log_axis([6.4, 1147.5])
    assert big.ticktext[-1] == "1,000" and all(_is_125(t) for t in big.tickvals)
    # less than a decade between 1-2-5 steps: the ends are labelled instead
    assert len(quad.log_axis([3.0, 4.0]).tickvals) >= 2


def test_quad113_log_axis_puts_zeros_on_a_labelled_floor():
    axis = quad.log_axis([0.0, 0.3, 5.0, 120.0, float("nan")])
    assert axis.floor == 0.1  # the largest 1-2-5 value at most half the smallest rate
    assert axis.positions[0] == axis.floor and axis.positions[1:4] == (0.3, 5.0, 120.0)
    assert math.isnan(axis.positions[4])  # blank stays blank
    assert axis.tickvals[0] == axis.floor and axis.ticktext[0] == "0"
    # no tick between the floor and the smallest rate: the gap shows the break
    assert axis.tickvals[1] >= 0.3 and "0" not in axis.ticktext[1:]
    assert axis.position(0.0) == axis.floor and axis.position(7.5) == 7.5
    assert quad.log_axis([0.0, 0.0]).ticktext == ("0",)
    with pytest.raises(ValueError, match="no values to place"):
        quad.log_axis([float("nan")])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 5000.0)), min_size=1, max_size=40))
def test_quad114_log_axis_keeps_order_and_range(values):
    axis = quad.log_axis(values)
    pos = np.array(axis.positions)
    v = np.array(values)
    assert (pos > 0).all()  # every point can sit on a log axis
    order = np.argsort(v, kind="stable")
    assert (np.diff(pos[order]) >= 0).all()  # a larger rate is never placed lower
    assert ((v == v[0]) == (pos == pos[0])).all()  # ties stay ties
    low, high = axis.range
    assert (pos >= 10 ** low).all() and (pos <= 10 ** high).all()
    assert list(axis.tickvals) == sorted(set(axis.tickvals))
    for t, label in zip(axis.tickvals, axis.ticktext, strict=True):
        assert label == "0" if t == axis.floor else float(label.replace(",", "")) == t


def test_quad115_figure_is_a_log_axis_with_dividers_at_the_top_fifths(state):
    groups = quad.frame(state, state.county)
    fig = quad.figure(state, groups)
    layout = fig["layout"]
    rates = groups["observed_rate"]
    axis = quad.log_axis(rates)
    assert layout["yaxis"]["type"] == "log" and "log scale" in layout["yaxis"]["title"]["text"]
    assert layout["yaxis"]["tickvals"] == list(axis.tickvals)
    assert layout["yaxis"]["ticktext"] == list(axis.ticktext)
    vertical, horizontal = layout["shapes"]
    x80, y80 = np.quantile(groups["risk_score"], 0.8), np.quantile(rates, 0.8)
    assert math.isclose(vertical["x0"], x80) and vertical["x0"] == vertical["x1"]
    # on a log axis a shape's y is in data units: the divider is the rate itself
    assert math.isclose(horizontal["y0"], y80) and horizontal["y0"] == horizontal["y1"]
    by_code = groups.set_index("lsoa21_code")
    for g, trace in enumerate(fig["data"][:4]):
        ys = np.array(trace["y"])
        assert ((ys >= y80 - 1e-3) if g in (0, 2) else (ys < y80 + 1e-3)).all(), QUADRANTS[g]
        real = by_code.loc[trace["customdata"], "observed_rate"]
        assert trace["hovertext"] == [f"{r:,.1f}" for r in real]  # hover in real units
        assert "%{hovertext} per 1,000 a year" in trace["hovertemplate"]
    caption = _caption(fig)
    assert quad.Y_NOTE in caption and quad.ZERO_NOTE not in caption
    assert f"Risk vs recorded violence in {state.home.name}" in caption
    config = quad.graph(state, fig).config
    assert config["modeBarButtons"] == [["toImage"]]
    assert config["toImageButtonOptions"]["width"] == 1280


def test_quad116_a_zero_rate_sits_on_the_floor_and_the_caption_says_so(state):
    groups = quad.frame(state, state.county)
    low = groups.index[groups["group"] == 3][0]
    groups.loc[low, "observed_rate"] = 0.0
    code = groups.at[low, "lsoa21_code"]
    fig = quad.figure(state, groups, selected=code)
    floor = quad.log_axis(groups["observed_rate"]).floor
    trace = fig["data"][3]
    i = trace["customdata"].index(code)
    assert trace["y"][i] == floor and trace["hovertext"][i] == "0.0"
    assert fig["layout"]["yaxis"]["ticktext"][0] == "0"
    assert fig["data"][-1]["name"] == "Selected LSOA" and fig["data"][-1]["y"] == [floor]
    assert quad.ZERO_NOTE in _caption(fig)


def _details_text(node) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(_details_text(n) for n in node)
    return _details_text(getattr(node, "children", None) or "")


def test_quad117_one_group_list_builder_for_the_area_and_its_districts(state):
    groups = quad.frame(state, state.county)
    parts = quad.group_lists(state, state.county, groups, "ovw-quad")
    assert [p.id for p in parts] == [f"ovw-quad-group-{g}" for g in range(4)]
    by_code = groups.set_index("lsoa21_code")
    for g, details in enumerate(parts):
        summary, _, table = details.children
        want = set(groups.loc[groups["group"] == g, "lsoa21_code"])
        assert summary.children == f"{quad.LABELS[g]} ({len(want)} LSOAs)"
        grid = table.children[1]
        assert grid.id == f"ovw-quad-table-{g}" and {r["id"] for r in grid.data} == want
        ids = [c["id"] for c in grid.columns]
        assert {"lsoa21_code", "msoa", "district", "band", "risk_factor", "violence"} <= set(ids)
        for row in grid.data:
            assert row["violence"] == round(float(by_code.at[row["id"], "observed_rate"]), 1)
            assert row["risk_factor"] == round(float(by_code.at[row["id"], "risk_score"]), 2)
    # the overview shows the meanings in its key, so its lists leave them out
    bare = quad.group_lists(state, state.county, groups, "ovw-quad", describe=False)
    assert [len(d.children) for d in bare] == [2] * 4
    assert [d.children[1].children[1].data for d in bare] == \
        [d.children[2].children[1].data for d in parts]
    # the district page's section is the same builder, for the district's LSOAs
    district = "E07000221"
    section = quad.district_section(state, district, "Stratford-on-Avon")
    lists = [c for c in section.children if getattr(c, "id", "").startswith("dst-quad-group")]
    same = quad.group_lists(state, state.county, groups, "dst-quad", district, (1, 2))
    assert [d.children[2].children[1].data for d in lists] == \
        [d.children[2].children[1].data for d in same]
    assert [d.open for d in lists] == [False, True, True, False]


def test_quad118_export_picker_and_whole_area_group_export(state):
    span, radio = quad.export_picker("ovw-quad")
    assert radio.id == "ovw-quad-export-group" and span.id == "ovw-quad-export-group-label"
    assert [o["value"] for o in radio.options] == ["0", "1", "2", "3"] and radio.value == "0"
    assert not radio.inline and quad.export_picker("ovw-quad", inline=True)[1].inline
    _, dst = quad.export_picker("dst", ("high", "High and Very High"), hide_present=True)
    assert dst.value == "high" and "svrp-hide-present" in dst.className
    assert [quad.picked_group(v) for v in ("high", "2", "9", None, 2)] == [None, 2, None, None,
                                                                           None]
    from dashboard.components import export_download

    prof = state.spec.profile
    groups = quad.frame(state, state.county)
    payload = export_download(state, state.county, "csv", BANDS, None,
                              tuple(state.spec.weights.items()), prof.normalisation,
                              prof.banding, group=2)
    meta, frame = read_export_csv(base64.b64decode(payload["content"]))
    assert set(frame["LSOA code"]) == set(quad.group_codes(groups, 2))
    assert meta["risk_vs_recorded_violence_group"] == QUADRANTS[2]
    assert payload["filename"].startswith(quad.QUADRANT_GROUPS[2].key.replace("_", "-") + "-lsoas-")


def test_quad119_no_police_area_lists_nothing_and_says_so(state):
    from dashboard.state import current

    cornwall = current("E06000052")
    groups = quad.frame(cornwall, cornwall.county)
    assert not quad.has_police(groups)
    fig = quad.figure(cornwall, groups)
    assert len(fig["data"]) == 1 and fig["layout"]["yaxis"].get("type") != "log"
    assert fig["layout"]["yaxis"]["showticklabels"] is False and not fig["layout"]["shapes"]
    assert "No police.uk months for this area" in _caption(fig)
    text = _details_text(quad.district_section(cornwall, next(iter(cornwall.subareas)), "x"))
    assert "No police.uk months are imported for Cornwall" in text and "LSOAs)" not in text
