"""Loading shipped boundaries and police.uk points (file I/O at the edge of the core).

Every loader raises :class:`profiler.errors.ProfilerError` with a one-line message naming the
file and the fix when a file is missing or malformed; nothing here reads outside ``data_dir``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from profiler.errors import ProfilerError

LSOA_FILES = {
    "warwickshire": "warwickshire_lsoa21.gpkg",
    "england": "england_lsoa21_bsc.gpkg",
}
POLICE_MONTHS = (
    "2018-10", "2018-11", "2018-12", "2019-01", "2019-02",
    "2024-01", "2024-02", "2024-03", "2024-04",
)
DEFAULT_POLICE_MONTHS = POLICE_MONTHS[-4:]
_POLICE_COLUMNS = {
    "Month": "month",
    "Crime type": "crime_type",
    "Longitude": "longitude",
    "Latitude": "latitude",
    "LSOA code": "lsoa_code",
    "Location": "location",
}
_RESTORE = "restore it with `git checkout -- {path}` (or rerun scripts/import_shared_data.py)"


def _read_gpkg(path: Path, required: tuple[str, ...]) -> gpd.GeoDataFrame:
    fix = _RESTORE.format(path=path)
    if not path.exists():
        raise ProfilerError(f"{path}: boundary file missing; {fix}")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # any reader failure (bad SQLite, not a GeoPackage) -> one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfilerError(f"{path}: cannot read GeoPackage ({first}); {fix}") from None
    absent = [c for c in required if c not in gdf.columns]
    if absent:
        raise ProfilerError(
            f"{path}: missing column(s) {', '.join(absent)} (found {', '.join(gdf.columns)}); {fix}"
        )
    if gdf.empty:
        raise ProfilerError(f"{path}: no features; {fix}")
    if gdf.crs is None:
        raise ProfilerError(f"{path}: no coordinate reference system; {fix}")
    if gdf.crs.to_epsg() != 4326:
        # The app and Leaflet expect lon/lat; a reprojected copy still loads correctly.
        gdf = gdf.to_crs("EPSG:4326")
    return gdf[[*required, gdf.geometry.name]]


def load_lsoa_boundaries(data_dir: str | Path, scope: str = "warwickshire") -> gpd.GeoDataFrame:
    """Load 2021 LSOA polygons.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    scope : {"warwickshire", "england"}
        Warwickshire at generalised (20 m) resolution (354 LSOAs), or England super-generalised
        (200 m, 33,755 LSOAs).

    Returns
    -------
    GeoDataFrame
        ``lsoa21_code``, ``lsoa21_name``, ``lad_code`` and geometry, in EPSG:4326.

    Raises
    ------
    ProfilerError
        If ``scope`` is unknown or the file is missing or malformed.
    """
    if scope not in LSOA_FILES:
        raise ProfilerError(
            f"boundaries: unknown scope {scope!r}; use one of {', '.join(LSOA_FILES)}"
        )
    path = Path(data_dir) / "boundaries" / LSOA_FILES[scope]
    return _read_gpkg(path, ("lsoa21_code", "lsoa21_name", "lad_code"))


def load_districts(data_dir: str | Path) -> gpd.GeoDataFrame:
    """Load Warwickshire's five district outlines.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.

    Returns
    -------
    GeoDataFrame
        ``lad_code``, ``lad_name`` and geometry (EPSG:4326), dissolved from the 2021 LSOAs so
        the outlines match the LSOA edges.

    Raises
    ------
    ProfilerError
        If the file is missing or malformed.
    """
    path = Path(data_dir) / "boundaries" / "warwickshire_districts.gpkg"
    return _read_gpkg(path, ("lad_code", "lad_name"))


def load_wards(data_dir: str | Path) -> gpd.GeoDataFrame:
    """Load Warwickshire's 2025 electoral wards.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.

    Returns
    -------
    GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code`` and geometry (EPSG:4326); 108 wards.

    Raises
    ------
    ProfilerError
        If the file is missing or malformed.
    """
    path = Path(data_dir) / "boundaries" / "warwickshire_wards25.gpkg"
    return _read_gpkg(path, ("ward_code", "ward_name", "lad_code"))


def load_police_points(
    data_dir: str | Path, months: list[str] | tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Load police.uk street-level records for Warwickshire Police.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : list of str, optional
        ``YYYY-MM`` months to load; default January-April 2024 (``DEFAULT_POLICE_MONTHS``).
        The 2018-19 months carry 2011 LSOA codes, the 2024 months 2021 codes.

    Returns
    -------
    DataFrame
        ``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa_code``, ``location``;
        rows without coordinates are dropped. police.uk snaps each location to a street or
        public place for anonymity.

    Raises
    ------
    ProfilerError
        If a month is not shipped or its file is missing or malformed.
    """
    months = tuple(months) if months else DEFAULT_POLICE_MONTHS
    unknown = [m for m in months if m not in POLICE_MONTHS]
    if unknown:
        raise ProfilerError(
            f"police.uk: no file for month(s) {', '.join(map(str, unknown))}; shipped months: "
            f"{', '.join(POLICE_MONTHS)}"
        )
    frames = []
    for month in months:
        path = Path(data_dir) / "sources" / "police_uk" / f"{month}-warwickshire-street.csv.gz"
        fix = _RESTORE.format(path=path)
        if not path.exists():
            raise ProfilerError(f"{path}: police.uk file missing; {fix}")
        try:
            frames.append(pd.read_csv(path, usecols=list(_POLICE_COLUMNS)))
        except (ValueError, OSError, EOFError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ProfilerError(f"{path}: cannot read police.uk CSV ({first}); {fix}") from None
    df = pd.concat(frames, ignore_index=True).rename(columns=_POLICE_COLUMNS)
    df = df[list(_POLICE_COLUMNS.values())]
    return df.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)
