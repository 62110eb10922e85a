"""Disclosure control for partner figures: small counts and the rates derived from them.

An LSOA holds about 650 households, so a count of 1 to 4 incidents can point to a victim. Every
view and export of partner data goes through :func:`suppress` (for data) and
:func:`display_value` (for text), with these rules:

* a count ``c`` with ``1 <= c < threshold`` is **suppressed**: it becomes ``None``, and so does
  every column derived from it (its rates), found by :func:`derived_from` so a caller cannot
  forget one;
* ``0`` is shown by default (``suppress_zero=False``): saying that nothing happened identifies
  nobody, which is the common practice of police and ONS small-area tables. Pass
  ``suppress_zero=True`` to hide zeros too (e.g. when a zero could be combined with a known
  total);
* the default threshold is 5 (counts 1-4 hidden), configurable; it must be a whole number >= 1
  (1 suppresses nothing).

Secondary suppression is *not* done here. A hidden cell can be recovered by subtraction when
a total and all the other cells of that total are shown (a district total beside its LSOAs).
Callers must therefore show totals only over areas whose own count is at or above the
threshold, and not publish a total next to a list from which exactly one cell is hidden; the
dashboard shows totals at district level only, where counts are large. Rates of a district are
computed from the unsuppressed counts and then themselves checked with :func:`suppress`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

DEFAULT_THRESHOLD = 5
SUPPRESSED = None
#: Text shown for a suppressed rate or other derived value.
SUPPRESSED_TEXT = "suppressed"
#: Suffix of the boolean column that flags an indicator's suppressed rows in a scored profile.
FLAG_SUFFIX = "_suppressed"
#: The columns of a scored profile that an indicator's suppressed count hides.
HIDDEN_PARTS = ("value", "norm", "contribution", "band")


class DisclosureError(ProfilerError):
    """A bad disclosure-control setting (threshold, columns)."""


def check_threshold(threshold: Any) -> int:
    """Validate a suppression threshold.

    Parameters
    ----------
    threshold : int
        Smallest count shown (counts from 1 to ``threshold - 1`` are hidden).

    Returns
    -------
    int

    Raises
    ------
    DisclosureError
        If it is not a whole number >= 1.
    """
    ok = (
        not isinstance(threshold, bool)
        and isinstance(threshold, int | float)
        and math.isfinite(threshold)
        and float(threshold).is_integer()
        and threshold >= 1
    )
    if not ok:
        raise DisclosureError(
            f"threshold: got {threshold!r}; use a whole number >= 1 (default "
            f"{DEFAULT_THRESHOLD}: counts 1 to {DEFAULT_THRESHOLD - 1} are hidden)"
        )
    return int(threshold)


def _stem(count_column: str) -> str:
    return re.sub(r"_(count|n|number)$", "", count_column)


def derived_from(columns: Iterable[str], count_columns: Iterable[str]) -> dict[str, list[str]]:
    """Map each count column to the columns derived from it, by name.

    A column is derived from ``<stem>_count`` when it starts with ``<stem>_`` (for example
    ``knife_rate_per_1000`` from ``knife_count``), as :func:`profiler.partner.theme_counts`
    names them.

    Parameters
    ----------
    columns : iterable of str
        All columns of the frame.
    count_columns : iterable of str
        The count columns.

    Returns
    -------
    dict
        ``{count column: [derived columns]}`` (possibly empty lists).
    """
    columns = [str(c) for c in columns]
    counts = [str(c) for c in count_columns]
    out: dict[str, list[str]] = {}
    for count in counts:
        stem = _stem(count)
        out[count] = [c for c in columns
                      if c != count and c not in counts and c.startswith(stem + "_")]
    return out


def small_mask(values: pd.Series, threshold: int = DEFAULT_THRESHOLD, *,
               suppress_zero: bool = False) -> pd.Series:
    """Return True where a count must be hidden (``1 <= c < threshold``, or 0 if asked).

    Parameters
    ----------
    values : Series
        Counts (non-numeric entries count as not small).
    threshold : int
    suppress_zero : bool

    Returns
    -------
    Series of bool
    """
    threshold = check_threshold(threshold)
    num = pd.to_numeric(values, errors="coerce")
    low = 0 if suppress_zero else 1
    return ((num >= low) & (num < threshold)).fillna(False).astype(bool)


def suppress(
    frame: pd.DataFrame,
    count_columns: Sequence[str],
    rate_columns: Mapping[str, Sequence[str]] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    suppress_zero: bool = False,
) -> pd.DataFrame:
    """Hide small counts and everything derived from them.

    Parameters
    ----------
    frame : DataFrame
        Counts and derived columns (e.g. :func:`profiler.partner.theme_counts`). Not changed.
    count_columns : sequence of str
        Columns holding counts.
    rate_columns : mapping, optional
        ``{count column: [derived columns]}``. Default: :func:`derived_from` on the frame's
        columns. When given, it is *added to* the default mapping, never replaces it, so a rate
        named after its count cannot slip through.
    threshold : int
        Smallest count shown (default 5).
    suppress_zero : bool
        Also hide zeros (default False: zeros are shown).

    Returns
    -------
    DataFrame
        A copy; suppressed cells are ``None`` in object-dtype columns (other cells keep their
        values). Render with :func:`display_value` or :func:`display_frame`.

    Raises
    ------
    DisclosureError
        On a bad threshold, or a count or derived column not in the frame.
    """
    threshold = check_threshold(threshold)
    missing = [c for c in count_columns if c not in frame.columns]
    mapping = derived_from(frame.columns, count_columns)
    for count, derived in (rate_columns or {}).items():
        if count not in mapping:
            missing.append(count)
            continue
        mapping[count] = list(dict.fromkeys([*mapping[count], *derived]))
    missing += [c for cols in mapping.values() for c in cols if c not in frame.columns]
    if missing:
        raise DisclosureError(
            f"suppress: column(s) {', '.join(map(repr, missing[:3]))} not in the table; "
            f"columns are {', '.join(map(repr, list(frame.columns)[:6]))}"
        )
    out = frame.copy()
    for count, derived in mapping.items():
        hide = small_mask(frame[count], threshold, suppress_zero=suppress_zero).to_numpy()
        if not hide.any():
            continue
        for col in (count, *derived):
            column = out[col].astype(object)
            column[hide] = SUPPRESSED
            out[col] = column
    return out


def display_value(value: Any, *, threshold: int = DEFAULT_THRESHOLD, is_count: bool = True,
                  decimals: int = 1) -> str:
    """Format one cell of a suppressed table for people.

    Parameters
    ----------
    value : object
        A cell from :func:`suppress`: ``None`` means suppressed, NaN means no data.
    threshold : int
        The threshold used, for the ``<5`` text.
    is_count : bool
        Counts show ``<5``; derived values show ``suppressed``.
    decimals : int
        Decimal places for non-integer numbers.

    Returns
    -------
    str
    """
    if value is SUPPRESSED:
        return f"<{check_threshold(threshold)}" if is_count else SUPPRESSED_TEXT
    if isinstance(value, float) and math.isnan(value):
        return "no data"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral) or (is_count and float(value).is_integer()):
            return f"{int(value):,}"
        return f"{float(value):,.{decimals}f}"
    return str(value)


def display_frame(frame: pd.DataFrame, count_columns: Sequence[str],
                  threshold: int = DEFAULT_THRESHOLD, decimals: int = 2) -> pd.DataFrame:
    """Return a frame from :func:`suppress` with every cell as display text (for exports)."""
    counts = set(count_columns)
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        out[col] = [display_value(v, threshold=threshold, is_count=col in counts,
                                  decimals=decimals) for v in frame[col].tolist()]
    return out


def assert_suppressed(frame: pd.DataFrame, count_columns: Sequence[str],
                      threshold: int = DEFAULT_THRESHOLD) -> None:
    """Raise if any count column still holds a value from 1 to ``threshold - 1``.

    A last check before a table of partner data leaves the core.

    Raises
    ------
    DisclosureError
        Naming the first column with a small count.
    """
    for col in count_columns:
        values = frame[col]
        if values.dtype == object:
            values = values.where(values.map(lambda v: isinstance(v, numbers.Real)))
        if small_mask(values, threshold).any():
            raise DisclosureError(f"suppress: column {col!r} still holds counts below "
                                  f"{threshold}; run profiler.disclosure.suppress first")


# -- suppression in scored profiles: missing values with a flag, text only at the edges ----------


def mark_suppressed(result: pd.DataFrame, hidden: Mapping[str, Any],
                    threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Hide indicators' small partner counts in a scored profile, as missing values with a flag.

    Suppression is a type, not a string: the value, normalised value and contribution of each
    hidden cell become NaN and its band missing, so every numeric consumer (sorting, rounding,
    charts, top contributors) keeps working, and a boolean column ``<id>_suppressed`` says which
    rows were hidden. Text (``<5``, ``suppressed``) is written only when the profile is shown or
    exported (:func:`shown_value`).

    Parameters
    ----------
    result : DataFrame
        A scored profile (:func:`profiler.pipeline.score_scope`): ``lsoa21_code`` and the
        ``<id>_value``/``_norm``/``_contribution``/``_band`` columns. Not changed.
    hidden : mapping
        ``{indicator id: LSOA codes (any iterable) or a boolean mask aligned with result}``.
    threshold : int
        The threshold used, kept in ``attrs["disclosure_threshold"]`` for the ``<5`` text.

    Returns
    -------
    DataFrame
        A copy with the flag columns (also for ids with nothing hidden).
    """
    threshold = check_threshold(threshold)
    out = result.copy()
    for ind_id, which in hidden.items():
        if isinstance(which, np.ndarray | pd.Series) and np.asarray(which).dtype == bool:
            mask = np.asarray(which, dtype=bool)
        else:
            mask = out["lsoa21_code"].isin(set(which)).to_numpy()
        out[f"{ind_id}{FLAG_SUFFIX}"] = mask
        for part in HIDDEN_PARTS[:3]:
            col = f"{ind_id}_{part}"
            if col in out:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(mask)
        band = f"{ind_id}_band"
        if band in out:
            out[band] = out[band].mask(mask)
    out.attrs["disclosure_threshold"] = threshold
    return out


def suppressed_mask(frame: pd.DataFrame, ind_id: str) -> np.ndarray:
    """Rows of ``frame`` where indicator ``ind_id`` is suppressed (all False without a flag)."""
    col = f"{ind_id}{FLAG_SUFFIX}"
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].fillna(False).to_numpy(dtype=bool)


def shown_value(series: pd.Series, mask: np.ndarray, *, threshold: int = DEFAULT_THRESHOLD,
                is_count: bool = True) -> pd.Series:
    """``series`` with the suppressed rows as display text (``<5``, or ``suppressed``)."""
    if not np.asarray(mask, dtype=bool).any():
        return series
    text = f"<{check_threshold(threshold)}" if is_count else SUPPRESSED_TEXT
    out = series.astype(object).copy()
    out[np.asarray(mask, dtype=bool)] = text
    return out
