"""Most similar districts, and how a sub-area's share of High+ LSOAs compares with others.

Method (stated on the district page as :data:`METHOD`): each English district (2024 local
authority district) is described by its IoD domain profile, the mean over its LSOAs of each of
the spec's indicators that come from the English Indices of Deprivation (:func:`iod_indicators`:
crime domain indicators, income, employment, education and health measures; police.uk and
partner indicators, which not every area has, are left out), taken from the shipped
England-wide LSOA table ``data/indicators/lsoa21_indicators.csv``. Each of those district means
is standardised across England's districts (z-score: minus the mean over districts, divided by
their standard deviation, so each indicator counts equally), and the most similar districts
are the ``k`` = 5 nearest by Euclidean distance on the standardised profile (the district
itself excluded; ties broken by code). This is the idea of the CIPFA and ONS "nearest
neighbour" groups, from open data and the profile's own measures.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError
from profiler.spec import Spec

K = 5
HIGH = ("High", "Very High")
METHOD = (
    "Similar districts: the {k} English districts nearest to {name} on the IoD domain profile, "
    "the mean over each district's LSOAs of the {n} indicators (Indices of Deprivation 2025), "
    "each standardised across England's {districts} districts, by Euclidean distance."
)


def iod_indicators(spec: Spec) -> list:
    """Pick the spec's indicators sourced from the English Indices of Deprivation (all LSOAs)."""
    return [i for i in spec.indicators
            if "Indices of Deprivation" in i.source or i.source.startswith("IoD")]


def district_profiles(table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Mean of each IoD indicator (:func:`iod_indicators`) over each district's LSOAs.

    Parameters
    ----------
    table : DataFrame
        The England LSOA indicator table (``lad24_code``, ``lad24_name``, the spec's columns).
    spec : Spec

    Returns
    -------
    DataFrame
        Indexed by ``lad24_code``, a ``lad24_name`` column, one column per indicator id.
    """
    indicators = iod_indicators(spec)
    if not indicators:
        raise ProfilerError("similar districts: the spec has no indicator from the English "
                            "Indices of Deprivation to compare districts on")
    missing = [c for c in ("lad24_code", "lad24_name", *(i.column for i in indicators))
               if c not in table.columns]
    if missing:
        raise ProfilerError(f"similar districts: the LSOA table has no column(s) {missing[:3]}; "
                            "use data/indicators/lsoa21_indicators.csv")
    cols = {i.column: i.id for i in indicators}
    means = table.groupby("lad24_code", sort=True)[list(cols)].mean().rename(columns=cols)
    names = table.drop_duplicates("lad24_code").set_index("lad24_code")["lad24_name"]
    return means.assign(lad24_name=names.reindex(means.index))[["lad24_name", *cols.values()]]


def standardise(profiles: pd.DataFrame) -> pd.DataFrame:
    """Z-scores of each indicator column across districts (a constant column becomes 0)."""
    values = profiles.drop(columns=["lad24_name"], errors="ignore").astype(float)
    sd = values.std(ddof=0).replace(0.0, np.nan)
    return ((values - values.mean()) / sd).fillna(0.0)


def nearest_districts(profiles: pd.DataFrame, code: str, k: int = K) -> pd.DataFrame:
    """Find the ``k`` districts nearest to ``code`` on the standardised profile.

    Parameters
    ----------
    profiles : DataFrame
        From :func:`district_profiles`.
    code : str
        A district code in ``profiles``.
    k : int

    Returns
    -------
    DataFrame
        ``lad24_code``, ``lad24_name``, ``distance``, nearest first.
    """
    if code not in profiles.index:
        raise ProfilerError(f"similar districts: {str(code)[:20]!r} is not an English district "
                            "code in the LSOA table; use e.g. E07000219")
    z = standardise(profiles)
    distance = np.sqrt(((z - z.loc[code]) ** 2).sum(axis=1)).drop(index=code)
    order = pd.DataFrame({"distance": distance.to_numpy(), "code": distance.index},
                         index=distance.index)
    order = order.sort_values(["distance", "code"], kind="stable").head(k)
    return pd.DataFrame({
        "lad24_code": order.index,
        "lad24_name": profiles.loc[order.index, "lad24_name"].to_numpy(),
        "distance": order["distance"].round(3).to_numpy(),
    })


def high_share(result: pd.DataFrame, codes: Iterable[str] | None = None) -> tuple[int, int]:
    """(High or Very High LSOAs, all LSOAs) of ``result`` among ``codes`` (all if None)."""
    rows = result if codes is None else result[result["lsoa21_code"].isin(list(codes))]
    return int(rows["band"].isin(HIGH).sum()), len(rows)


def similar_average(result: pd.DataFrame, lads: Iterable[str]) -> float | None:
    """Mean over the districts ``lads`` of each one's share of High+ LSOAs in ``result``."""
    shares = []
    for lad in lads:
        high, n = high_share(result[result["lad24_code"] == lad])
        if n:
            shares.append(high / n)
    return float(np.mean(shares)) if shares else None
