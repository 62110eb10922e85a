"""Judging a ranking of areas against the incidents of a later period (pure).

Crime-forecasting practice scores a ranking by the incidents that happen *afterwards* in the
areas it flags (DOMAIN.md, "How a risk profile is judged against what happened"):

- **hit rate**: share of the later incidents that fall in the flagged areas;
- **PAI** (Chainey's Predictive Accuracy Index): hit rate over the share of *land area*
  flagged (the share of LSOAs when no areas are given: :attr:`BacktestResult` says which);
- **PEI\\***: hit rate over the best hit rate any choice of the same number of areas could
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
    """

    table: pd.DataFrame
    pai_basis: str
    n_areas: int
    n_incidents: int
    n_boot: int
    seed: int


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
        with np.errstate(all="ignore"):
            lo = np.nanquantile(draws, alpha, axis=0)
            hi = np.nanquantile(draws, 1 - alpha, axis=0)
    else:
        lo = hi = np.full((len(table), len(cols)), np.nan)
    for j, c in enumerate(cols):
        table[f"{c}_lo"] = lo[:, j]
        table[f"{c}_hi"] = hi[:, j]
    order = ["ranking", "set", "k"]
    for c in cols:
        order += [c, f"{c}_lo", f"{c}_hi"]
    return BacktestResult(table=table[order], pai_basis="land area" if a is not None
                          else "share of LSOAs", n_areas=n, n_incidents=int(y.sum()),
                          n_boot=n_boot, seed=seed)


def _fmt(value: float, lo: float, hi: float, pct: bool) -> str:
    if np.isnan(value):
        return "-"
    f = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.2f}")
    if np.isnan(lo):
        return f(value)
    return f"{f(value)} ({f(lo)}-{f(hi)})"


def to_markdown(result: BacktestResult, title: str | None = None) -> str:
    """The backtest table as Markdown: one row per ranking and set, intervals in brackets.

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
