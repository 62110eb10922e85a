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

*Covariate* EB (Clayton and Kaldor 1987, with a regression prior) shrinks each area's count
toward what its other characteristics predict instead of toward one pooled rate: the incidents
``y_i`` are negative-binomial (Poisson with a gamma-distributed mean) with prior mean
``mu_i = exp(x_i b)``, ``x_i`` the area's standardised covariates (the IoD2025 indicators and log
residents) and gamma shape ``alpha``, both fitted by maximum likelihood on the observed window
alone (:func:`nb_prior`). The posterior mean count is ``mu_i (alpha + y_i) / (alpha + mu_i)``
(:func:`covariate_eb`): a weighted mean of the count and the prior with the count's weight
``mu_i / (alpha + mu_i)``, so the count dominates where the prior expects many incidents and the
covariate prediction where it expects few.

Population denominators: all residents per 2021 LSOA from the ONS mid-2020 small-area estimates
(2011 LSOAs, carried to 2021 LSOAs by :func:`profiler.partner.residents_lsoa21`: unchanged
LSOAs copy, splits share by Census 2021 households, merges sum). No visitor or workplace
population is shipped, so no visitor-based denominator is offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

METHODS: tuple[str, ...] = ("eb_global", "eb_local", "raw_rate", "count", "eb_covariate",
                             "count_eb")
# Methods that need covariates per area (:func:`covariate_eb`).
COVARIATE_METHODS: tuple[str, ...] = ("eb_covariate", "count_eb")
# Ridge penalty on the standardised regression coefficients of the covariate prior: a normal
# prior of variance 1 on each, which keeps the fit finite when covariates are collinear.
RIDGE = 1.0
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
    "observed_sv_count_eb": "count_eb",
    "observed_sv_cov_eb_per_1000": "eb_covariate",
}


@dataclass(frozen=True)
class QuadrantGroup:
    """One group of risk vs recorded violence: its name, plain-words meaning and map colour."""

    key: str
    name: str
    meaning: str
    colour: str


#: The four groups of risk vs recorded violence, declared once: the map layer, its legend, the
#: chart, district lists and exports all read them (colours: a colour-blind safe bivariate set).
QUADRANT_GROUPS: tuple[QuadrantGroup, ...] = (
    QuadrantGroup("high_high", "high risk, high violence",
                  "High risk factors and high recorded violence: sustained partnership focus, "
                  "prevention and enforcement together.", "#7b3294"),
    QuadrantGroup("high_low", "high risk, low recorded violence",
                  "High risk factors but little recorded violence: prevention candidates; "
                  "check for under-reporting.", "#e08214"),
    QuadrantGroup("low_high", "low risk, high violence",
                  "Few risk factors among residents but high recorded violence, often a town "
                  "centre's night-time economy: enforcement, licensing and place-based work.",
                  "#2166ac"),
    QuadrantGroup("low_low", "low risk, low violence",
                  "Few risk factors and little recorded violence: universal services.",
                  "#e0e0e0"),
)
QUADRANTS: tuple[str, ...] = tuple(g.name for g in QUADRANT_GROUPS)
QUADRANT_RESPONSES = {g.name: g.meaning for g in QUADRANT_GROUPS}
QUADRANT_RATE_COLUMN = "observed_sv_eb_per_1000"  # the table's recent violence per resident


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


def nb_posterior_mean(counts, prior_mean, alpha: float) -> np.ndarray:
    """Posterior mean of a Poisson mean under a gamma prior of the given mean and shape.

    With ``y ~ Poisson(lam)`` and ``lam ~ Gamma(shape=alpha, mean=mu)``, the posterior is
    ``Gamma(alpha + y, rate=alpha / mu + 1)``, of mean ``mu (alpha + y) / (alpha + mu)``.

    Parameters
    ----------
    counts, prior_mean : array-like
        Count and prior mean (positive) per area.
    alpha : float
        Gamma shape (positive; ``inf`` gives the prior mean itself, ``0`` the count).

    Returns
    -------
    ndarray
    """
    y = np.asarray(counts, dtype=float)
    mu = np.asarray(prior_mean, dtype=float)
    if not alpha >= 0:
        raise ProfilerError(f"observed: gamma shape must be >= 0, got {alpha!r}")
    if np.isinf(alpha):
        return mu.copy()
    return mu * (alpha + y) / (alpha + mu)


def _design(covariates, residents: np.ndarray) -> np.ndarray:
    """Standardised covariates plus log residents (log1p for non-negative columns first)."""
    x = np.asarray(covariates, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != residents.size:
        raise ProfilerError(f"observed: covariates have {x.shape[0]} rows for {residents.size} "
                            "areas; give one row per area")
    if not np.isfinite(x).all():
        raise ProfilerError("observed: covariates: blank or infinite values; fill them first")
    cols = [np.log(residents)]
    for j in range(x.shape[1]):
        c = x[:, j]
        cols.append(np.log1p(c) if (c >= 0).all() else c)
    z = np.column_stack(cols)
    sd = z.std(axis=0)
    z = (z[:, sd > 0] - z[:, sd > 0].mean(axis=0)) / sd[sd > 0]
    return np.column_stack([np.ones(len(z)), z])


def nb_prior(counts, covariates, residents, ridge: float = RIDGE) -> tuple[np.ndarray, float]:
    """Fit a negative-binomial (NB2) regression of counts on covariates: prior mean and shape.

    ``log mu_i = b0 + x_i b`` with ``x_i`` the standardised covariates and log residents
    (non-negative covariates, such as rates, are taken as ``log1p`` first); variance
    ``mu + mu^2 / alpha``. Maximum likelihood, with a ridge penalty ``ridge * |b|^2 / 2`` on the
    slopes (not the intercept).

    Parameters
    ----------
    counts : array-like
        Incidents per area over the observed window.
    covariates : array-like
        One row per area, one column per covariate.
    residents : array-like
        Residents per area (positive).
    ridge : float
        Penalty weight (0 = plain maximum likelihood).

    Returns
    -------
    (ndarray, float)
        Prior mean count per area and the gamma shape ``alpha`` (``inf`` when the counts show
        no variance beyond the regression's Poisson).
    """
    from scipy.optimize import minimize
    from scipy.special import gammaln, psi

    y, n = _check(counts, residents)
    x = _design(covariates, n)
    if y.sum() == 0:
        return np.zeros_like(y), np.inf
    pen = np.full(x.shape[1], float(ridge))
    pen[0] = 0.0

    def nll(theta):
        b, log_a = theta[:-1], theta[-1]
        a = np.exp(log_a)
        eta = np.clip(x @ b, -30, 30)
        mu = np.exp(eta)
        ll = (gammaln(y + a) - gammaln(a) - gammaln(y + 1) + a * (log_a - np.log(a + mu))
              + y * (eta - np.log(a + mu)))
        g_eta = a * (y - mu) / (a + mu)
        g_a = (psi(y + a) - psi(a) + log_a - np.log(a + mu) + (mu - y) / (a + mu)).sum() * a
        f = -ll.sum() + 0.5 * float(pen @ b**2)
        grad = np.append(-(x.T @ g_eta) + pen * b, -g_a)
        return f, grad

    start = np.zeros(x.shape[1] + 1)
    start[0] = np.log(y.mean())
    fit = minimize(nll, start, jac=True, method="L-BFGS-B",
                   bounds=[(None, None)] * x.shape[1] + [(-10.0, 12.0)])
    b, log_a = fit.x[:-1], fit.x[-1]
    mu = np.exp(np.clip(x @ b, -30, 30))
    return mu, (np.inf if log_a >= 12.0 - 1e-6 else float(np.exp(log_a)))


def covariate_eb(counts, covariates, residents, ridge: float = RIDGE) -> np.ndarray:
    """Covariate empirical-Bayes counts: each count shrunk toward its regression prediction.

    The prior is :func:`nb_prior` fitted on these counts; the result is
    :func:`nb_posterior_mean` (incidents over the same window, not per resident).

    Parameters
    ----------
    counts, covariates, residents, ridge
        As :func:`nb_prior`.

    Returns
    -------
    ndarray
        Posterior mean count per area.
    """
    mu, alpha = nb_prior(counts, covariates, residents, ridge)
    return nb_posterior_mean(np.asarray(counts, dtype=float), mu, alpha)


def observed_rate(
    counts,
    residents,
    method: str = "eb_global",
    groups: Sequence[str] | None = None,
    months: int = 1,
    covariates=None,
) -> np.ndarray:
    """Compute an observed-violence indicator per area: incidents per 1,000 residents a year.

    Parameters
    ----------
    counts : array-like
        Incidents per area over the observed window.
    residents : array-like
        Residents per area.
    method : {"eb_global", "eb_local", "raw_rate", "count", "eb_covariate", "count_eb"}
        ``eb_global``: Marshall EB toward the pooled rate; ``eb_local``: toward the area's group
        (``groups``, e.g. the district); ``raw_rate``: incidents per resident; ``count``: the
        count per month of the window (the naive forecaster; not per resident);
        ``eb_covariate``: the covariate EB count (:func:`covariate_eb`) per resident;
        ``count_eb``: the covariate EB count per month (a place measure, like ``count``).
    groups : sequence of str, optional
        Group per area, needed for ``eb_local``.
    months : int
        Months in the window; rates are annualised (x 12 / months) per 1,000 residents, and
        ``count`` is divided by it (records per month), so windows of any length compare.
    covariates : array-like, optional
        One row per area (e.g. the IoD2025 indicators), needed for ``eb_covariate`` and
        ``count_eb``.

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
    if method in COVARIATE_METHODS:
        if covariates is None:
            raise ProfilerError(f"observed: {method} needs covariates (e.g. the IoD2025 "
                                "indicator columns)")
        post = covariate_eb(y, covariates, n)
        return post / months if method == "count_eb" else post / n * PER * 12.0 / months
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


def risk_factor_score(scored: pd.DataFrame, spec) -> np.ndarray:
    """Compute the risk-factor score of a scored profile: the causal indicators only.

    The weighted mean of the normalised values (``<id>_norm``) of the spec's indicators tagged
    ``causal``, with their spec weights: the same reference and normalisation as the profile,
    without the crime and observed-violence indicators, so comparing it with recorded violence
    is not circular.

    Parameters
    ----------
    scored : DataFrame
        A scored profile (:func:`profiler.pipeline.score_scope`).
    spec : Spec

    Returns
    -------
    ndarray
        One score per row (NaN when the spec has no causal indicator).
    """
    causal = [i for i in spec.indicators if "causal" in i.themes and i.weight > 0]
    if not causal:
        return np.full(len(scored), np.nan)
    z = np.column_stack([scored[f"{i.id}_norm"].to_numpy(dtype=float) for i in causal])
    w = np.array([i.weight for i in causal])
    avail = ~np.isnan(z)
    with np.errstate(invalid="ignore"):
        return (np.where(avail, z, 0.0) @ w) / (avail.astype(float) @ w)


def risk_vs_observed(scored: pd.DataFrame, spec, rates: pd.Series) -> pd.DataFrame:
    """Each LSOA's risk-factor score, recent recorded violence and group.

    High risk: a risk-factor score at or above the scope's top quintile; high violence: a
    recent violence rate (the table's :data:`QUADRANT_RATE_COLUMN`, Marshall EB per 1,000
    residents a year) at or above its top quintile, both over the LSOAs that have a rate.

    Parameters
    ----------
    scored : DataFrame
        A scored profile with ``lsoa21_code``.
    spec : Spec
    rates : Series
        Recent violence rate by 2021 LSOA code (NaN or absent: no police.uk months).

    Returns
    -------
    DataFrame
        ``lsoa21_code``, ``risk_score``, ``observed_rate``, ``group`` (index into
        :data:`QUADRANT_GROUPS`, -1 without a rate), ``quadrant`` (its name, or blank), in the
        order of ``scored``.
    """
    codes = scored["lsoa21_code"].to_numpy()
    risk = risk_factor_score(scored, spec)
    rate = pd.Series(rates).reindex(codes).to_numpy(dtype=float)
    group = np.full(len(codes), -1, dtype=np.int64)
    has = ~np.isnan(rate) & ~np.isnan(risk)
    if has.sum() >= 5:
        cat = quadrants(risk[has], rate[has], risk_quantile=0.8, observed_quantile=0.8)
        group[has] = cat.codes
    names = np.array([*QUADRANTS, ""], dtype=object)[group]
    return pd.DataFrame({"lsoa21_code": codes, "risk_score": risk, "observed_rate": rate,
                         "group": group, "quadrant": names})
