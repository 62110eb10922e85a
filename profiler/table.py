"""Loading and validating an LSOA indicator table against a spec."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.codes import LSOA21_RE
from profiler.errors import ProfilerError
from profiler.spec import Spec

LSOA_RE = LSOA21_RE  # kept for importers of profiler.table.LSOA_RE
CODE_COLUMN = "lsoa21_code"
IDENTITY_COLUMNS = (
    "lsoa21_code",
    "lsoa21_name",
    "msoa21_code",
    "msoa21_name",
    "msoa21_hcl_name",
    "ward24_code",
    "ward24_name",
    "lad24_code",
    "lad24_name",
    "utla_code",
    "utla_name",
    "ruc21_class",
)
_TEXT_COLUMNS = {c: "string" for c in IDENTITY_COLUMNS}
# Names and codes shared by many LSOAs (MSOA and up) are categoricals: a tenth of the memory of
# 33,755 strings each, and a scored England result gathers their int codes instead of strings.
_SHARED_COLUMNS = tuple(c for c in IDENTITY_COLUMNS if not c.startswith("lsoa21_"))


def _first(values: pd.Series | list, n: int = 3) -> str:
    return ", ".join(repr(v) for v in list(values)[:n])


def _rows(mask: pd.Series) -> list[int]:
    """1-based file line numbers (header is line 1) of the True entries."""
    return [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]


def validate_indicator_table(df: pd.DataFrame, spec: Spec, source: str = "<table>") -> pd.DataFrame:
    """Check an indicator table against a spec and return it with numeric indicator columns.

    Parameters
    ----------
    df : DataFrame
        One row per LSOA with ``lsoa21_code`` and the spec's indicator columns.
    spec : Spec
        The spec naming the columns.
    source : str
        Name used in error messages (usually the file path).

    Returns
    -------
    DataFrame
        A copy with indicator columns as float64.

    Raises
    ------
    ProfilerError
        On a missing code column, malformed or duplicate LSOA codes, a spec column absent from
        the table, non-numeric values, or blank values when the spec's missing policy is
        ``error``.
    """
    if CODE_COLUMN not in df.columns:
        raise ProfilerError(
            f"{source}: no {CODE_COLUMN} column (found {_first(df.columns, 5)}); the first "
            f"column should hold 2021 LSOA codes named {CODE_COLUMN}"
        )
    codes = df[CODE_COLUMN].astype("string").str.strip()
    bad = codes.isna() | ~codes.fillna("").str.match(LSOA_RE.pattern)
    if bad.any():
        raise ProfilerError(
            f"{source}: column {CODE_COLUMN}: {int(bad.sum())} malformed LSOA code(s), first "
            f"{_first(df.loc[bad, CODE_COLUMN])} (rows {_first(_rows(bad))}); "
            "codes look like E01012345"
        )
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise ProfilerError(
            f"{source}: column {CODE_COLUMN}: duplicate LSOA code(s) "
            f"{_first(codes[dup].drop_duplicates())}; keep one row per LSOA"
        )
    out = df.copy()
    out[CODE_COLUMN] = codes
    for ind in spec.indicators:
        col = ind.column
        if col not in out.columns:
            names = [str(c) for c in out.columns]
            close = [c for c in names if col in c or c in col] or difflib.get_close_matches(
                col, names, n=1
            )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProfilerError(
                f"{source}: no column {col!r} for indicator {ind.id!r} in {spec.source}{hint}; "
                "add the column or fix `column =` in the spec"
            )
        raw = out[col]
        numeric = pd.to_numeric(raw, errors="coerce")
        nonnum = numeric.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
        if nonnum.any():
            raise ProfilerError(
                f"{source}: column {col}: {int(nonnum.sum())} non-numeric value(s), first "
                f"{_first(raw[nonnum])} at {_first(codes[nonnum])}; use plain numbers"
            )
        if np.isinf(numeric.to_numpy(dtype=float)).any():
            raise ProfilerError(f"{source}: column {col}: infinite values; use finite numbers")
        blank = numeric.isna()
        if blank.any() and spec.profile.missing == "error" and not ind.optional:
            raise ProfilerError(
                f"{source}: column {col}: {int(blank.sum())} blank value(s), first at "
                f"{_first(codes[blank])}; fill them, or set [profile] missing = \"median\" in "
                f"{spec.source}"
            )
        out[col] = numeric.astype(float)
    return out


def load_indicator_table(path: str | Path, spec: Spec) -> pd.DataFrame:
    """Read an indicator CSV and validate it against ``spec``.

    Parameters
    ----------
    path : str or Path
        CSV with ``lsoa21_code`` and the spec's indicator columns.
    spec : Spec

    Returns
    -------
    DataFrame

    Raises
    ------
    ProfilerError
        If the file is missing or unreadable, or fails :func:`validate_indicator_table`.
    """
    path = Path(path)
    if not path.exists():
        raise ProfilerError(
            f"{path}: indicator table not found; run `python -m profiler build` to create it, or "
            "pass --indicators with the path to a CSV"
        )
    try:
        df = pd.read_csv(path, dtype=_TEXT_COLUMNS, encoding="utf-8")
    except UnicodeDecodeError:
        raise ProfilerError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ProfilerError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    out = validate_indicator_table(df, spec, source=str(path))
    for col in _SHARED_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype("category")
    return out
