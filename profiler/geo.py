"""Loading shipped boundaries and police.uk points (file I/O at the edge of the core)."""

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


def _read_gpkg(path: Path, required: tuple[str, ...]) -> gpd.GeoDataFrame:
    if not path.exists():
        raise ProfilerError(
            f"{path}: boundary file missing; restore it with `git checkout -- {path}`"
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear line
        raise ProfilerError(f"{path}: cannot read GeoPackage ({exc})") from None
    absent = [c for c in required if c not in gdf.columns]
    if absent:
        raise ProfilerError(f"{path}: missing column(s) {', '.join(absent)}")
    return gdf


def load_lsoa_boundaries(data_dir: str | Path, scope: str = "warwickshire") -> gpd.GeoDataFrame:
    """2021 LSOA polygons (EPSG:4326) with ``lsoa21_code``, ``lsoa21_name``, ``lad_code``.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    scope : {"warwickshire", "england"}
        Warwickshire at generalised (20 m) resolution, or England super-generalised (200 m).
    """
    if scope not in LSOA_FILES:
        raise ProfilerError(f"boundaries: scope {scope!r}; use one of {', '.join(LSOA_FILES)}")
    path = Path(data_dir) / "boundaries" / LSOA_FILES[scope]
    return _read_gpkg(path, ("lsoa21_code", "lsoa21_name", "lad_code"))


def load_districts(data_dir: str | Path) -> gpd.GeoDataFrame:
    """Warwickshire's five district outlines with ``lad_code`` and ``lad_name``."""
    path = Path(data_dir) / "boundaries" / "warwickshire_districts.gpkg"
    return _read_gpkg(path, ("lad_code", "lad_name"))


def load_wards(data_dir: str | Path) -> gpd.GeoDataFrame:
    """Warwickshire's 2025 electoral wards with ``ward_code``, ``ward_name``, ``lad_code``."""
    path = Path(data_dir) / "boundaries" / "warwickshire_wards25.gpkg"
    return _read_gpkg(path, ("ward_code", "ward_name", "lad_code"))


def load_police_points(
    data_dir: str | Path, months: list[str] | tuple[str, ...] | None = None
) -> pd.DataFrame:
    """police.uk street-level records for Warwickshire Police.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : list of str, optional
        ``YYYY-MM`` months (default: Jan-Apr 2024).

    Returns
    -------
    DataFrame
        ``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa_code``, ``location``;
        rows without coordinates are dropped. Locations are snapped to a street or public place
        by police.uk for anonymity.
    """
    months = tuple(months or POLICE_MONTHS[-4:])
    unknown = [m for m in months if m not in POLICE_MONTHS]
    if unknown:
        raise ProfilerError(
            f"police.uk: no file for month(s) {', '.join(unknown)}; shipped months: "
            f"{', '.join(POLICE_MONTHS)}"
        )
    frames = []
    for month in months:
        path = Path(data_dir) / "sources" / "police_uk" / f"{month}-warwickshire-street.csv.gz"
        if not path.exists():
            raise ProfilerError(f"{path}: police.uk file missing; restore data/sources")
        frames.append(pd.read_csv(path, usecols=["Month", "Crime type", "Longitude", "Latitude",
                                                 "LSOA code", "Location"]))
    df = pd.concat(frames, ignore_index=True).rename(columns={
        "Month": "month", "Crime type": "crime_type", "Longitude": "longitude",
        "Latitude": "latitude", "LSOA code": "lsoa_code", "Location": "location",
    })
    return df.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)
