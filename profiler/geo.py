"""Loading shipped boundaries and police.uk points (file I/O at the edge of the core).

Files are found by name, so any area's can be shipped: an area's detailed boundaries as
:data:`profiler.area.AREA_FILES` names them (``boundaries/<area>_lsoa21.gpkg``, ``<area>`` its
:attr:`profiler.area.HomeArea.slug`), ``boundaries/england_lsoa21_bsc.gpkg`` for England, and
``sources/police_uk/<YYYY-MM>-<force>-street.csv.gz`` for a force's police.uk months as
published (``<force>`` police.uk's slug). ``data/PROVENANCE.md`` says which are shipped.

Every loader raises :class:`profiler.errors.ProfilerError` with a one-line message naming the
file and the fix when a file is missing or malformed; nothing here reads outside ``data_dir``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from profiler.area import AREA_FILES
from profiler.errors import ProfilerError
from profiler.police import STREET_RE

ENGLAND = "england"
ENGLAND_LSOA_FILE = "england_lsoa21_bsc.gpkg"
# An area's detailed 2021 LSOAs are boundaries/<slug><LSOA_SUFFIX> (AREA_FILES["lsoa21"]).
LSOA_SUFFIX = Path(AREA_FILES["lsoa21"]).name.replace("{slug}", "")
POLICE_DIR = Path("sources") / "police_uk"
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
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


def lsoa_file(scope: str) -> str:
    """Name the 2021 LSOA file of a scope: ``england``'s, or ``<area>_lsoa21.gpkg``.

    Raises
    ------
    ProfilerError
        If ``scope`` is not ``england`` or an area slug (lower case, digits and hyphens).
    """
    if scope == ENGLAND:
        return ENGLAND_LSOA_FILE
    if not _SLUG_RE.match(str(scope)):
        raise ProfilerError(f"boundaries: unknown scope {str(scope)[:40]!r}; use {ENGLAND!r} or "
                            "an area's slug (lower case, e.g. the file name's <area> in "
                            f"boundaries/<area>{LSOA_SUFFIX})")
    return f"{scope}{LSOA_SUFFIX}"


def detailed_lsoa_files(data_dir: str | Path) -> tuple[str, ...]:
    """Name the shipped areas' detailed 2021 LSOA files (``boundaries/<area>_lsoa21.gpkg``).

    England's file is not one of them; sorted by name.
    """
    folder = Path(data_dir) / "boundaries"
    return tuple(sorted(p.name for p in folder.glob(f"*{LSOA_SUFFIX}")
                        if p.name != ENGLAND_LSOA_FILE))


def covering_scope(data_dir: str | Path, lsoa_codes) -> str:
    """Pick the most detailed shipped 2021 LSOA file that covers every code.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    lsoa_codes : iterable of str
        2021 LSOA codes (an area's).

    Returns
    -------
    str
        The slug of the first area file (:func:`detailed_lsoa_files`) holding every code, else
        ``"england"``; a scope for :func:`load_lsoa_boundaries`. Only the files' code columns
        are read.
    """
    import pyogrio

    codes = set(lsoa_codes)
    folder = Path(data_dir) / "boundaries"
    for name in detailed_lsoa_files(data_dir) if codes else ():
        try:
            shipped = pyogrio.read_dataframe(folder / name, columns=["lsoa21_code"],
                                             read_geometry=False)
        except Exception:  # noqa: S112 - an unreadable optional detail file: use England's
            continue
        if codes <= set(shipped["lsoa21_code"]):
            return name.removesuffix(LSOA_SUFFIX)
    return ENGLAND


def load_lsoa_boundaries(data_dir: str | Path, scope: str) -> gpd.GeoDataFrame:
    """Load 2021 LSOA polygons.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    scope : str
        ``"england"`` (super-generalised, 200 m, 33,755 LSOAs), or an area's slug whose
        detailed file ``boundaries/<slug>_lsoa21.gpkg`` is shipped (the default area's is, at
        generalised 20 m resolution; see :func:`detailed_lsoa_files`).

    Returns
    -------
    GeoDataFrame
        ``lsoa21_code``, ``lsoa21_name``, ``lad_code`` and geometry, in EPSG:4326.

    Raises
    ------
    ProfilerError
        If ``scope`` is unknown or the file is missing or malformed.
    """
    path = Path(data_dir) / "boundaries" / lsoa_file(scope)
    if not path.exists() and scope != ENGLAND:
        shipped = [n.removesuffix(LSOA_SUFFIX) for n in detailed_lsoa_files(data_dir)]
        raise ProfilerError(f"{path}: boundary file missing; use scope {ENGLAND!r}"
                            + "".join(f" or {s!r}" for s in shipped) + ", or "
                            + _RESTORE.format(path=path))
    return _read_gpkg(path, ("lsoa21_code", "lsoa21_name", "lad_code"))


def load_districts(data_dir: str | Path, area: str) -> gpd.GeoDataFrame:
    """Load an area's district outlines (``boundaries/<area>_districts.gpkg``).

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    area : str
        The area's slug (:attr:`profiler.area.HomeArea.slug`).

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
    path = Path(data_dir) / AREA_FILES["districts"].format(slug=_slug(area))
    return _read_gpkg(path, ("lad_code", "lad_name"))


def load_wards(data_dir: str | Path, area: str) -> gpd.GeoDataFrame:
    """Load an area's 2025 electoral wards (``boundaries/<area>_wards25.gpkg``).

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    area : str
        The area's slug (:attr:`profiler.area.HomeArea.slug`).

    Returns
    -------
    GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code`` and geometry (EPSG:4326).

    Raises
    ------
    ProfilerError
        If the file is missing or malformed.
    """
    path = Path(data_dir) / AREA_FILES["wards"].format(slug=_slug(area))
    return _read_gpkg(path, ("ward_code", "ward_name", "lad_code"))


def _slug(area: str) -> str:
    if not _SLUG_RE.match(str(area)):
        raise ProfilerError(f"boundaries: {str(area)[:40]!r} is not an area slug; use the "
                            "lower-case file-name form of its name, e.g. north-worcestershire")
    return area


def shipped_police_forces(data_dir: str | Path, months: tuple[str, ...] | list[str] = ()
                          ) -> tuple[str, ...]:
    """Name the forces whose police.uk street files ``sources/police_uk/`` ships.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : sequence of str, optional
        Only forces with a file for every one of these ``YYYY-MM`` months.

    Returns
    -------
    tuple of str
        police.uk force slugs, sorted.
    """
    found: dict[str, set[str]] = {}
    for path in (Path(data_dir) / POLICE_DIR).glob("*-street.csv.gz"):
        match = STREET_RE.match(path.name)
        if match:
            found.setdefault(match["force"], set()).add(match["month"])
    return tuple(sorted(f for f, have in found.items() if set(months) <= have))


def load_police_points(
    data_dir: str | Path,
    months: list[str] | tuple[str, ...] | None = None,
    forces: list[str] | tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Load shipped police.uk street-level records (``sources/police_uk/``).

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : list of str, optional
        ``YYYY-MM`` months to load; default January-April 2024 (``DEFAULT_POLICE_MONTHS``).
        The 2018-19 months carry 2011 LSOA codes, the 2024 months 2021 codes.
    forces : list of str, optional
        police.uk force slugs; default every force shipped (:func:`shipped_police_forces`).

    Returns
    -------
    DataFrame
        ``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa_code``, ``location``;
        rows without coordinates are dropped. police.uk snaps each location to a street or
        public place for anonymity.

    Raises
    ------
    ProfilerError
        If a month is not shipped, no force is, or a file is missing or malformed.
    """
    months = tuple(months) if months else DEFAULT_POLICE_MONTHS
    unknown = [m for m in months if m not in POLICE_MONTHS]
    if unknown:
        raise ProfilerError(
            f"police.uk: no file for month(s) {', '.join(map(str, unknown))}; shipped months: "
            f"{', '.join(POLICE_MONTHS)}"
        )
    folder = Path(data_dir) / POLICE_DIR
    forces = tuple(forces) if forces else shipped_police_forces(data_dir)
    if not forces:
        raise ProfilerError(f"{folder}: no police.uk street files (<YYYY-MM>-<force>-"
                            f"street.csv.gz); {_RESTORE.format(path=folder)}")
    frames = []
    for force, month in ((f, m) for f in forces for m in months):
        path = folder / f"{month}-{force}-street.csv.gz"
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
