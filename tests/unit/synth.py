"""Small synthetic specs and indicator tables for unit tests (no shipped data needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from profiler.spec import Spec, parse_spec

DOC = {"unit": "u", "source": "s", "period": "p", "licence": "OGL v3.0", "rationale": "r"}


def make_spec(
    k: int = 4,
    directions: list[str] | None = None,
    weights: list[float] | None = None,
    themes: list[list[str]] | None = None,
    **profile,
) -> Spec:
    """A spec with ``k`` indicators named i0..i{k-1} reading columns c0..c{k-1}."""
    directions = directions or ["higher_is_riskier"] * k
    weights = weights or [1.0] * k
    default_themes = [["knife"], ["domestic"], ["public_place"], ["causal", "knife"]]
    themes = themes or [default_themes[j % 4] for j in range(k)]
    return parse_spec(
        {
            "profile": profile,
            "indicator": [
                {
                    "id": f"i{j}",
                    "label": f"Indicator {j}",
                    "column": f"c{j}",
                    "direction": directions[j],
                    "weight": weights[j],
                    "themes": themes[j],
                    **DOC,
                }
                for j in range(k)
            ],
        }
    )


def make_table(values: np.ndarray, lad: list[str] | None = None) -> pd.DataFrame:
    """An indicator table with synthetic codes from an (n, k) array of values."""
    n, k = values.shape
    df = pd.DataFrame({"lsoa21_code": [f"E01{i:06d}" for i in range(n)]})
    df["lsoa21_name"] = [f"Area {i:03d}" for i in range(n)]
    df["lad24_code"] = lad if lad is not None else ["E07000219"] * n
    df["lad24_name"] = df["lad24_code"]
    df["utla_code"] = "E10000031"
    df["utla_name"] = "Warwickshire"
    for j in range(k):
        df[f"c{j}"] = values[:, j]
    return df


def random_table(n: int = 200, k: int = 4, seed: int = 0) -> pd.DataFrame:
    """A table of lognormal indicator values, two districts."""
    rng = np.random.default_rng(seed)
    lad = ["E07000219" if i % 2 else "E07000220" for i in range(n)]
    return make_table(rng.lognormal(size=(n, k)), lad=lad)
