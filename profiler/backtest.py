"""Judging a ranking of areas against the incidents of a later period (pure).

Crime-forecasting practice scores a ranking by the incidents that happen *afterwards* in the
areas it flags (DOMAIN.md, "How a risk profile is judged against what happened"):

- **hit rate**: share of the later incidents that fall in the flagged areas;
- **PAI** (Chainey's Predictive Accuracy Index): hit rate over the share of *land area*
  flagged (the share of LSOAs when no areas are given: :attr:`BacktestResult` says which);
- **PEI***: hit rate over the best hit rate any choice of the same number of areas could
  have had (the test counts ranked by themselves), 1 at the ceiling;
- **resident index**: incidents per resident in the flagged areas over incidents per resident
  overall (1 = no better than average);
- **Spearman**: rank correlation of the ranking with the later counts, over all areas.

Ties. The flagged set is "the top ``k`` areas" with ``k`` a (possibly fractional) number of
LSOAs. Areas scoring above the cut are in; the areas tied *at* the cut share the remaining
places equally (fractional inclusion). That is the expected value over every random order of
the tied areas, so ties never favour a ranking: a constant ranking scores exactly the random
forecaster's expectation (hit rate = share flagged, PAI 1, resident index 1).

Intervals. A paired bootstrap over LSOAs: each draw resamples the areas with replacement (the
same draw for every ranking) and recomputes every metric, including the ceiling. Areas, not
incidents, are resampled because incidents cluster in places (repeat locations, one town
centre): resampling incidents as if independent would give intervals far too narrow, whereas
the LSOA is the unit the profile flags and the unit a partnership acts on. The seed is fixed.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from profiler.errors import ProfilerError

TOP_SHARES: tuple[float, ...] = (0.05, 0.10, 0.20)
HIGH_SET = "High+"
METRICS: tuple[str, ...] = ("hit_rate", "pai", "pei", "resident_index")
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 2024
CONFIDENCE = 0.95


def _as_float(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ProfilerError(f"backtest: {name} must be one value per area, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ProfilerError(
            f"backtest: {name}: {int((~np.isfinite(arr)).sum())} blank or infinite value(s); "
            "fill them before ranking"
        )
    return arr


def inclusion_weights(score: np.ndarray, k: float) -> np.ndarray:
    """Share of each area included in the top ``k`` of a ranking, ties shared at the cut.

    Parameters
    ----------
    score : ndarray of float
        Ranking score per area (higher = flagged first).
    k : float
        Number of areas to flag, in ``[0, n]``; may be fractional (e.g. 10% of 354 = 35.4).

    Returns
    -------
    ndarray of float
        Per area, 1 above the cut, 0 below, and ``(k - above) / tied`` for the areas tied at
        the cut; the weights sum to ``k``.
    """
    s = np.asarray(score, dtype=float)
    n = s.size
    if not 0 <= k <= n:
        raise ProfilerError(f"backtest: cannot flag {k} of {n} areas; use 0 <= k <= n")
    if k == 0:
        return np.zeros(n)
    if k == n:
        return np.ones(n)
    cut = np.sort(s)[::-1][int(np.ceil(k)) - 1]
    above = s > cut
    tied = s == cut
    w = above.astype(float)
    w[tied] = (k - above.sum()) / tied.sum()
    return w


def best_hits(counts: np.ndarray, k: float) -> float:
    """Most incidents any ``k`` areas hold: the ceiling's flagged incidents (fractional ``k``)."""
    return float(inclusion_weights(counts, k) @ np.asarray(counts, dtype=float))


def set_metrics(
    score: np.ndarray,
    counts: np.ndarray,
    k: float,
    area: np.ndarray | None = None,
    residents: np.ndarray | None = None,
) -> dict[str, float]:
    """Hit rate, PAI, PEI* and resident index of the top ``k`` areas of one ranking.

    Parameters
    ----------
    score : ndarray
        Ranking score per area (higher = riskier).
    counts : ndarray
        Later incidents per area.
    k : float
        Areas flagged (fractional allowed; see :func:`inclusion_weights`).
    area : ndarray, optional
        Land area per area; PAI uses the share of LSOAs when not given.
    residents : ndarray, optional
        Residents per area; the resident index is NaN when not given.

    Returns
    -------
    dict
        ``hit_rate``, ``pai``, ``pei``, ``resident_index`` (NaN where undefined, e.g. no
        incidents at all).
    """
    y = np.asarray(counts, dtype=float)
    w = inclusion_weights(score, k)
    total = y.sum()
    hits = float(w @ y)
    hit = hits / total if total > 0 else np.nan
    n = y.size
    share = (w @ area) / area.sum() if area is not None else k / n
    best = best_hits(y, k)
    out = {
        "hit_rate": hit,
        "pai": hit / share if share > 0 else np.nan,
        "pei": hits / best if best > 0 else np.nan,
        "resident_index": np.nan,
    }
    if residents is not None:
        flagged = float(w @ residents)
        if flagged > 0 and total > 0:
            out["resident_index"] = (hits / flagged) / (total / residents.sum())
    return out


def spearman(score: np.ndarray, counts: np.ndarray) -> float:
    """Spearman rank correlation (ties averaged); 0 for a constant ranking or constant counts."""
    s, y = np.asarray(score, dtype=float), np.asarray(counts, dtype=float)
    if np.ptp(s) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(s, y).statistic)


@dataclass(frozen=True)
class BacktestResult:
    """A backtest table and how it was made.

    Attributes
    ----------
    table : DataFrame
        One row per ranking and flagged set: ``ranking``, ``set`` (``top 5%``... or
        ``High+``), ``k`` (LSOAs flagged), each metric of :data:`METRICS` and ``spearman``,
        each with ``_lo``/``_hi`` bootstrap bounds.
    pai_basis : str
        ``"land area"`` or ``"share of LSOAs"``.
    n_areas, n_incidents : int
        Areas ranked and later incidents counted.
    n_boot, seed : int
        Bootstrap draws and seed.
    areas : DataFrame or None
        Per-LSOA detail from :func:`profile_backtest` (scores, counts, quadrants).
    draws : ndarray or None
        Bootstrap values, shape ``(n_boot, len(table), 5)`` (the metrics then ``spearman``),
        rows as in ``table``; for paired differences (:meth:`difference`).
    """

    table: pd.DataFrame
    pai_basis: str
    n_areas: int
    n_incidents: int
    n_boot: int
    seed: int
    draws: np.ndarray | None = None
    areas: pd.DataFrame | None = None

    def difference(self, ranking: str, other: str, metric: str = "hit_rate",
                   set_: str = "top 10%") -> tuple[float, float, float]:
        """Paired difference ``ranking - other`` of one metric, with its bootstrap interval.

        Both rankings are scored on the same resampled LSOAs in each draw, so the interval of
        the difference is much narrower than comparing two separate intervals.

        Parameters
        ----------
        ranking, other : str
            Ranking names in :attr:`table`.
        metric : str
            One of :data:`METRICS` or ``"spearman"``.
        set_ : str
            Flagged set (``"top 10%"``, ``"High+"``...).

        Returns
        -------
        tuple of float
            Difference, lower and upper bound (NaN bounds without bootstrap draws).
        """
        cols = [*METRICS, "spearman"]
        if metric not in cols:
            raise ProfilerError(f"backtest: metric {metric!r}; use one of {', '.join(cols)}")
        rows = []
        for name in (ranking, other):
            hit = np.flatnonzero((self.table["ranking"] == name) & (self.table["set"] == set_))
            if hit.size != 1:
                raise ProfilerError(f"backtest: no row for ranking {name!r} and set {set_!r}; "
                                    "use names and sets from the table")
            rows.append(int(hit[0]))
        j = cols.index(metric)
        point = float(self.table[metric].iloc[rows[0]] - self.table[metric].iloc[rows[1]])
        if self.draws is None:
            return point, np.nan, np.nan
        d = self.draws[:, rows[0], j] - self.draws[:, rows[1], j]
        alpha = (1 - CONFIDENCE) / 2
        return point, float(np.nanquantile(d, alpha)), float(np.nanquantile(d, 1 - alpha))


def _point(rankings, y, sets, area, residents) -> list[dict]:
    rows = []
    for name, s in rankings.items():
        rho = spearman(s, y)
        for label, k in sets.items():
            rows.append({"ranking": name, "set": label, "k": k,
                         **set_metrics(s, y, k, area, residents), "spearman": rho})
    return rows


def backtest(
    rankings: Mapping[str, Sequence[float]],
    counts: Sequence[float],
    *,
    area: Sequence[float] | None = None,
    residents: Sequence[float] | None = None,
    high_count: int | None = None,
    top_shares: Sequence[float] = TOP_SHARES,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> BacktestResult:
    """Score several rankings of the same areas against later incident counts.

    Parameters
    ----------
    rankings : mapping of str to array-like
        Ranking name to score per area (higher = riskier), all aligned with ``counts``. A
        constant score is the random forecaster (its expected value); the counts themselves
        are the ceiling.
    counts : array-like
        Incidents per area in the test period.
    area : array-like, optional
        Land area per area (any unit) for PAI; the share of LSOAs is used when not given.
    residents : array-like, optional
        Residents per area for the resident index.
    high_count : int, optional
        Number of areas in the profile's High and Very High bands: adds a ``High+`` set of
        that many areas for every ranking, so each is judged on the same number of areas.
    top_shares : sequence of float
        Shares of areas flagged (default 5%, 10%, 20%).
    n_boot : int
        Paired bootstrap draws over areas (0 = no intervals).
    seed : int
        Bootstrap seed.

    Returns
    -------
    BacktestResult
    """
    y = _as_float(counts, "test counts")
    if (y < 0).any():
        raise ProfilerError("backtest: test counts must be non-negative incident counts")
    n = y.size
    if n < 2:
        raise ProfilerError(f"backtest: need at least 2 areas to rank, got {n}")
    if not rankings:
        raise ProfilerError("backtest: no rankings given; pass at least one score per area")
    ranks = {}
    for name, s in rankings.items():
        arr = _as_float(s, f"ranking {name!r}")
        if arr.size != n:
            raise ProfilerError(f"backtest: ranking {name!r} has {arr.size} values for {n} "
                                "areas; align every ranking with the test counts")
        ranks[name] = arr
    a = None if area is None else _as_float(area, "area")
    r = None if residents is None else _as_float(residents, "residents")
    for arr, name in ((a, "area"), (r, "residents")):
        if arr is not None and (arr.size != n or (arr < 0).any() or arr.sum() <= 0):
            raise ProfilerError(f"backtest: {name} must be {n} non-negative values, not all 0")
    if n_boot < 0:
        raise ProfilerError(f"backtest: n_boot must be >= 0, got {n_boot}")
    shares = {f"top {100 * p:g}%": p for p in top_shares}
    if any(not 0 < p <= 1 for p in shares.values()):
        raise ProfilerError(f"backtest: top shares must be in (0, 1], got {list(top_shares)}")
    fractions = dict(shares)
    if high_count is not None:
        if not 0 <= high_count <= n:
            raise ProfilerError(f"backtest: high_count {high_count} not in 0..{n}")
        fractions[HIGH_SET] = high_count / n
    sets = {label: p * n for label, p in fractions.items()}
    table = pd.DataFrame(_point(ranks, y, sets, a, r))
    cols = [*METRICS, "spearman"]
    if n_boot:
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, len(table), len(cols)))
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            rows = _point({k: v[idx] for k, v in ranks.items()}, y[idx],
                          sets, None if a is None else a[idx], None if r is None else r[idx])
            draws[b] = [[row[c] for c in cols] for row in rows]
        alpha = (1 - CONFIDENCE) / 2
        with warnings.catch_warnings():
            # A metric undefined in every draw (no residents given) stays NaN, silently.
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanquantile(draws, alpha, axis=0)
            hi = np.nanquantile(draws, 1 - alpha, axis=0)
    else:
        draws = None
        lo = hi = np.full((len(table), len(cols)), np.nan)
    for j, c in enumerate(cols):
        table[f"{c}_lo"] = lo[:, j]
        table[f"{c}_hi"] = hi[:, j]
    order = ["ranking", "set", "k"]
    for c in cols:
        order += [c, f"{c}_lo", f"{c}_hi"]
    return BacktestResult(table=table[order], pai_basis="land area" if a is not None
                          else "share of LSOAs", n_areas=n, n_incidents=int(y.sum()),
                          n_boot=n_boot, seed=seed, draws=draws)


def _fmt(value: float, lo: float, hi: float, pct: bool) -> str:
    if np.isnan(value):
        return "-"
    f = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.2f}")
    if np.isnan(lo):
        return f(value)
    return f"{f(value)} ({f(lo)}-{f(hi)})"


def to_markdown(result: BacktestResult, title: str | None = None) -> str:
    """Format the backtest table as Markdown: one row per ranking and set, intervals in brackets.

    Parameters
    ----------
    result : BacktestResult
    title : str, optional
        A heading line above the table.

    Returns
    -------
    str
    """
    t = result.table
    lines = [f"### {title}", ""] if title else []
    lines.append(
        f"{result.n_areas} LSOAs, {result.n_incidents:,} later incidents; PAI on "
        f"{result.pai_basis}; 95% intervals from {result.n_boot} paired bootstrap draws over "
        f"LSOAs (seed {result.seed}); Spearman over all LSOAs."
    )
    lines += ["", "| ranking | set | LSOAs | hit rate | PAI | PEI* | resident index | Spearman |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in t.itertuples(index=False):
        d = row._asdict()
        cells = [_fmt(d[m], d[f"{m}_lo"], d[f"{m}_hi"], m == "hit_rate")
                 for m in (*METRICS, "spearman")]
        lines.append(f"| {d['ranking']} | {d['set']} | {d['k']:.1f} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines) + "\n"


#: Rankings and sets kept in a backtest summary (the methodology page, district pages, exports).
SUMMARY_SETS = ("top 5%", "top 10%", "top 20%", "High+")


def summary_record(result: BacktestResult, meta: Mapping[str, object]) -> dict:
    """Summarise a backtest as plain data for ``backtests.json`` (all rows, the targets).

    Parameters
    ----------
    result : BacktestResult
    meta : mapping
        ``id``, ``label``, ``area``, windows and spec hash (kept as given).

    Returns
    -------
    dict
        ``meta`` plus ``n_areas``, ``n_incidents``, ``pai_basis``, ``rows`` (ranking, set, k,
        each metric with ``_lo``/``_hi``, rounded to 4 decimals), ``differences`` (profile minus
        previous counts in top-10% hit rate; minus the IoD2025 crime domain in Spearman; with
        intervals) and ``targets_met``.
    """
    t = result.table[result.table["set"].isin(SUMMARY_SETS)]
    rows = [{k: (round(float(v), 4) if isinstance(v, float | np.floating) else v)
             for k, v in row.items()} for row in t.to_dict(orient="records")]
    diffs = {}
    names = set(t["ranking"])
    for key, other, metric in (("top10_vs_previous_counts", "previous period counts",
                                "hit_rate"),
                               ("spearman_vs_crime_domain", "IoD2025 crime domain", "spearman")):
        if other in names:
            d, lo, hi = result.difference("profile", other, metric, "top 10%")
            diffs[key] = [round(d, 4), round(lo, 4), round(hi, 4)]
    met = {k: bool(v[0] >= 0) for k, v in diffs.items()}
    return {**meta, "n_areas": result.n_areas, "n_incidents": result.n_incidents,
            "pai_basis": result.pai_basis, "n_boot": result.n_boot, "seed": result.seed,
            "rows": rows, "differences": diffs, "targets_met": met}


# -- fitting a profile before the test months and scoring it after ---------------------------
def _month(text: str, what: str) -> str:
    import re

    text = str(text).strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ProfilerError(f"backtest: {what} {text!r} is not a month; write YYYY-MM like 2024-03")
    return text


def parse_months(text: str, what: str = "--test") -> tuple[str, ...]:
    """Months from ``"2024-01,2024-02"`` or a range ``"2024-01..2024-04"``, in order.

    Parameters
    ----------
    text : str
        Comma-separated months and/or ``start..end`` ranges.
    what : str
        Option name for the error message.

    Returns
    -------
    tuple of str
    """
    months: list[str] = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        start, sep, end = part.partition("..")
        if not sep:
            months.append(_month(part, what))
            continue
        a, b = pd.Period(_month(start, what), "M"), pd.Period(_month(end, what), "M")
        if b < a:
            raise ProfilerError(f"backtest: {what} range {part!r} ends before it starts")
        months += [str(p) for p in pd.period_range(a, b, freq="M")]
    if not months:
        raise ProfilerError(f"backtest: {what} names no months; write e.g. 2024-01..2024-04")
    return tuple(sorted(set(months)))


def check_windows(fit_before: str, test: Sequence[str], observed: Sequence[str] = ()) -> None:
    """Refuse windows that would let the profile see the test period.

    Every observed month must end before ``fit_before`` and every test month start at or after
    it (months compare as ``YYYY-MM`` text).

    Parameters
    ----------
    fit_before : str
        ``YYYY-MM``: the first month the fitted profile may not see.
    test, observed : sequence of str
        Test months and observed-indicator months.
    """
    cut = _month(fit_before, "--fit-before")
    late = [m for m in observed if m >= cut]
    if late:
        raise ProfilerError(f"backtest: observed month(s) {', '.join(late)} are not before "
                            f"--fit-before {cut}; use months before the test period")
    early = [m for m in test if m < cut]
    if early:
        raise ProfilerError(f"backtest: test month(s) {', '.join(early)} are before --fit-before "
                            f"{cut}; test only on months the profile has not seen")


def add_observed_columns(
    table: pd.DataFrame,
    spec,
    incidents: pd.DataFrame,
    months: Sequence[str],
    residents: pd.Series,
    crime_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Add the observed-violence columns a spec names (:data:`OBSERVED_COLUMNS`) to a table.

    Each is computed from the incidents of ``months`` per LSOA of ``table``, stabilised within
    the table's county (``utla_code``, or all rows if absent), so the whole reference of the
    profile must be in ``table`` and covered by ``incidents``. The covariate-EB columns take the
    table's IoD2025 indicators (``profiler.build.INDICATOR_COLUMNS``) as covariates.

    Parameters
    ----------
    table : DataFrame
        Indicator table rows (``lsoa21_code``; ``lad24_code`` for local EB).
    spec : Spec
    incidents : DataFrame
        ``month``, ``crime_type``, ``lsoa21_code``.
    months : sequence of str
        Observed months (all before the test months).
    residents : Series
        Residents per 2021 LSOA code.
    crime_types : sequence of str, optional
        Default: the four serious-violence types.

    Returns
    -------
    DataFrame
        A copy of ``table`` with the columns added (columns already present are replaced, so
        the table's own observed window is never used).
    """
    from profiler.observed import (
        COVARIATE_METHODS,
        OBSERVED_COLUMNS,
        SV_TYPES,
        count_incidents,
        observed_rate,
    )

    # Always recomputed: the shipped table's own observed columns are the force's latest months,
    # which may be the test period itself.
    needed = [ind.column for ind in spec.indicators if ind.column in OBSERVED_COLUMNS]
    out = table.copy()
    if not needed:
        return out
    if not months:
        raise ProfilerError(f"backtest: the spec needs {', '.join(needed)} but no --observed "
                            "months were given; pass e.g. --observed 2024-01..2024-02")
    codes = out["lsoa21_code"].to_numpy()
    pop = residents.reindex(codes)
    if pop.isna().any():
        raise ProfilerError(f"backtest: no residents for {pop[pop.isna()].index[:3].tolist()}; "
                            "check the population source covers the table's LSOAs")
    counts = count_incidents(incidents, codes, months,
                             SV_TYPES if crime_types is None else crime_types).to_numpy()
    groups = out["utla_code"].to_numpy() if "utla_code" in out.columns else np.zeros(len(out))
    lads = out["lad24_code"].to_numpy() if "lad24_code" in out.columns else groups
    covariates = None
    if any(OBSERVED_COLUMNS[c] in COVARIATE_METHODS for c in needed):
        from profiler.build import INDICATOR_COLUMNS

        covariates = out[list(INDICATOR_COLUMNS)].to_numpy(dtype=float)
    for col in needed:
        values = np.empty(len(out))
        for key in pd.unique(groups):
            w = groups == key
            values[w] = observed_rate(counts[w], pop.to_numpy()[w], OBSERVED_COLUMNS[col],
                                      groups=lads[w], months=len(months),
                                      covariates=None if covariates is None else covariates[w])
        out[col] = values
    return out


def profile_backtest(
    table: pd.DataFrame,
    spec,
    incidents: pd.DataFrame,
    *,
    fit_before: str,
    test_months: Sequence[str],
    observed_months: Sequence[str] = (),
    residents: pd.Series,
    area: pd.Series | None = None,
    baselines: pd.DataFrame | None = None,
    scope: str,
    crime_types: Sequence[str] | None = None,
    extra: Mapping[str, pd.Series] | None = None,
    variants: Mapping[str, object] | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> BacktestResult:
    """Fit a spec's profile before the test months and judge it, with baselines, afterwards.

    The static indicators (IoD2025) describe periods ending before 2024; the observed-violence
    indicators a spec names are computed only from ``observed_months``, all before
    ``fit_before``; the test counts only from ``test_months``, all at or after it.

    Parameters
    ----------
    table : DataFrame
        Indicator table covering the scope's whole reference (e.g. the whole county for a
        district scored against its county).
    spec : Spec
    incidents : DataFrame
        Records with ``month``, ``crime_type``, ``lsoa21_code`` covering the reference.
    fit_before : str
        ``YYYY-MM``.
    test_months, observed_months : sequence of str
        See :func:`check_windows`; the previous-period baseline counts ``observed_months``.
    residents : Series
        Residents per 2021 LSOA.
    area : Series, optional
        Land area per 2021 LSOA (PAI on LSOA shares when not given).
    baselines : DataFrame, optional
        Indexed by 2021 LSOA: ``IMD_score`` and ``Crime_score`` (IoD2025).
    scope : str
        Areas judged (see :func:`profiler.pipeline.select_scope`).
    crime_types : sequence of str, optional
        police.uk types counted, default the four serious-violence types.
    extra : mapping of str to Series, optional
        More rankings to judge, indexed by 2021 LSOA.
    variants : mapping of str to Spec, optional
        Other specs fitted and judged the same way (e.g. the crime indicators alone).
    n_boot, seed : int
        Bootstrap draws and seed.

    Returns
    -------
    BacktestResult
        Rankings: ``profile``, any ``variants``, ``IMD 2025``, ``IoD2025 crime domain``,
        ``previous period counts`` and ``observed EB rate alone`` (when observed months are
        given), any ``extra``, ``random (expected)`` and ``ceiling (test counts)``.
        :attr:`BacktestResult.areas` holds one row per LSOA: ``score``, ``band``,
        ``test_incidents`` and, with observed months, ``observed_incidents``,
        ``observed_eb_per_1000``, ``static_risk_score``, ``static_risk_band`` (the spec
        without observed-violence indicators) and ``quadrant`` (static risk High+ vs the top
        quintile of the observed EB rate; see :func:`profiler.observed.quadrants`).
    """
    from profiler.observed import SV_TYPES, count_incidents, quadrants
    from profiler.pipeline import select_scope

    types = SV_TYPES if crime_types is None else tuple(crime_types)
    test_months, observed_months = tuple(test_months), tuple(observed_months)
    check_windows(fit_before, test_months, observed_months)
    codes = sorted(select_scope(table, scope)["lsoa21_code"])
    score = functools.partial(_score_spec, table, scope=scope, incidents=incidents,
                              months=observed_months, residents=residents, types=types,
                              codes=codes)
    y = count_incidents(incidents, codes, test_months, types).to_numpy()
    if y.sum() == 0:
        raise ProfilerError(f"backtest: no {', '.join(types)} incidents in {scope} in "
                            f"{', '.join(test_months)}; check the incident months and LSOAs")
    _check_coverage(table, codes, incidents, test_months, types, scope)
    scored = score(spec)
    rankings: dict[str, np.ndarray] = {"profile": scored["score"].to_numpy()}
    for name, other in (variants or {}).items():
        rankings[name] = score(other)["score"].to_numpy()
    if baselines is not None:
        b = baselines.reindex(codes)
        for col, name in (("IMD_score", "IMD 2025"), ("Crime_score", "IoD2025 crime domain")):
            if col in b.columns and b[col].notna().all():
                rankings[name] = b[col].to_numpy()
    areas = pd.DataFrame({"lsoa21_code": codes, "score": scored["score"].to_numpy(),
                          "band": scored["band"].to_numpy(), "test_incidents": y})
    if observed_months:
        prev = count_incidents(incidents, codes, observed_months, types).to_numpy()
        rankings["previous period counts"] = prev.astype(float)
        eb = _observed_eb(table, scope, incidents, observed_months, residents, types, codes)
        rankings["observed EB rate alone"] = eb
        # Risk vs observed: the static risk (the spec without its observed-violence
        # indicators, so the comparison is not circular) against recent EB violence.
        static = _static_spec(spec)
        risk = scored if static is spec else score(static)
        areas["observed_incidents"] = prev
        areas["observed_eb_per_1000"] = eb
        areas["static_risk_score"] = risk["score"].to_numpy()
        areas["static_risk_band"] = risk["band"].to_numpy()
        areas["quadrant"] = np.asarray(quadrants(
            risk["score"].to_numpy(), eb,
            risk_high=risk["band"].isin(["High", "Very High"]).to_numpy()))
    for name, series in (extra or {}).items():
        rankings[name] = series.reindex(codes).to_numpy(dtype=float)
    rankings["random (expected)"] = np.zeros(len(codes))
    rankings["ceiling (test counts)"] = y.astype(float)
    high = int(scored["band"].isin(["High", "Very High"]).sum())
    pop = residents.reindex(codes).to_numpy(dtype=float)
    result = backtest(rankings, y, area=None if area is None else area.reindex(codes).to_numpy(),
                      residents=pop, high_count=high, n_boot=n_boot, seed=seed)
    return dataclasses.replace(result, areas=areas)


def _check_coverage(table, codes, incidents, months, types, scope) -> None:
    """Refuse a scope whose districts the incidents do not cover (counts would read as 0)."""
    from profiler.observed import count_incidents

    if "lad24_code" not in table.columns:
        return
    lad = table.set_index("lsoa21_code")["lad24_code"].reindex(codes)
    counts = count_incidents(incidents, codes, months, types)
    per_lad = counts.groupby(lad.to_numpy()).sum()
    empty = per_lad.index[per_lad.to_numpy() == 0].tolist()
    if empty:
        raise ProfilerError(
            f"backtest: incidents cover {len(per_lad) - len(empty)} of {len(per_lad)} districts "
            f"of {scope!r} (none in {', '.join(map(str, empty[:3]))}); pass --incidents for the "
            "whole area or narrow --area to the covered force"
        )


def _reference_rows(table: pd.DataFrame, spec, scope: str) -> pd.DataFrame:
    from profiler.pipeline import select_scope

    if spec.profile.reference == "england":
        raise ProfilerError("backtest: reference 'england' needs incidents for all England; use a "
                            "spec with reference = \"county\" or \"district\"")
    group = "utla_code" if spec.profile.reference == "county" else "lad24_code"
    return table[table[group].isin(set(select_scope(table, scope)[group]))]


def _score_spec(table, spec, *, scope, incidents, months, residents, types, codes):
    from profiler.pipeline import score_scope

    ref = add_observed_columns(_reference_rows(table, spec, scope), spec, incidents, months,
                               residents, types)
    return score_scope(ref, spec, scope=scope).set_index("lsoa21_code").loc[codes]


def _observed_eb(table, scope, incidents, months, residents, types, codes) -> np.ndarray:
    from profiler.observed import count_incidents, observed_rate
    from profiler.pipeline import select_scope

    ref = table[table["utla_code"].isin(set(select_scope(table, scope)["utla_code"]))]
    ref_codes = ref["lsoa21_code"].to_numpy()
    counts = count_incidents(incidents, ref_codes, months, types).to_numpy()
    eb = observed_rate(counts, residents.reindex(ref_codes).to_numpy(dtype=float), "eb_global",
                       months=len(months))
    return pd.Series(eb, index=ref_codes).loc[codes].to_numpy()


def _static_spec(spec):
    from profiler.observed import OBSERVED_COLUMNS

    keep = tuple(i for i in spec.indicators if i.column not in OBSERVED_COLUMNS)
    return spec if len(keep) == len(spec.indicators) else dataclasses.replace(spec,
                                                                             indicators=keep)


def flat_within(table: pd.DataFrame, spec, by: str = "lad24_code") -> pd.DataFrame:
    """Find the indicators that do not vary within a group (e.g. one value per district).

    Such an indicator lifts or lowers every LSOA of a group alike: it cannot say which
    neighbourhoods of a district to prioritise, only which district.

    Parameters
    ----------
    table : DataFrame
        Indicator table with the spec's columns and ``by``.
    spec : Spec
    by : str
        Grouping column.

    Returns
    -------
    DataFrame
        One row per indicator: ``id``, ``column``, ``groups`` (groups of two or more LSOAs),
        ``groups_flat`` (those in which every LSOA has the same value), ``within_share``
        (within-group share of the variance, 0 when flat everywhere; NaN for a constant
        column) and ``flat`` (flat in every group).
    """
    if by not in table.columns:
        raise ProfilerError(f"flat_within: no column {by!r} in the table; group by lad24_code "
                            "or another column of the table")
    rows = []
    for ind in spec.indicators:
        if ind.column not in table.columns:
            raise ProfilerError(f"flat_within: table has no column {ind.column} (indicator "
                                f"{ind.id}); add it or fix the spec")
        v = pd.to_numeric(table[ind.column], errors="coerce").astype(float)
        g = v.groupby(table[by].to_numpy())
        # A one-LSOA group is trivially flat: only groups of two or more LSOAs are judged.
        flat = ((g.max() - g.min()).fillna(0) == 0)[g.size() >= 2]
        total = float(((v - v.mean()) ** 2).sum())
        within = float(((v - g.transform("mean")) ** 2).sum())
        rows.append({"id": ind.id, "column": ind.column, "groups": int(flat.size),
                     "groups_flat": int(flat.sum()),
                     "within_share": within / total if total > 0 else np.nan,
                     "flat": bool(flat.all())})
    return pd.DataFrame(rows)
