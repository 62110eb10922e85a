"""Inputs of a backtest from the shipped files (file I/O at the edge; the scoring is pure).

- Incidents: the shipped Warwickshire police.uk months, each record placed in a 2021 LSOA
  (months published with 2011 LSOA codes are converted with the ONS lookup; a split 2011 LSOA
  is resolved by point-in-polygon, as :func:`profiler.change.locate_records` does). Any frame
  of the same shape (``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa21_code``),
  such as ``profiler.police.load_incidents`` returns for any force, can be used instead.
- Residents per 2021 LSOA: :func:`profiler.partner.residents_lsoa21` (ONS mid-2020, carried).
- Land area per 2021 LSOA: from the shipped boundaries, in square kilometres (British National
  Grid, EPSG:27700).
- Baselines: IoD2025 Index of Multiple Deprivation score and crime domain score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

INCIDENT_COLUMNS = ("month", "crime_type", "longitude", "latitude", "lsoa21_code")


def code_vintage(codes: pd.Series, lookup: pd.DataFrame) -> str:
    """Which LSOA codes a month's records carry: ``"2011"`` or ``"2021"``.

    Decided by counting codes that exist only in one vintage (police.uk moved to 2021 codes
    during 2023; the shipped 2018-19 files carry 2011 codes, the 2024 files 2021 codes).
    """
    only11 = set(lookup["lsoa11_code"]) - set(lookup["lsoa21_code"])
    only21 = set(lookup["lsoa21_code"]) - set(lookup["lsoa11_code"])
    present = set(codes.dropna())
    return "2011" if len(present & only11) > len(present & only21) else "2021"


def load_shipped_incidents(
    data_dir: str | Path,
    months: tuple[str, ...],
    areas,
    lookup: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Load shipped police.uk months with each record's 2021 LSOA among ``areas``.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : tuple of str
        ``YYYY-MM`` months shipped in ``data/sources/police_uk``.
    areas : GeoDataFrame
        2021 LSOAs (``lsoa21_code``, geometry) records may fall in.
    lookup : DataFrame, optional
        The ONS 2011-2021 lookup; read from the sources when not given.

    Returns
    -------
    DataFrame
        :data:`INCIDENT_COLUMNS`; ``lsoa21_code`` is blank for records outside ``areas``.
    """
    from profiler.build import _read
    from profiler.change import locate_records
    from profiler.geo import load_police_points

    if lookup is None:
        lookup = _read(Path(data_dir), "lsoa11_lsoa21_lad22_ew.csv.gz",
                       usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    frames = []
    for month in months:
        rec = load_police_points(data_dir, [month])
        rec["lsoa21_code"] = locate_records(rec, code_vintage(rec["lsoa_code"], lookup), lookup,
                                            areas)
        frames.append(rec[list(INCIDENT_COLUMNS)])
    return pd.concat(frames, ignore_index=True)


def check_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Validate an incident frame of :data:`INCIDENT_COLUMNS` shape; months become ``YYYY-MM``.

    Parameters
    ----------
    incidents : DataFrame
        E.g. from :func:`load_shipped_incidents` or ``profiler.police.load_incidents``.

    Returns
    -------
    DataFrame
        A copy with ``month`` as ``YYYY-MM`` text.
    """
    if not isinstance(incidents, pd.DataFrame):
        raise ProfilerError(f"incidents: expected a DataFrame, got {type(incidents).__name__}")
    missing = [c for c in ("month", "crime_type", "lsoa21_code") if c not in incidents.columns]
    if missing:
        raise ProfilerError(
            f"incidents: missing column(s) {', '.join(missing)}; pass month, crime_type, "
            "longitude, latitude, lsoa21_code (as profiler.police.load_incidents returns)"
        )
    out = incidents.copy()
    out["month"] = out["month"].astype(str).str[:7]
    bad = ~out["month"].str.fullmatch(r"\d{4}-\d{2}")
    if bad.any():
        raise ProfilerError(f"incidents: month {out.loc[bad, 'month'].iloc[0]!r} is not YYYY-MM")
    return out


def land_area_km2(areas) -> pd.Series:
    """Land area of each LSOA polygon in km2 (EPSG:27700), indexed by ``lsoa21_code``."""
    metric = areas.to_crs(27700)
    return pd.Series(metric.geometry.area.to_numpy() / 1e6, index=areas["lsoa21_code"].to_numpy(),
                     name="area_km2")


def iod_baselines(data_dir: str | Path) -> pd.DataFrame:
    """IoD2025 IMD score and crime domain score per 2021 LSOA (higher = more deprived)."""
    from profiler.build import _read

    scores = _read(Path(data_dir), "iod2025_lsoa21_scores_ranks_deciles.csv.gz",
                   usecols=["lsoa21_code", "IMD_score", "Crime_score"])
    return scores.set_index("lsoa21_code").astype(np.float64)


def residents(data_dir: str | Path, households: pd.Series | None = None) -> pd.Series:
    """Residents per 2021 LSOA (ONS mid-2020, carried; see :mod:`profiler.observed`)."""
    from profiler.partner import load_code_lookup, residents_lsoa21

    return residents_lsoa21(load_code_lookup(data_dir, households))
