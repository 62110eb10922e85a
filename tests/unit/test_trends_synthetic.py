"""The SYNTHETIC 36-month extracts match their script and load as partner uploads (trd201)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_synthetic_trends", ROOT / "scripts" / "make_synthetic_trends.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("area", ["warwickshire", "llr"])
def test_trd201_committed_extract_is_the_scripts_output(area):
    script = _script()
    path = script.out_path(area)
    assert "SYNTHETIC" in path.name
    assert path.read_bytes() == script.make(area), (
        f"{path.name} differs from the script output; run scripts/make_synthetic_trends.py")


def test_trd202_extract_spans_36_months_all_synthetic():
    import pandas as pd

    from profiler import trends

    for area in ("warwickshire", "llr"):
        frame = pd.read_csv(_script().out_path(area))
        assert set(frame["source"]) == {"SYNTHETIC"}
        assert len(trends.partner_covered(pd.to_datetime(frame["date"]))) == 36
