"""The scoring engine: normalise, weight and band indicators against a reference population.

:class:`RiskProfiler` follows scikit-learn's estimator API: ``__init__`` only stores parameters,
``fit`` learns everything from a reference population (state names end in ``_``), and
``transform`` applies it to any subset, so a district view stays comparable with its county or
with England.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from profiler.errors import ProfilerError
from profiler.spec import BANDINGS, MISSING_POLICIES, NORMALISATIONS, Spec

BANDS: tuple[str, ...] = ("Very Low", "Low", "Medium", "High", "Very High")
THEMES: tuple[str, ...] = ("knife", "domestic", "public_place")
THEME_LABELS: dict[str, str] = {
    "knife": "Knife crime",
    "domestic": "Domestic violence",
    "public_place": "Public-place violence",
}
STDDEV_MULTIPLES = (-2.0, -1.0, 1.0, 2.0)
# Scores are rounded to this many decimals before banding, so that mathematically equal scores
# (e.g. after scaling every weight, or reordering rows) band identically despite float noise.
SCORE_DECIMALS = 10
# Fisher-Jenks is O(n^2 k); above this size it runs on evenly spaced order statistics instead.
JENKS_SAMPLE = 2000
# The IoD exponential transformation: X = -23 ln(1 - R (1 - exp(-100/23))), R in (0, 1].
_EXP_CONST = 1.0 - np.exp(-100.0 / 23.0)


def fit_band_cuts(
    values: np.ndarray,
    scheme: str,
    fixed_thresholds: Sequence[float] | None = None,
) -> np.ndarray:
    """Learn four upper-inclusive cut points splitting values into the five bands.

    Parameters
    ----------
    values : ndarray of float
        Reference values (no NaN).
    scheme : {"stddev", "quantile", "natural_breaks", "fixed"}
        ``stddev``: mean -2, -1, +1, +2 standard deviations (mapclassify ``StdMean``);
        ``quantile``: quintiles (``Quantiles``); ``natural_breaks``: Fisher-Jenks
        (``FisherJenks``, on at most 2,000 evenly spaced order statistics); ``fixed``: the
        given thresholds (``UserDefined``).
    fixed_thresholds : sequence of 4 floats, optional
        Needed for ``fixed``.

    Returns
    -------
    ndarray of shape (4,)
        Non-decreasing cut points; a value ``v`` falls in band ``searchsorted(cuts, v, 'left')``.
    """
    if scheme not in BANDINGS:
        raise ProfilerError(f"banding: got {scheme!r}; use one of {', '.join(BANDINGS)}")
    y = np.asarray(values, dtype=float)
    if scheme == "fixed":
        if fixed_thresholds is None or len(fixed_thresholds) != 4:
            raise ProfilerError(
                "banding 'fixed' needs four thresholds: set [profile] fixed_thresholds"
            )
        return np.round(np.asarray(fixed_thresholds, dtype=float), SCORE_DECIMALS)
    if y.size == 0 or y.min() == y.max():
        # No spread in the reference: nobody stands out, so every area is Medium.
        return np.array([-np.inf, -np.inf, np.inf, np.inf])
    with warnings.catch_warnings():
        # mapclassify warns when ties leave fewer than 5 classes; handled below.
        warnings.simplefilter("ignore", UserWarning)
        if scheme == "stddev":
            # mapclassify.StdMean's cut points (mean + multiples x sample std, ddof=1), computed
            # directly: building the classifier also computes fit statistics we do not use,
            # which costs ~10 ms per call at England scale (17 calls per fit).
            cuts = y.mean() + y.std(ddof=1) * np.asarray(STDDEV_MULTIPLES)
        elif scheme == "quantile":
            import mapclassify as mc  # only here: it pulls in numba (~140 MB)

            bins = mc.classifiers.quantile(y, k=5)
            cuts = (
                np.asarray(bins[:4], dtype=float)
                if len(bins) == 5
                else np.quantile(y, [0.2, 0.4, 0.6, 0.8])
            )
        else:
            sample = (
                np.quantile(y, np.linspace(0.0, 1.0, JENKS_SAMPLE)) if y.size > JENKS_SAMPLE else y
            )
            k = min(5, np.unique(sample).size)
            import mapclassify as mc

            bins = np.asarray(mc.FisherJenks(sample, k=k).bins, dtype=float)
            cuts = bins[:-1]
            if cuts.size < 4:
                # Fewer distinct values than bands: the top classes stay empty.
                cuts = np.concatenate([cuts, np.full(4 - cuts.size, np.inf)])
    return np.round(cuts, SCORE_DECIMALS)


def assign_bands(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Band index 0 (Very Low) to 4 (Very High) for each value, cut points upper-inclusive.

    The count of cut points below each value: ``np.searchsorted(cuts, v, side="left")`` for
    non-decreasing cuts, a blank last as there, and about 10x faster with 4 cuts (a binary
    search per value costs more than four comparisons; 18 band columns per England fit).
    """
    v = np.round(np.asarray(values, dtype=float), SCORE_DECIMALS)  # a Series too
    codes = np.zeros(v.shape, dtype=np.int8)
    for cut in np.asarray(cuts, dtype=float):
        codes += v > cut
    blank = np.isnan(v)
    if blank.any():
        codes[blank] = len(cuts)
    return codes


BAND_DTYPE = pd.CategoricalDtype(list(BANDS), ordered=True)


def _bands(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Like :func:`assign_bands`, with -1 (no band) for a blank value."""
    codes = assign_bands(values, cuts)
    blank = np.isnan(values)
    if blank.any():
        codes[blank] = -1
    return codes


def band_labels(index: np.ndarray) -> pd.Categorical:
    """Map band indices 0..4 to their labels, as an ordered categorical (Very Low < Very High).

    A categorical keeps the indices as ``int8`` codes: building it costs nothing, where an
    object array of 33,755 strings costs pandas a string conversion per column.
    """
    return pd.Categorical.from_codes(np.asarray(index, dtype=np.int8), dtype=BAND_DTYPE)


def band_index(bands) -> np.ndarray:
    """Band labels (categorical or strings) to indices 0 (Very Low) .. 4 (Very High), -1 none."""
    dtype = getattr(bands, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == list(BANDS):
        return np.asarray(getattr(bands, "cat", bands).codes, dtype=np.int64)
    lookup = {b: i for i, b in enumerate(BANDS)}
    return np.array([lookup.get(b, -1) for b in bands], dtype=np.int64)


def _ignoring_blanks(stat, x: np.ndarray, gappy: np.ndarray) -> np.ndarray:
    """``stat(x, axis=0)`` leaving blanks out: its NaN-aware twin's figures, to the last bit.

    ``stat`` is an order statistic: np.median, np.min, np.max or a np.quantile. Complete
    columns are reduced together; a column with a blank (``gappy``) on its values alone, NaN if
    it has none. An order statistic of a column depends on that column's values only, so the
    figures equal ``np.nanmedian(x, axis=0)`` and the rest (tests/unit/test_engine.py eng016
    checks it); only the cost differs. England's table has blanks in two columns (the police.uk
    indicators, blank outside the imported forces): ``np.nanmedian`` on all 13 costs ~1.4x
    ``np.median``, and on a county's few hundred rows it goes through masked arrays, ~0.5 ms a
    call. Not for sums (mean, std): numpy's blocked summation of a column depends on how many
    columns the array has, so its last bits, and a band cut, could change.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a reference with no rows
        if not gappy.any():
            return stat(x, axis=0)
        out = np.full(x.shape[1], np.nan)
        if not gappy.all():
            out[~gappy] = stat(x[:, ~gappy], axis=0)
        for j in np.flatnonzero(gappy):
            values = x[:, j][~np.isnan(x[:, j])]
            if values.size:
                out[j] = stat(values)
        return out


def _weighted_mean(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mean of each row, rounded.

    A NaN (an optional indicator without data) is left out and the row's weights renormalised
    over the values it has.
    """
    avail = ~np.isnan(z)
    if avail.all():
        total = w.sum()
        if total <= 0:
            w = np.ones_like(w)
            total = w.sum()
        return np.round(z @ (w / total), SCORE_DECIMALS)
    return np.round(_row_weighted(z, w, avail), SCORE_DECIMALS)


def _row_shares(w: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """Per-row weight shares over the available values (equal shares if their weights are 0)."""
    W = np.where(avail, w, 0.0)
    total = W.sum(axis=1)
    zero = total <= 0
    if zero.any():
        W[zero] = avail[zero]
        total = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return W / total[:, None]


def _row_weighted(z: np.ndarray, w: np.ndarray, avail: np.ndarray) -> np.ndarray:
    share = _row_shares(w, avail)
    out = (np.where(avail, z, 0.0) * share).sum(axis=1)
    return np.where(avail.any(axis=1), out, np.nan)


def weighted_scores(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scores for one or more weight vectors (columns of ``weights``), NaN-aware like the engine.

    Parameters
    ----------
    z : ndarray (n, k)
        Normalised values; NaN where an optional indicator has no data.
    weights : ndarray (k,) or (k, d)
        Weight vectors summing to 1.

    Returns
    -------
    ndarray (n,) or (n, d)
    """
    avail = ~np.isnan(z)
    if avail.all():
        return z @ weights
    filled = np.where(avail, z, 0.0)
    return (filled @ weights) / (avail.astype(float) @ weights)


def _mid_rank_fraction(sorted_ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fraction of the reference below x, counting ties as half: in [0, 1], non-decreasing."""
    if sorted_ref.size == 0:  # an optional indicator without data in the reference
        return np.full(np.shape(x), np.nan)
    lo = np.searchsorted(sorted_ref, x, side="left")
    hi = np.searchsorted(sorted_ref, x, side="right")
    return (lo + hi) / (2.0 * sorted_ref.size)


class RiskProfiler(TransformerMixin, BaseEstimator):
    """Composite risk score and five-level bands per LSOA, fitted on a reference population.

    Parameters
    ----------
    spec : Spec
        The indicator spec (indicators, weights, directions, themes and default settings).
    normalisation : {"zscore", "minmax", "rank", "exponential"}, optional
        Overrides ``spec.profile.normalisation``. ``zscore`` standardises with the reference
        mean and standard deviation; ``minmax`` scales the reference range to 0-1; ``rank`` is
        the reference percentile (0-1); ``exponential`` is the English Indices of Deprivation
        transformation of the rank (0-100, stretching the riskiest tail).
    banding : {"stddev", "quantile", "natural_breaks", "fixed"}, optional
        Overrides ``spec.profile.banding``.
    cap : float, optional
        Winsorise raw values at the reference ``cap`` and ``1 - cap`` quantiles before
        normalising (0 = off). Overrides ``spec.profile.cap``.
    missing : {"error", "median"}, optional
        Blank indicator values: refuse them, or fill with the reference median.

    Attributes
    ----------
    indicator_ids_ : list of str
        Indicator ids, in spec order.
    weights_ : ndarray
        Indicator weights.
    cap_low_, cap_high_ : ndarray
        Winsorising bounds per indicator (``-inf``/``inf`` when capping is off).
    center_, scale_ : ndarray
        Location and scale per indicator (``zscore``: mean/std; ``minmax``: min/range).
    reference_sorted_ : list of ndarray
        Sorted capped reference values per indicator (``rank``/``exponential``).
    median_ : ndarray
        Reference median per indicator (used by ``missing="median"``).
    reference_mean_ : ndarray
        Reference mean of the raw values, for charts.
    score_cuts_ : ndarray
        Band cut points of the composite score.
    theme_cuts_ : dict of str to ndarray
        Band cut points per theme (themes with at least one indicator).
    indicator_cuts_ : dict of str to ndarray
        Band cut points per indicator, on its normalised value.
    n_reference_ : int
        Number of reference areas.
    """

    def __init__(
        self,
        spec: Spec,
        normalisation: str | None = None,
        banding: str | None = None,
        cap: float | None = None,
        missing: str | None = None,
    ):
        self.spec = spec
        self.normalisation = normalisation
        self.banding = banding
        self.cap = cap
        self.missing = missing

    # -- settings -------------------------------------------------------------------------
    def _settings(self) -> tuple[str, str, float, str]:
        prof = self.spec.profile
        norm = self.normalisation or prof.normalisation
        band = self.banding or prof.banding
        cap = prof.cap if self.cap is None else self.cap
        missing = self.missing or prof.missing
        if norm not in NORMALISATIONS:
            raise ProfilerError(
                f"normalisation: got {norm!r}; use one of {', '.join(NORMALISATIONS)}"
            )
        if band not in BANDINGS:
            raise ProfilerError(f"banding: got {band!r}; use one of {', '.join(BANDINGS)}")
        if band == "fixed" and prof.fixed_thresholds is None:
            raise ProfilerError(
                f"{self.spec.source}: [profile] fixed_thresholds: banding 'fixed' needs four "
                "thresholds"
            )
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 <= cap < 0.5:
            raise ProfilerError(f"cap: got {cap!r}; use a quantile in [0, 0.5)")
        if missing not in MISSING_POLICIES:
            raise ProfilerError(
                f"missing: got {missing!r}; use one of {', '.join(MISSING_POLICIES)}"
            )
        return norm, band, float(cap), missing

    def _optional(self) -> np.ndarray:
        """Flag, per indicator, whether it may be blank (``requires`` data not every area has)."""
        return np.array([ind.optional for ind in self.spec.indicators], dtype=bool)

    def unavailable(self) -> list[str]:
        """Ids of optional indicators with no value in the reference (left out of every score)."""
        check_is_fitted(self, "available_")
        return [i for i, ok in zip(self.indicator_ids_, self.available_, strict=True) if not ok]

    # -- raw values -----------------------------------------------------------------------
    def _raw(self, X: pd.DataFrame, *, fitting: bool) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise ProfilerError(
                f"RiskProfiler expects a pandas DataFrame, got {type(X).__name__}"
            )
        cols = [ind.column for ind in self.spec.indicators]
        absent = [c for c in cols if c not in X.columns]
        if absent:
            raise ProfilerError(
                f"indicator table: missing column(s) {', '.join(absent[:5])} named in "
                f"{self.spec.source}; add them to the table or fix `column =` in the spec"
            )
        if len(X) == 0:
            raise ProfilerError("indicator table: no rows to score; check the scope filter")
        ids = X["lsoa21_code"] if "lsoa21_code" in X.columns else pd.Series(X.index, index=X.index)
        out = np.empty((len(X), len(cols)), dtype=float)
        for j, col in enumerate(cols):
            series = X[col]
            if pd.api.types.is_float_dtype(series.dtype):
                out[:, j] = series.to_numpy(dtype=float, na_value=np.nan)
                if np.isinf(out[:, j]).any():
                    inf = np.isinf(out[:, j])
                    raise ProfilerError(
                        f"indicator table: column {col}: infinite value(s) at "
                        f"{', '.join(map(str, ids[inf][:3]))}; replace them with finite numbers"
                    )
                continue
            numeric = pd.to_numeric(series, errors="coerce")
            bad = numeric.isna() & series.notna()
            if bad.any():
                pairs = zip(ids[bad][:3], series[bad][:3], strict=False)
                shown = ", ".join(f"{code}={val!r}" for code, val in pairs)
                raise ProfilerError(
                    f"indicator table: column {col}: {int(bad.sum())} non-numeric value(s), "
                    f"first {shown}; use plain numbers (no thousands separators or text)"
                )
            values = numeric.to_numpy(dtype=float)
            inf = np.isinf(values)
            if inf.any():
                raise ProfilerError(
                    f"indicator table: column {col}: infinite value(s) at "
                    f"{', '.join(map(str, ids[inf][:3]))}; replace them with finite numbers"
                )
            out[:, j] = values
        nan = np.isnan(out) & ~self._optional()
        if nan.any():
            _, _, _, missing = self._settings()
            j = int(np.flatnonzero(nan.any(axis=0))[0])
            if missing == "error" or (fitting and nan.all(axis=0).any()):
                rows = nan[:, j]
                raise ProfilerError(
                    f"indicator table: column {cols[j]}: {int(rows.sum())} blank value(s), first "
                    f"{', '.join(map(str, ids[rows][:3]))}; fill them, or set [profile] missing = "
                    "\"median\" in the spec to impute the reference median"
                )
        return out

    # -- normalisation --------------------------------------------------------------------
    def _normalise(self, raw: np.ndarray) -> np.ndarray:
        norm, _, _, _ = self._settings()
        nan = np.isnan(raw)
        optional = self._optional()
        blank = nan & optional
        fill = nan & ~optional
        x = np.where(fill, self.median_, raw) if fill.any() else raw
        if np.isfinite(self.cap_low_).any() or np.isfinite(self.cap_high_).any():
            x = np.clip(x, self.cap_low_, self.cap_high_)  # else +-inf: a copy for nothing
        sign = np.array([ind.sign for ind in self.spec.indicators])
        if norm == "zscore":
            z = (x - self.center_) / self.scale_ * sign
        elif norm == "minmax":
            z = (x - self.center_) / self.scale_
            z = np.where(sign > 0, z, 1.0 - z)
        elif norm == "rank":
            frac = np.column_stack(
                [_mid_rank_fraction(ref, x[:, j]) for j, ref in enumerate(self.reference_sorted_)]
            )
            z = np.where(sign > 0, frac, 1.0 - frac)
        else:
            # IoD: R = rank / N with rank N for the riskiest area, so R is in [1/N, 1] and the
            # riskiest area scores exactly 100.
            n = np.array([max(ref.size, 1) for ref in self.reference_sorted_], dtype=float)
            r = np.column_stack(
                [
                    np.where(
                        sign[j] > 0,
                        np.searchsorted(ref, x[:, j], side="right"),
                        ref.size - np.searchsorted(ref, x[:, j], side="left"),
                    )
                    for j, ref in enumerate(self.reference_sorted_)
                ]
            ) / n
            r = np.clip(r, 1.0 / n, 1.0)
            z = -23.0 * np.log(1.0 - r * _EXP_CONST)
        gone = blank | ~self.available_
        if gone.any():
            z = np.where(gone, np.nan, z)
        return np.round(z, SCORE_DECIMALS)

    def _composites(self, z: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        score = _weighted_mean(z, self.weights_)
        themes = {}
        for theme in THEMES:
            members = [j for j, ind in enumerate(self.spec.indicators) if theme in ind.themes]
            if members:
                themes[theme] = _weighted_mean(z[:, members], self.weights_[members])
        return score, themes

    # -- estimator API --------------------------------------------------------------------
    def _fit_arrays(self, X: pd.DataFrame):
        norm, band, cap, _ = self._settings()
        raw = self._raw(X, fitting=True)
        self.indicator_ids_ = list(self.spec.ids)
        self.weights_ = np.array([ind.weight for ind in self.spec.indicators], dtype=float)
        self.n_reference_ = raw.shape[0]
        nan = np.isnan(raw)
        optional = self._optional()
        self.available_ = ~nan.all(axis=0) | ~optional
        gappy = nan.any(axis=0)  # columns with a blank
        self.median_ = np.nan_to_num(_ignoring_blanks(np.median, raw, gappy))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-blank optional column
            self.reference_mean_ = (np.nanmean if gappy.any() else np.mean)(raw, axis=0)
        # Blank required values take the median; blank optional values stay blank and are
        # left out of the statistics and of the scores.
        filled = np.where(nan & ~optional, self.median_, raw) if gappy.any() else raw
        gappy = (nan & optional).any(axis=0)  # the blanks left in filled, without a pass
        if cap > 0:
            low, high = (
                _ignoring_blanks(partial(np.quantile, q=q), filled, gappy)
                for q in (cap, 1.0 - cap)
            )
            self.cap_low_ = np.nan_to_num(low, nan=-np.inf)
            self.cap_high_ = np.nan_to_num(high, nan=np.inf)
            capped = np.clip(filled, self.cap_low_, self.cap_high_)
        else:  # no cap: clipping at +-inf would copy the table for nothing
            self.cap_low_ = np.full(raw.shape[1], -np.inf)
            self.cap_high_ = np.full(raw.shape[1], np.inf)
            capped = filled
        if norm == "zscore":  # sums: NaN-aware on the whole table or not at all (_ignoring_blanks)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                blanks = gappy.any()
                self.center_ = (np.nanmean if blanks else np.mean)(capped, axis=0)
                scale = (np.nanstd if blanks else np.std)(capped, axis=0)
        else:
            self.center_ = _ignoring_blanks(np.min, capped, gappy)
            scale = _ignoring_blanks(np.max, capped, gappy) - self.center_
        self.center_ = np.nan_to_num(self.center_)
        # A constant indicator carries no information: scale 1 keeps it at 0 rather than NaN.
        self.scale_ = np.where(scale > 0, scale, 1.0)
        if norm in ("rank", "exponential"):
            self.reference_sorted_ = [np.sort(c[~np.isnan(c)]) for c in capped.T]
        else:
            self.reference_sorted_ = []
        z = self._normalise(raw)
        score, themes = self._composites(z)
        fixed = self.spec.profile.fixed_thresholds
        self.score_cuts_ = fit_band_cuts(score, band, fixed)
        self.theme_cuts_ = {t: fit_band_cuts(v, band, fixed) for t, v in themes.items()}
        self.indicator_cuts_ = {
            ind.id: fit_band_cuts(z[~np.isnan(z[:, j]), j], band, fixed)
            for j, ind in enumerate(self.spec.indicators)
        }
        return raw, z, score, themes

    def fit(self, X: pd.DataFrame, y: object = None) -> RiskProfiler:
        """Learn normalisation parameters and band cut points from a reference population.

        Parameters
        ----------
        X : DataFrame
            Reference areas with the spec's indicator columns.
        y : ignored

        Returns
        -------
        self
        """
        self._fit_arrays(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y: object = None, **fit_params) -> pd.DataFrame:
        """Fit on ``X`` and score ``X`` itself, normalising only once.

        Equivalent to ``fit(X).transform(X)``.
        """
        raw, z, score, themes = self._fit_arrays(X)
        return pd.DataFrame(self._columns(raw, z, score, themes), index=X.index)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Score and band areas with the fitted reference.

        Parameters
        ----------
        X : DataFrame
            Areas with the spec's indicator columns (any subset, or other areas).

        Returns
        -------
        DataFrame
            Indexed like ``X``, with ``score``, ``band``; ``<theme>_score``, ``<theme>_band``;
            and per indicator ``<id>_value``, ``<id>_norm``, ``<id>_contribution`` (weight
            share times normalised value; they sum to ``score``) and ``<id>_band``.
        """
        return pd.DataFrame(self.transform_arrays(X), index=X.index)

    def transform_arrays(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Like :meth:`transform`, but return the columns as a dict of arrays (no DataFrame)."""
        return self._columns(*self._transform_parts(X))

    def _transform_parts(self, X: pd.DataFrame):
        """Raw values, normalised values, score and theme scores of ``X`` (no bands yet)."""
        check_is_fitted(self, "score_cuts_")
        raw = self._raw(X, fitting=False)
        z = self._normalise(raw)
        score, themes = self._composites(z)
        return raw, z, score, themes

    def _band_codes(self, z, score, themes) -> dict[str, np.ndarray]:
        """Band index (int8) of the score, each theme and each indicator, by column name."""
        codes = {"band": _bands(score, self.score_cuts_)}
        for theme, values in themes.items():
            codes[f"{theme}_band"] = _bands(values, self.theme_cuts_[theme])
        for j, ind in enumerate(self.spec.indicators):
            codes[f"{ind.id}_band"] = _bands(z[:, j], self.indicator_cuts_[ind.id])
        return codes

    def _columns(self, raw, z, score, themes, codes=None) -> dict[str, np.ndarray]:
        """Output columns in their documented order; ``codes`` from :meth:`_band_codes`."""
        codes = self._band_codes(z, score, themes) if codes is None else codes
        avail = ~np.isnan(z)
        if avail.all():
            contributions = z * (self.weights_ / self.weights_.sum())
        else:  # each row's shares over the indicators it has: contributions still sum to score
            contributions = np.where(avail, z * _row_shares(self.weights_, avail), np.nan)
        cols: dict[str, np.ndarray] = {"score": score, "band": band_labels(codes["band"])}
        for theme, values in themes.items():
            cols[f"{theme}_score"] = values
            cols[f"{theme}_band"] = band_labels(codes[f"{theme}_band"])
        for j, ind in enumerate(self.spec.indicators):
            cols[f"{ind.id}_value"] = raw[:, j]
            cols[f"{ind.id}_norm"] = z[:, j]
            cols[f"{ind.id}_contribution"] = contributions[:, j]
            cols[f"{ind.id}_band"] = band_labels(codes[f"{ind.id}_band"])
        return cols

    def reference_means(self) -> Mapping[str, float]:
        """Return the reference mean of each indicator's raw value, by id (for charts)."""
        check_is_fitted(self, "reference_mean_")
        return dict(zip(self.indicator_ids_, map(float, self.reference_mean_), strict=True))
