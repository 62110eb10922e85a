"""Kernel density of incident points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiler.density import kernel_density
from profiler.errors import ProfilerError


def test_kde001_peak_is_at_the_planted_cluster():
    rng = np.random.default_rng(0)
    background = pd.DataFrame({"longitude": rng.uniform(-1.7, -1.3, 200),
                               "latitude": rng.uniform(52.2, 52.5, 200)})
    cluster = pd.DataFrame({"longitude": rng.normal(-1.47, 0.002, 150),
                            "latitude": rng.normal(52.52, 0.002, 150)})  # Nuneaton-ish
    out = kernel_density(pd.concat([background, cluster]), bandwidth_m=300, cell_m=200)
    top = out.iloc[0]
    assert abs(top["longitude"] - -1.47) < 0.01 and abs(top["latitude"] - 52.52) < 0.01
    assert out["intensity"].max() == pytest.approx(1.0)
    assert (out["intensity"] >= 0.02).all()


def test_kde002_density_integrates_to_the_point_count():
    pts = pd.DataFrame({"longitude": [-1.5, -1.5001, -1.4999], "latitude": [52.3, 52.3, 52.3001]})
    out = kernel_density(pts, bandwidth_m=200, cell_m=50, min_share=0.0)
    total = out["density"].sum() * (50 / 1000) ** 2  # per km² times cell area in km²
    assert total == pytest.approx(3, rel=0.05)


def test_kde003_empty_and_bad_input():
    empty = kernel_density(pd.DataFrame({"longitude": [np.nan], "latitude": [np.nan]}))
    assert empty.empty
    with pytest.raises(ProfilerError, match="latitude column"):
        kernel_density(pd.DataFrame({"longitude": [1.0]}))
    with pytest.raises(ProfilerError, match="must be > 0"):
        kernel_density(pd.DataFrame({"longitude": [1.0], "latitude": [52.0]}), bandwidth_m=0)
