"""Scoring a geographic scope against a reference population."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from profiler.area import DEFAULT_AREA, HomeArea
from profiler.codes import LAD_RE, UTLA_RE
from profiler.engine import BANDS, RiskProfiler
from profiler.errors import ProfilerError
from profiler.spec import REFERENCES, Spec
from profiler.table import IDENTITY_COLUMNS

_GROUP_COLUMN = {"england": None, "area": None, "county": "utla_code", "district": "lad24_code"}

Scope = str | HomeArea | Sequence[str]
"""A scope: a name (see :func:`select_scope`), a :class:`~profiler.area.HomeArea`, or LSOA codes."""


def select_scope(table: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Rows of ``table`` in a scope, in table order.

    Parameters
    ----------
    table : DataFrame
        The indicator table (``lsoa21_code``; for a named scope ``lad24_code``, ``lad24_name``,
        ``utla_code``, ``utla_name``).
    scope : str, HomeArea or sequence of str
        ``"england"``, a district (LAD) code or name, or a county (UTLA) code or name (names
        are matched case-insensitively); or a
        :class:`~profiler.area.HomeArea` (rows of its county's ``utla_code``, or of its
        districts' ``lad24_code``; by LSOA code when the table has no such column), or 2021
        LSOA codes.

    Returns
    -------
    DataFrame

    Raises
    ------
    ProfilerError
        If the scope matches no area, or the table lacks some of the area's LSOAs.
    """
    if not isinstance(scope, str):
        return _select_codes(table, scope)
    key = scope.strip()
    low = key.lower()
    if low == "england":
        return table
    for code_col, name_col in (("lad24_code", "lad24_name"), ("utla_code", "utla_name")):
        if code_col not in table.columns:
            continue
        mask = table[code_col] == key.upper()
        if not mask.any() and name_col in table.columns:
            mask = table[name_col].str.lower() == low
        if mask.any():
            return table[mask.fillna(False).to_numpy(dtype=bool)]
    hint = (
        "a district code like E07000219"
        if LAD_RE.match(key.upper()) or UTLA_RE.match(key.upper())
        else "'england', a district or county name, or a code like E07000219"
    )
    raise ProfilerError(f"scope: no LSOAs match {scope!r}; use {hint}")


def _select_codes(table: pd.DataFrame, scope: HomeArea | Sequence[str]) -> pd.DataFrame:
    if isinstance(scope, HomeArea):
        # A table carrying its own geography is cut by it, as its references are grouped by
        # it: a county by utla_code, other areas by their districts (for the shipped table
        # these are exactly the area's LSOAs).
        if scope.level == "county" and "utla_code" in table.columns:
            mask = (table["utla_code"] == scope.code).to_numpy(dtype=bool)
        elif scope.level != "county" and "lad24_code" in table.columns:
            mask = table["lad24_code"].isin(scope.lad_codes).to_numpy(dtype=bool)
        else:
            mask = None
        if mask is not None:
            if not mask.any():
                raise ProfilerError(f"scope: no LSOAs of {scope.label} in the table; use a "
                                    "table covering the area")
            return table[mask]
    codes = scope.lsoa_codes if isinstance(scope, HomeArea) else tuple(scope)
    label = scope.label if isinstance(scope, HomeArea) else f"{len(codes):,} LSOA codes"
    if not codes:
        raise ProfilerError(f"scope: {label} has no LSOAs")
    mask = table["lsoa21_code"].isin(codes).to_numpy(dtype=bool)
    found = int(mask.sum())
    if found < len(set(codes)):
        have = set(table["lsoa21_code"][mask])
        missing = [c for c in codes if c not in have]
        raise ProfilerError(
            f"scope: the table lacks {len(missing):,} of the {len(set(codes)):,} LSOAs of "
            f"{label} (first {', '.join(missing[:3])}); use a table covering the area"
        )
    return table[mask]


def score_scope(
    table: pd.DataFrame,
    spec: Spec,
    scope: Scope = DEFAULT_AREA,
    reference: str | None = None,
    normalisation: str | None = None,
    banding: str | None = None,
    weights: Mapping[str, float] | None = None,
    cap: float | None = None,
) -> pd.DataFrame:
    """Score and band every LSOA in a scope.

    Each LSOA is scored against its reference population: all England, its county (upper-tier
    authority), its district, or the scope itself (``"area"``). The reference is fitted on the
    whole reference area even when the scope is smaller, so a district's bands are the
    county's bands. For a county, ``"area"`` and ``"county"`` give the same result.

    Parameters
    ----------
    table : DataFrame
        Validated indicator table (see :func:`profiler.table.load_indicator_table`).
    spec : Spec
        Indicator spec.
    scope : str, HomeArea or sequence of str
        See :func:`select_scope`.
    reference : {"county", "district", "england", "area"}, optional
        Defaults to ``spec.profile.reference``.
    normalisation, banding : str, optional
        Override the spec's settings.
    weights : mapping of str to float, optional
        What-if weights by indicator id (0 drops an indicator).
    cap : float, optional
        Override the spec's winsorising quantile.

    Returns
    -------
    DataFrame
        One row per LSOA, sorted by descending score: identity columns, ``score``, ``rank``
        (1 = highest in scope), ``band``, theme and indicator columns (see
        :meth:`RiskProfiler.transform`).
    """
    if weights:
        spec = spec.with_weights(weights)
    reference = reference or spec.profile.reference
    if reference not in REFERENCES:
        raise ProfilerError(f"reference: got {reference!r}; use one of {', '.join(REFERENCES)}")
    scoped = select_scope(table, scope)
    group_col = _GROUP_COLUMN[reference]
    if group_col is not None and group_col not in table.columns:
        raise ProfilerError(
            f"reference {reference!r} needs the table's {group_col} column (each LSOA's "
            f"{reference}); add it, or use reference 'area' or 'england'"
        )

    def score_rows(ref: pd.DataFrame, rows: pd.DataFrame) -> tuple:
        model = RiskProfiler(spec, normalisation=normalisation, banding=banding, cap=cap)
        if rows.index.equals(ref.index):  # the scope is the whole reference: normalise once
            parts = model._fit_arrays(ref)
        else:
            parts = model.fit(ref)._transform_parts(rows)
        return model, (*parts, model._band_codes(*parts[1:]))

    if group_col is None:
        ref = scoped if reference == "area" else table
        model, (raw, z, score, themes, codes) = score_rows(ref, scoped)
        order_index = np.arange(len(scoped))
    else:
        parts, positions = [], []
        groups = scoped[group_col].to_numpy()
        keys = pd.unique(groups)
        # Split only the reference areas the scope touches: splitting all England's 33,755
        # rows into its ~150 counties cost ~30 ms for a one-county scope.
        wanted = table[group_col].isin(keys).to_numpy()
        reference_groups = dict(tuple(
            (table if wanted.all() else table[wanted]).groupby(group_col, sort=False)))
        positions_of = scoped.groupby(group_col, sort=False).indices  # ascending positions
        for key in keys:
            where = positions_of[key]
            ref = reference_groups[key]
            # the scope's rows of a reference area are often all of it (England by county)
            rows = ref if scoped.index[where].equals(ref.index) else scoped.iloc[where]
            model, arrays = score_rows(ref, rows)
            parts.append(arrays)
            positions.append(where)
        order_index = np.concatenate(positions)
        raw, z, score = (np.concatenate([p[k] for p in parts]) for k in range(3))
        themes, codes = ({c: np.concatenate([p[k][c] for p in parts]) for c in parts[0][k]}
                         for k in (3, 4))
    # Sort by descending score (ties keep table order, which the build sorts by code). Gather
    # the 2-D blocks and band codes once, then build the columns (bands are per row, so banding
    # before or after the gather is the same).
    order = np.argsort(-score, kind="stable")
    rows = order_index[order]
    scored = model._columns(
        np.take(raw, order, axis=0),  # ~3x faster than raw[order] for a 2-D block
        np.take(z, order, axis=0),
        score[order],
        {t: v[order] for t, v in themes.items()},
        {c: v[order] for c, v in codes.items()},
    )
    # ExtensionArray.take keeps the string columns' storage (no object round trip).
    columns: dict[str, object] = {
        c: scoped[c].array.take(rows) for c in IDENTITY_COLUMNS if c in scoped.columns
    }
    columns["score"] = scored.pop("score")
    # rank 1 = highest; ties share the best rank (method="min").
    columns["rank"] = np.searchsorted(-columns["score"], -columns["score"], side="left") + 1
    columns.update(scored)
    # copy=False: the columns are fresh arrays; consolidating them would copy ~15 MB for England.
    return pd.DataFrame(columns, copy=False)


def band_counts(result: pd.DataFrame, by: str = "lad24_name", column: str = "band") -> pd.DataFrame:
    """Count LSOAs per band (columns in band order) for each group, with a total row.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`score_scope`.
    by : str
        Grouping column (default: district name); when the result has no such column, only
        the total row is given.
    column : str
        Band column to count (``band`` or ``<theme>_band``).
    """
    if by in result.columns:
        counts = pd.crosstab(result[by], result[column]).reindex(columns=list(BANDS),
                                                                 fill_value=0)
        counts.loc["Total"] = counts.sum()
    else:  # a table without that identity column (a user's own): the total row only
        bands = result[column].value_counts().reindex(list(BANDS), fill_value=0)
        counts = pd.DataFrame([bands.to_numpy()], index=["Total"], columns=list(BANDS))
    counts["LSOAs"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.astype(np.int64)


def compare_bandings(
    table: pd.DataFrame,
    spec: Spec,
    scope: Scope = DEFAULT_AREA,
    reference: str | None = None,
    schemes: tuple[str, ...] = ("stddev", "quantile", "natural_breaks", "fixed"),
) -> pd.DataFrame:
    """Overall band of every LSOA in a scope under each banding scheme, side by side.

    Parameters
    ----------
    table, spec, scope, reference
        As for :func:`score_scope`.
    schemes : tuple of str
        Banding schemes to compare (the first is the baseline).

    Returns
    -------
    DataFrame
        ``lsoa21_code``, ``lsoa21_name``, ``msoa21_hcl_name``, ``score`` (the baseline's), one
        column per scheme, ``agree`` (all schemes give the same band) and ``spread`` (number of
        distinct bands), sorted by descending score.
    """
    base = score_scope(table, spec, scope=scope, reference=reference, banding=schemes[0])
    ident = [c for c in ("lsoa21_code", "lsoa21_name", "msoa21_hcl_name") if c in base.columns]
    out = base[[*ident, "score"]].copy()
    out[schemes[0]] = base["band"].to_numpy()
    for scheme in schemes[1:]:
        other = score_scope(table, spec, scope=scope, reference=reference, banding=scheme)
        out[scheme] = other.set_index("lsoa21_code")["band"].loc[out["lsoa21_code"]].to_numpy()
    bands = out[list(schemes)]
    out["spread"] = bands.nunique(axis=1)
    out["agree"] = out["spread"] == 1
    return out
