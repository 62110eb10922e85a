"""Band stability: how sure can a meeting be that an area is High or Very High.

A Monte Carlo uncertainty analysis over the analyst's choices, in the spirit of the OECD/JRC
handbook on composite indicators: each draw perturbs the weights (a Dirichlet draw centred on the
spec's weights), picks a normalisation and a banding scheme, and may leave one indicator out. The
result per area is the probability of being banded High or above, the modal band, and an interval
of ranks; per indicator, how much leaving it out moves the ranking.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from profiler.engine import BANDS, RiskProfiler, assign_bands, fit_band_cuts, weighted_scores
from profiler.errors import ProfilerError
from profiler.spec import BANDINGS, NORMALISATIONS, Spec

HIGH = BANDS.index("High")


@dataclass(frozen=True)
class StabilitySettings:
    """What varies between draws.

    Parameters
    ----------
    draws : int
        Number of Monte Carlo draws (>= 1).
    concentration : float
        Dirichlet concentration: weights are drawn from Dirichlet(concentration x spec share);
        larger means closer to the spec's weights. ``inf`` keeps the spec's weights.
    normalisations : sequence of str
        Normalisations drawn from uniformly.
    bandings : sequence of str
        Banding schemes drawn from uniformly.
    exclusion_rate : float
        Probability that a draw leaves out one indicator (chosen uniformly).
    seed : int
        Random seed: the same settings give the same result.
    """

    draws: int = 1000
    concentration: float = 50.0
    normalisations: Sequence[str] = NORMALISATIONS
    bandings: Sequence[str] = BANDINGS
    exclusion_rate: float = 0.5
    seed: int = 2025

    def validate(self) -> None:
        """Raise ProfilerError on settings out of range."""
        if self.draws < 1:
            raise ProfilerError(f"stability: draws must be >= 1, got {self.draws}")
        if not self.concentration > 0:
            raise ProfilerError(
                f"stability: concentration must be > 0, got {self.concentration}"
            )
        if not 0 <= self.exclusion_rate <= 1:
            raise ProfilerError(
                f"stability: exclusion_rate must be in [0, 1], got {self.exclusion_rate}"
            )
        for name, values, allowed in (
            ("normalisations", self.normalisations, NORMALISATIONS),
            ("bandings", self.bandings, BANDINGS),
        ):
            bad = [v for v in values if v not in allowed]
            if bad or not values:
                raise ProfilerError(
                    f"stability: {name}: got {list(values)!r}; use a non-empty subset of "
                    f"{', '.join(allowed)}"
                )


def _rank_desc(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest per column (ties broken by position)."""
    order = np.argsort(-scores, axis=0, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    np.put_along_axis(ranks, order, rows + 1, axis=0)
    del rows
    return ranks


def stability_key(spec: Spec, settings: StabilitySettings | None = None) -> str:
    """Hash everything :func:`area_stability` depends on, to cache its result.

    The spec's normalisation and banding are left out (each draw picks them from
    ``settings``), and the weights enter as shares of their total (scaling every weight leaves
    the analysis unchanged), so what-if settings that cannot change the result share a key.

    Parameters
    ----------
    spec : Spec
        The spec (with any what-if weights and profile settings).
    settings : StabilitySettings, optional
        Defaults to :class:`StabilitySettings`'s defaults.

    Returns
    -------
    str
        Hex SHA-256.
    """
    settings = settings or StabilitySettings()
    data = spec.to_dict()
    for name in ("normalisation", "banding", "name"):
        data["profile"].pop(name, None)
    total = sum(ind.weight for ind in spec.indicators) or 1.0
    for ind in data["indicator"]:
        ind["weight"] = round(ind["weight"] / total, 12)
    data["settings"] = {k: list(v) if isinstance(v, tuple | list) else v
                        for k, v in asdict(settings).items()}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def band_stability(
    table: pd.DataFrame,
    spec: Spec,
    settings: StabilitySettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the Monte Carlo band-stability analysis on one reference population.

    :func:`area_stability` and :func:`indicator_sensitivity` together; see them for the
    parameters.

    Returns
    -------
    areas : DataFrame
        See :func:`area_stability`.
    indicators : DataFrame
        See :func:`indicator_sensitivity`.
    """
    return area_stability(table, spec, settings, progress), indicator_sensitivity(table, spec)


def area_stability(
    table: pd.DataFrame,
    spec: Spec,
    settings: StabilitySettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Monte Carlo band stability per area on one reference population.

    Parameters
    ----------
    table : DataFrame
        The reference areas (e.g. a county's LSOAs, or all England), with ``lsoa21_code``
        and the spec's indicator columns. Every area is scored against this population.
    spec : Spec
        The indicator spec; its weights are the centre of the weight draws.
    settings : StabilitySettings, optional
        What varies; defaults to 1,000 draws over every normalisation and banding scheme.
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk of draws (about 20 chunks).

    Returns
    -------
    DataFrame
        One row per area: ``lsoa21_code``, ``p_high`` (share of draws banded High or Very
        High), ``modal_band``, ``p_modal`` (share of draws in the modal band), ``rank_p05``,
        ``rank_median``, ``rank_p95`` (rank 1 = highest).
    """
    settings = settings or StabilitySettings()
    settings.validate()
    rng = np.random.default_rng(settings.seed)
    n, k = len(table), len(spec.indicators)
    base_w = np.array([ind.weight for ind in spec.indicators], dtype=float)
    share = base_w / base_w.sum()

    # Normalised matrices, one per normalisation, fitted once on the reference.
    z_by_norm = {}
    for norm in settings.normalisations:
        model = RiskProfiler(spec, normalisation=norm, banding="stddev").fit(table)
        z_by_norm[norm] = model._normalise(model._raw(table, fitting=False))

    d = settings.draws
    norm_pick = rng.integers(0, len(settings.normalisations), size=d)
    band_pick = rng.integers(0, len(settings.bandings), size=d)
    if np.isinf(settings.concentration):
        weights = np.tile(share, (d, 1))
    else:
        weights = rng.dirichlet(np.maximum(share * settings.concentration, 1e-6), size=d)
    drop = rng.random(d) < settings.exclusion_rate
    dropped = rng.integers(0, k, size=d)
    if k > 1:
        weights[drop, dropped[drop]] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)

    band_counts = np.zeros((n, len(BANDS)), dtype=np.int32)
    ranks_all = np.empty((n, d), dtype=np.int32)
    fixed = spec.profile.fixed_thresholds or (-1.0, -0.5, 0.5, 1.0)
    # Chunks bound the memory of the score matrix and give ~20 progress reports; draws are
    # independent, so the chunking does not change the result.
    chunk = max(1, min(d, 4_000_000 // max(n, 1), -(-d // 20)))
    for start in range(0, d, chunk):
        stop = min(d, start + chunk)
        scores = np.empty((n, stop - start))
        for i, draw in enumerate(range(start, stop)):
            z = z_by_norm[settings.normalisations[norm_pick[draw]]]
            scores[:, i] = weighted_scores(z, weights[draw])
        scores = np.round(scores, 10)
        for i, draw in enumerate(range(start, stop)):
            scheme = settings.bandings[band_pick[draw]]
            cuts = fit_band_cuts(scores[:, i], scheme, fixed)
            bands = assign_bands(scores[:, i], cuts)
            band_counts[np.arange(n), bands] += 1
        ranks_all[:, start:stop] = _rank_desc(scores)
        if progress is not None:
            progress(stop, d)

    modal = band_counts.argmax(axis=1)
    areas = pd.DataFrame(
        {
            "lsoa21_code": table["lsoa21_code"].to_numpy(),
            "p_high": band_counts[:, HIGH:].sum(axis=1) / d,
            "modal_band": np.asarray(BANDS, dtype=object)[modal],
            "p_modal": band_counts[np.arange(n), modal] / d,
            "rank_p05": np.percentile(ranks_all, 5, axis=1, method="lower"),
            "rank_median": np.median(ranks_all, axis=1),
            "rank_p95": np.percentile(ranks_all, 95, axis=1, method="higher"),
        }
    )
    return areas


def indicator_sensitivity(table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Leave each indicator out in turn (spec settings otherwise) and measure what moves.

    Parameters
    ----------
    table : DataFrame
        Reference areas.
    spec : Spec

    Returns
    -------
    DataFrame
        ``id``, ``label``, ``mean_abs_rank_shift``, ``bands_changed``, sorted with the most
        influential indicator first.
    """
    model = RiskProfiler(spec).fit(table)
    base = model.transform(table)
    base_rank = _rank_desc(base["score"].to_numpy()[:, None])[:, 0]
    rows = []
    for ind in spec.indicators:
        if len(spec.indicators) == 1:
            rows.append((ind.id, ind.label, 0.0, 0))
            continue
        out = RiskProfiler(spec.with_weights({ind.id: 0.0})).fit_transform(table)
        rank = _rank_desc(out["score"].to_numpy()[:, None])[:, 0]
        rows.append(
            (
                ind.id,
                ind.label,
                float(np.abs(rank - base_rank).mean()),
                int((out["band"].to_numpy() != base["band"].to_numpy()).sum()),
            )
        )
    result = pd.DataFrame(rows, columns=["id", "label", "mean_abs_rank_shift", "bands_changed"])
    return result.sort_values("mean_abs_rank_shift", ascending=False, kind="stable").reset_index(
        drop=True
    )
