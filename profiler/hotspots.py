"""Hot and cold spots: Getis-Ord Gi* with queen contiguity and a false-discovery-rate correction.

A high score in one LSOA may be chance; a cluster of neighbouring high scores is a hot spot. Gi*
compares the sum of an area's and its neighbours' values with what random placement would give,
and the Benjamini-Hochberg false-discovery-rate correction (``esda.fdr``) keeps the expected share
of false hot spots at the chosen level across all the areas tested at once.
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.weights import Queen, W

from profiler.derived import CLASSES, LEVELS  # declared once there (no esda import)
from profiler.errors import ProfilerError


def queen_weights(areas: gpd.GeoDataFrame) -> W:
    """Queen contiguity weights (areas sharing an edge or a corner are neighbours).

    Parameters
    ----------
    areas : GeoDataFrame
        Polygons, one per area, in the order of the values to test.

    Returns
    -------
    libpysal.weights.W
    """
    if len(areas) < 3:
        raise ProfilerError(f"hot spots need at least 3 areas, got {len(areas)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are reported by the caller, not as warnings
        return Queen.from_dataframe(areas, use_index=False, silence_warnings=True)


def getis_ord(
    areas: gpd.GeoDataFrame,
    values: np.ndarray | pd.Series,
    *,
    weights: W | None = None,
    permutations: int = 0,
    seed: int = 12345,
) -> pd.DataFrame:
    """Getis-Ord Gi* per area, with p-values and FDR-corrected significance classes.

    Parameters
    ----------
    areas : GeoDataFrame
        Polygons (with ``lsoa21_code`` if available), one per value.
    values : array-like
        The variable to test (e.g. the composite score or a theme score). Gi* is defined for
        non-negative values; the values are shifted so their minimum is 0, which leaves the
        standardised Gi* and the permutation test unchanged.
    weights : libpysal W, optional
        Spatial weights; queen contiguity of ``areas`` when omitted.
    permutations : int
        0 (default): two-sided p-values from the standardised Gi* under the normal
        approximation, as in standard hot-spot analysis. Otherwise the number of conditional
        permutations for pseudo p-values (the smallest attainable p is 1 / (permutations + 1),
        which limits what survives the FDR correction).
    seed : int
        Random seed for the permutations (same inputs, same result).

    Returns
    -------
    DataFrame
        ``lsoa21_code`` (or the position), ``gi_z`` (standardised Gi*), ``p_sim`` (the
        p-value used), ``hotspot`` (one of :data:`CLASSES`; significance after the FDR
        correction at 1%, 5% and 10%), ``neighbours``.
    """
    y = np.asarray(values, dtype=float)
    if y.shape[0] != len(areas):
        raise ProfilerError(
            f"hot spots: {y.shape[0]} values for {len(areas)} areas; pass one value per area"
        )
    if not np.isfinite(y).all():
        raise ProfilerError("hot spots: values contain NaN or infinity; score every area first")
    w = weights if weights is not None else queen_weights(areas)
    shifted = y - y.min()
    codes = areas["lsoa21_code"].to_numpy() if "lsoa21_code" in areas else np.arange(len(y))
    neighbours = np.array([w.cardinalities[i] for i in w.id_order])
    if np.ptp(shifted) == 0:
        return pd.DataFrame({"lsoa21_code": codes, "gi_z": 0.0, "p_sim": 1.0,
                             "hotspot": CLASSES[3], "neighbours": neighbours})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = esda.G_Local(shifted, w, transform="B", star=True, permutations=permutations,
                         seed=seed, n_jobs=1, keep_simulations=False)
    z = np.nan_to_num(np.asarray(g.Zs, dtype=float))
    if permutations:
        p = np.asarray(g.p_sim, dtype=float)
    else:
        p = np.minimum(1.0, 2.0 * np.asarray(g.p_norm, dtype=float))
    classes = np.full(len(y), CLASSES[3], dtype=object)
    # Weakest level first, so stronger levels overwrite it.
    for level, hot, cold in zip(LEVELS[::-1], CLASSES[2::-1], CLASSES[4:], strict=True):
        threshold = esda.fdr(p, level)
        significant = p <= threshold
        classes[significant & (z > 0)] = hot
        classes[significant & (z < 0)] = cold
    return pd.DataFrame({"lsoa21_code": codes, "gi_z": z, "p_sim": p, "hotspot": classes,
                         "neighbours": neighbours})


def hotspot_table(
    areas: gpd.GeoDataFrame,
    result: pd.DataFrame,
    columns: dict[str, str],
    *,
    permutations: int = 0,
    seed: int = 12345,
) -> pd.DataFrame:
    """Gi* hot spots for several score columns of a profile, on one set of weights.

    Parameters
    ----------
    areas : GeoDataFrame
        LSOA polygons with ``lsoa21_code``.
    result : DataFrame
        A scored profile (``lsoa21_code`` and the score columns).
    columns : dict
        Output prefix -> score column, e.g. ``{"overall": "score", "knife": "knife_score"}``.

    Returns
    -------
    DataFrame
        ``lsoa21_code`` and, per prefix, ``<prefix>_gi_z``, ``<prefix>_p`` and
        ``<prefix>_hotspot``, in the order of ``areas``.
    """
    scores = result.set_index("lsoa21_code")
    missing = [c for c in areas["lsoa21_code"] if c not in scores.index]
    if missing:
        raise ProfilerError(
            f"hot spots: {len(missing)} area(s) have no score, first {missing[:3]}; score the "
            "same areas as the boundaries"
        )
    w = queen_weights(areas)
    out = pd.DataFrame({"lsoa21_code": areas["lsoa21_code"].to_numpy()})
    for prefix, column in columns.items():
        values = scores.loc[out["lsoa21_code"], column].to_numpy()
        g = getis_ord(areas, values, weights=w, permutations=permutations, seed=seed)
        out[f"{prefix}_gi_z"] = g["gi_z"].round(4).to_numpy()
        out[f"{prefix}_p"] = g["p_sim"].to_numpy()
        out[f"{prefix}_hotspot"] = g["hotspot"].to_numpy()
    return out
