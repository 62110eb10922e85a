"""URL view state: round trip and validation of every parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.urlstate import ViewState, parse_query, to_query
from profiler.errors import ProfilerError
from profiler.spec import load_spec

SPEC = load_spec(Path(__file__).resolve().parents[2] / "data/indicators/spec.toml")


def _query(qs: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(qs.lstrip("?")))


def test_url001_roundtrip():
    view = ViewState(layer="knife", normalisation="rank", banding="quantile",
                     weights={SPEC.ids[-1]: 0.0, "violence_with_injury": 3.5},
                     lsoa="E01031010", bands=("Very High",))
    back, errors = parse_query(_query(to_query(view, SPEC)), SPEC)
    assert back == view and errors == []


def test_url002_defaults_give_empty_query():
    assert to_query(ViewState(), SPEC) == ""


@pytest.mark.parametrize("qs,fragment", [
    ("layer=<script>", "layer"), ("norm=log", "normalisation"), ("banding=jenks", "banding"),
    ("w=violence_with_injury:101", "from 0 to 100"), ("w=nope:1", "unknown indicator"),
    (f"w={SPEC.ids[-1]}:abc", "must be a number"), ("lsoa=E01XYZ", "LSOA"),
    ("lsoa=<img src=x onerror=alert(1)>", "LSOA"), ("bands=Extreme", "bands"),
])
def test_url003_bad_values_reported_and_dropped(qs, fragment):
    view, errors = parse_query(_query(qs), SPEC)
    assert len(errors) == 1 and fragment in errors[0]
    assert view.layer in ("overall",) and view.lsoa is None


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["layer", "norm", "banding", "w", "lsoa", "bands", "x"]),
                       st.text(max_size=40)))
def test_url004_never_raises(query):
    view, errors = parse_query(query, SPEC, known_lsoas={"E01031010"})
    assert isinstance(view, ViewState) and isinstance(errors, list)


def test_url005_spec_weight_above_five_renders_and_validates():
    from dashboard.components import validate_weights, weights_panel
    from profiler.spec import MAX_WEIGHT

    # The sliders' top: 5, or the largest spec weight (the default's observed count is heavy).
    assert SPEC.slider_max == max(5.0, *SPEC.weights.values())
    top = SPEC.slider_max + 1.0
    heavy = SPEC.with_weights({"violence_with_injury": top})
    values = [ind.weight for ind in heavy.indicators]
    assert dict(validate_weights(values, heavy.ids))["violence_with_injury"] == top
    assert heavy.slider_max == top
    panel = weights_panel("ovw", heavy, {})
    sliders = [row.children[1] for row in panel.children[1:]]
    assert {s.max for s in sliders} == {top}
    view, errors = parse_query({"w": f"violence_with_injury:{top:g}"}, heavy)
    assert errors == [] and view.weights == {"violence_with_injury": top}
    with pytest.raises(ProfilerError, match=f"outside 0-{MAX_WEIGHT:g}"):
        validate_weights([MAX_WEIGHT + 1, *values[1:]], heavy.ids)
