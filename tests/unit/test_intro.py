"""The introduction line and glossary (issue 15): data editions derived from the spec."""

from __future__ import annotations

from pathlib import Path

from dashboard.intro import BANDING_LABELS, GLOSSARY, NORMALISATION_LABELS, editions
from profiler.spec import BANDINGS, NORMALISATIONS, load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_int001_editions_come_from_the_spec():
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    found = editions(spec)
    text = " ".join(f"{i.source} {i.period}" for i in spec.indicators)
    assert found and len(found) == len(set(found))
    for name in found:  # each named edition is in the spec's own words
        year = "".join(ch for ch in name if ch.isdigit())
        assert year in text
    if "Indices of Deprivation 2025" in text:
        assert "IoD2025" in found


def test_int002_every_method_choice_and_term_is_explained():
    assert set(BANDING_LABELS) == set(BANDINGS)
    assert set(NORMALISATION_LABELS) == set(NORMALISATIONS)
    for key in ("P(High+)", "stddev", "Change band", "Gi*", "LSOA"):
        assert len(GLOSSARY[key].split()) >= 8, key
