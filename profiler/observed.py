"""Observed-violence indicators with small-population stabilisation, and risk-vs-observed groups.

Rates on small populations are noisy: an LSOA of 1,000 residents with 3 incidents in two months
has a rate three times the county's by chance alone, and town centres have few residents and many
visitors. So incident counts are turned into **empirical-Bayes (EB) rates**: each area's raw rate
is pulled toward a wider rate in proportion to how little its own population can tell.

The estimator is Marshall's (1991) method-of-moments EB, which is also the posterior mean of a
Poisson-gamma model whose gamma prior is fitted by the method of moments: with ``y_i`` incidents
and ``n_i`` residents, raw rates ``r_i = y_i / n_i``, prior mean ``m = sum y / sum n`` and
``s2 = sum n_i (r_i - m)^2 / sum n``, the prior variance is ``A = max(0, s2 - m / mean(n))``;
the EB rate is ``m + w_i (r_i - m)`` with ``w_i = A / (A + m / n_i)`` (a gamma prior of mean
``m`` and variance ``A`` gives exactly this posterior mean). *Global* EB shrinks toward the
scope's rate; *local* EB toward each area's group (its district), with ``m`` and ``A`` fitted
within the group.

Population denominators: all residents per 2021 LSOA from the ONS mid-2020 small-area estimates
(2011 LSOAs, carried to 2021 LSOAs by :func:`profiler.partner.residents_lsoa21`: unchanged
LSOAs copy, splits share by Census 2021 households, merges sum). No visitor or workplace
population is shipped, so no visitor-based denominator is offered.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

METHODS: tuple[str, ...] = ("eb_global", "eb_local", "raw_rate", "count")
# The four police.uk types counted as serious-violence incidents (as in profiler.change).
SV_TYPES: tuple[str, ...] = ("Violence and sexual offences", "Possession of weapons", "Robbery",
                             "Public order")
PER = 1000.0  # rates per 1,000 residents
# The build's observed window: each force's latest run of consecutive months, at most this many.
OBSERVED_MONTHS = 12
# Observed-violence columns a spec may name: computed by the backtest (and, once integrated, by the
# build) from the observed months' serious-violence incidents, with this method.
OBSERVED_COLUMNS: dict[str, str] = {
    "observed_sv_eb_per_1000": "eb_global",
    "observed_sv_eb_local_per_1000": "eb_local",
    "observed_sv_raw_per_1000": "raw_rate",
    "observed_sv_count": "count",
}
QUADRANTS: tuple[str, ...] = (
    "high risk, high violence",
    "high risk, low recorded violence",
    "low risk, high violence",
    "low risk, low violence",
)
QUADRANT_RESPONSES = {
    QUADRANTS[0]: "sustained partnership focus (prevention and enforcement)",
    QUADRANTS[1]: "prevention candidates; check for under-reporting",
    QUADRANTS[2]: "enforcement, licensing, place-based (night-time economy) response",
    QUADRANTS[3]: "universal services",
}


def count_incidents(
    incidents: pd.DataFrame,
    codes: Sequence[str],
    months: Sequence[str] | None = None,
    crime_types: Sequence[str] | None = SV_TYPES,
) -> pd.Series:
    """Incidents per 2021 LSOA, zero-filled over ``codes``.

    Parameters
    ----------
    incidents : DataFrame
        One row per record with ``month`` (``YYYY-MM``), ``crime_type`` and ``lsoa21_code``
        (the shape of ``profiler.police.load_incidents``); rows of other LSOAs are ignored.
    codes : sequence of str
        The 2021 LSOAs to count in (the result's index, in this order).
    months : sequence of str, optional
        Months to count (default: all).
    crime_types : sequence of str, optional
        police.uk crime types to count (default: the four serious-violence types; None = all).

    Returns
    -------
    Series
        Integer counts indexed by ``codes``, named ``incidents``.
    """
    missing = [c for c in ("month", "crime_type", "lsoa21_code") if c not in incidents.columns]
    if missing:
        raise ProfilerError(
            f"incidents: missing column(s) {', '.join(missing)}; pass records with month, "
            "crime_type and lsoa21_code (as profiler.police.load_incidents returns)"
        )
    keep = pd.Series(True, index=incidents.index)
    if months is not None:
        keep &= incidents["month"].astype(str).isin(set(months))
    if crime_types is not None:
        keep &= incidents["crime_type"].isin(set(crime_types))
    hit = incidents.loc[keep, "lsoa21_code"]
    index = pd.Index(list(codes), name="lsoa21_code")
    return hit.value_counts().reindex(index, fill_value=0).astype(np.int64).rename("incidents")


def _check(counts, residents) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(counts, dtype=float)
    n = np.asarray(residents, dtype=float)
    if y.shape != n.shape or y.ndim != 1:
        raise ProfilerError(f"observed: counts {y.shape} and residents {n.shape} must align, one "
                            "value per area")
    if not (np.isfinite(y).all() and (y >= 0).all()):
        raise ProfilerError("observed: counts must be finite and non-negative")
    if not (np.isfinite(n).all() and (n > 0).all()):
        raise ProfilerError(f"observed: residents: {int((~(n > 0)).sum())} area(s) with no "
                            "residents; give every area a positive population denominator")
    return y, n


def marshall_eb(counts, residents) -> np.ndarray:
    """Marshall's global empirical-Bayes rates (incidents per resident), toward the pooled rate.

    Parameters
    ----------
    counts : array-like
        Incidents per area.
    residents : array-like
        Population per area (all positive).

    Returns
    -------
    ndarray
        EB rate per resident, same order.
    """
    y, n = _check(counts, residents)
    m = y.sum() / n.sum()
    r = y / n
    s2 = float(n @ (r - m) ** 2) / n.sum()
    a = max(0.0, s2 - m / n.mean())
    if a == 0.0:
        return np.full_like(r, m)
    w = a / (a + m / n)
    return m + w * (r - m)


def observed_rate(
    counts,
    residents,
    method: str = "eb_global",
    groups: Sequence[str] | None = None,
    months: int = 1,
) -> np.ndarray:
    """Compute an observed-violence indicator per area: incidents per 1,000 residents a year.

    Parameters
    ----------
    counts : array-like
        Incidents per area over the observed window.
    residents : array-like
        Residents per area.
    method : {"eb_global", "eb_local", "raw_rate", "count"}
        ``eb_global``: Marshall EB toward the pooled rate; ``eb_local``: toward the area's group
        (``groups``, e.g. the district); ``raw_rate``: incidents per resident; ``count``: the
        count per month of the window (the naive forecaster; not per resident).
    groups : sequence of str, optional
        Group per area, needed for ``eb_local``.
    months : int
        Months in the window; rates are annualised (x 12 / months) per 1,000 residents, and
        ``count`` is divided by it (records per month), so windows of any length compare.

    Returns
    -------
    ndarray
    """
    if method not in METHODS:
        raise ProfilerError(f"observed: method {method!r}; use one of {', '.join(METHODS)}")
    if not isinstance(months, int) or months < 1:
        raise ProfilerError(f"observed: months must be a positive whole number, got {months!r}")
    y, n = _check(counts, residents)
    if method == "count":
        return y / months
    if method == "raw_rate":
        rate = y / n
    elif method == "eb_global":
        rate = marshall_eb(y, n)
    else:
        if groups is None:
            raise ProfilerError("observed: eb_local needs groups (e.g. the lad24_code column)")
        g = np.asarray(groups, dtype=object)
        if g.shape != y.shape:
            raise ProfilerError("observed: groups must give one group per area")
        rate = np.empty_like(y)
        for key in pd.unique(g):
            where = g == key
            rate[where] = marshall_eb(y[where], n[where])
    return rate * PER * 12.0 / months


def quadrants(
    risk_score,
    observed,
    *,
    risk_high=None,
    risk_quantile: float = 0.8,
    observed_quantile: float = 0.8,
) -> pd.Categorical:
    """Risk vs observed violence: one of four groups per area (West Midlands VRU style).

    Thresholds: an area is *high risk* when its risk score is at or above the ``risk_quantile``
    quantile of the scores given (default: top quintile), or when ``risk_high`` says so (e.g.
    the High and Very High bands); *high violence* when its observed (EB) rate is at or above
    the ``observed_quantile`` quantile (default: top quintile). Both quantiles are taken over
    the areas passed (the scope), with numpy's linear interpolation.

    Parameters
    ----------
    risk_score : array-like
        Composite risk score per area.
    observed : array-like
        Observed violence per area (an EB rate of recent incidents).
    risk_high : array-like of bool, optional
        Overrides the risk quantile (e.g. ``band.isin(["High", "Very High"])``).
    risk_quantile, observed_quantile : float
        Quantiles in (0, 1).

    Returns
    -------
    Categorical
        Values from :data:`QUADRANTS` (in that category order).
    """
    s = np.asarray(risk_score, dtype=float)
    o = np.asarray(observed, dtype=float)
    if s.shape != o.shape or s.ndim != 1 or s.size == 0:
        raise ProfilerError("quadrants: risk_score and observed must be one value per area")
    if not (np.isfinite(s).all() and np.isfinite(o).all()):
        raise ProfilerError("quadrants: blank or infinite values; fill them before grouping")
    for name, q in (("risk_quantile", risk_quantile), ("observed_quantile", observed_quantile)):
        if not 0 < q < 1:
            raise ProfilerError(f"quadrants: {name} must be in (0, 1), got {q!r}")
    if risk_high is None:
        high_risk = s >= np.quantile(s, risk_quantile)
    else:
        high_risk = np.asarray(risk_high, dtype=bool)
        if high_risk.shape != s.shape:
            raise ProfilerError("quadrants: risk_high must be one flag per area")
    high_obs = o >= np.quantile(o, observed_quantile)
    code = np.where(high_risk, np.where(high_obs, 0, 1), np.where(high_obs, 2, 3))
    return pd.Categorical.from_codes(code, categories=list(QUADRANTS))
