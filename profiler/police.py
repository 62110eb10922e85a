"""police.uk street-level crime for any force: a compact store under the data folder, and loaders.

``python -m profiler police import PATH...`` (:func:`import_street_files`) reads the monthly
``YYYY-MM-<force>-street.csv`` files exactly as data.police.uk's download gives them (a folder or
a zip of ``YYYY-MM/YYYY-MM-<force>-street.csv``, single files, or gzipped ``.csv.gz`` copies), for
any force and any months, places every record on a 2021 LSOA and stores the placed records under
``<data>/police/``. The app reads the store with the pure loaders :func:`imported`,
:func:`load_incidents`, :func:`incident_counts` and :func:`forces_covering`; they never read the
raw files.

Placing a record on a 2021 LSOA
-------------------------------
police.uk gives each record the LSOA of its (anonymised, snapped) point: 2011 codes before
police.uk's switch, 2021 codes after. Each record's ``placed`` value says how it got its code:

* ``kept``: its code is an English 2021 LSOA (``lsoa21_code`` of
  ``data/indicators/lsoa21_indicators.csv``). A 2011 code of an LSOA that did not change in 2021
  is the same code, so it is kept too.
* ``merged``: a 2011 code that the ONS lookup (``data/sources/lsoa11_lsoa21_lad22_ew.csv.gz``)
  links to one 2021 LSOA (merged LSOAs).
* ``split_point``: a 2011 code of an LSOA split (or changed irregularly) in 2021, placed in the
  piece whose polygon contains the point.
* ``split_nearest``: as ``split_point``, but the point lies outside every piece's (generalised)
  polygon: the nearest piece (distance in British National Grid metres).
* ``split_households``: as ``split_point`` but without coordinates: the piece with the most
  Census 2021 households, the rule :class:`profiler.partner.CodeLookup` (``largest_part``)
  already applies to a single incident with a 2011 code.
* ``point``: no code but coordinates: the 2021 LSOA containing the point in
  ``data/boundaries/england_lsoa21_bsc.gpkg`` (200 m generalised, so a point within tens of
  metres of a boundary can land in the neighbour); on a shared edge, the lowest code.

``kept`` records are *placed as is*; the others are *moved*. Records are *dropped*, with the
reason counted, when they have no code and no coordinates (``no_location``), carry a Welsh code
(``code_wales``) or a code that is neither a 2021 nor a 2011 English LSOA (``code_unknown``), or
have a point but no code and the point lies in no English LSOA (``point_outside``).

The store
---------
``<data>/police/<force>/<YYYY-MM>.csv.gz``: one gzipped CSV per force and month (gzip level 9,
header mtime 0 and no file name, so importing the same file twice gives the same bytes), columns
``month, crime_type, longitude, latitude, lsoa21_code, placed``, coordinates to 5 decimals (about
1 m; police.uk's snap points are far coarser), blank when the record has none, rows sorted by
every column in that order of precedence: ``lsoa21_code, crime_type, longitude, latitude,
placed``. Text is kept as text: gzip stores the repeated month, crime type and ``placed`` words
in a few bits each, so integer codes would save little and cost a code table. Measured on the
shipped 44 force-months (332,561 records): 1.91 MB, about 6 bytes a record, against 16.6 MB for
the raw gzipped police.uk files; integer codes for ``crime_type`` and ``placed`` and no
``month`` column gave 1.67 MB (13% less). Sorting by LSOA puts police.uk's shared snap points
next to each other, which is most of the gain.
``<data>/police/manifest.json`` lists every force (display name from ``Falls within``), its
months with the file, the source file name, the records read, stored, placed and dropped by
reason and the file's SHA-256, and per force the records stored per 2021 LSOA (for
:func:`forces_covering`). The store is replaced as a whole: the import writes a complete new copy
beside it and renames it into place only when every file has succeeded.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

STORE_DIR = "police"
MANIFEST = "manifest.json"
FORMAT = "svrp-police-store/1"
STREET_COLUMNS = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)
STORE_COLUMNS = ("month", "crime_type", "longitude", "latitude", "lsoa21_code", "placed")
SORT_COLUMNS = ("lsoa21_code", "crime_type", "longitude", "latitude", "placed")
PLACED = {
    "kept": "2021 code kept (a 2011 code of an unchanged LSOA is the same code)",
    "merged": "2011 code converted to its one 2021 LSOA",
    "split_point": "2011 code of a split LSOA: the piece containing the point",
    "split_nearest": "2011 code of a split LSOA: point outside every piece, the nearest",
    "split_households": "2011 code of a split LSOA, no point: the piece with most households",
    "point": "no code: the 2021 LSOA containing the point",
}
MOVED = tuple(k for k in PLACED if k != "kept")
DROPPED = {
    "no_location": "no LSOA code and no coordinates",
    "code_wales": "LSOA code in Wales",
    "code_unknown": "LSOA code neither an English 2021 nor 2011 LSOA",
    "point_outside": "no code, and the point lies in no English LSOA",
}
STREET_RE = re.compile(
    r"^(?P<month>\d{4}-(?:0[1-9]|1[0-2]))-(?P<force>[a-z0-9]+(?:-[a-z0-9]+)*)-street\.csv"
    r"(?P<gz>\.gz)?$"
)
# The other files a police.uk download may hold: skipped in folders and zips, refused alone.
OTHER_RE = re.compile(r"^\d{4}-\d{2}-[a-z0-9-]+-(?:outcomes|stop-and-search)\.csv(?:\.gz)?$")
MONTH_RE = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])$")
INDICATOR_FILE = Path("indicators") / "lsoa21_indicators.csv"
FIX_DOWNLOAD = ("use the street-level crime CSVs as data.police.uk/data gives them "
                "(YYYY-MM-<force>-street.csv)")


def _shown(values: Iterable[Any], n: int = 3) -> str:
    out = []
    for v in values:
        out.append(repr(v if len(str(v)) <= 40 else str(v)[:40] + "..."))
        if len(out) == n:
            break
    return ", ".join(out)


def _rows(mask: np.ndarray | pd.Series, n: int = 3) -> str:
    """CSV line numbers (header is line 1) of the first ``n`` true rows."""
    idx = np.flatnonzero(np.asarray(mask))
    return ", ".join(str(i + 2) for i in idx[:n]) + (" ..." if len(idx) > n else "")


# -- finding the files ----------------------------------------------------------------------
@dataclass(frozen=True)
class StreetFile:
    """One monthly street file found in the inputs.

    Attributes
    ----------
    label : str
        How messages name it: the path, or ``archive.zip:member`` for a zip member.
    name : str
        The file name (``YYYY-MM-<force>-street.csv`` or ``.csv.gz``).
    month : str
        ``YYYY-MM`` from the name.
    force : str
        The force slug from the name (``leicestershire``, ``avon-and-somerset``...).
    read : callable
        Returns the file's bytes (gzipped or not).
    """

    label: str
    name: str
    month: str
    force: str
    read: Callable[[], bytes] = field(repr=False, compare=False)


def _is_csv(name: str) -> bool:
    return name.lower().endswith((".csv", ".csv.gz"))


def _street(label: str, name: str, read: Callable[[], bytes]) -> StreetFile:
    m = STREET_RE.match(name)
    if m is None:
        raise ProfilerError(
            f"{label}: not a police.uk street file name (expected YYYY-MM-<force>-street.csv "
            f"or .csv.gz, got {name!r}); {FIX_DOWNLOAD}, or remove it from the input"
        )
    return StreetFile(label, name, m["month"], m["force"], read)


def _reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ProfilerError(f"{path}: cannot read ({exc.strerror}); check the file") from None
    return read


def _from_zip(path: Path) -> list[StreetFile]:
    try:
        archive = zipfile.ZipFile(path)
        names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProfilerError(f"{path}: cannot read zip ({exc}); download it again") from None

    def member(name: str) -> Callable[[], bytes]:
        def read() -> bytes:
            try:
                return archive.read(name)
            except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
                raise ProfilerError(f"{path}:{name}: cannot read from the zip ({exc}); "
                                    "download the zip again") from None
        return read

    found = []
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if _is_csv(base) and not OTHER_RE.match(base):
            found.append(_street(f"{path}:{name}", base, member(name)))
    return found


def find_street_files(paths: Sequence[str | Path]) -> list[StreetFile]:
    """List the street files named by ``paths`` (files, folders or zips), in input order.

    Folders are searched recursively and zips member by member; inside them police.uk's
    ``-outcomes.csv`` and ``-stop-and-search.csv`` files are skipped and files that are not CSV
    are ignored, but any other CSV is refused (it is not a street file).

    Parameters
    ----------
    paths : sequence of str or Path
        What the user passed.

    Returns
    -------
    list of StreetFile

    Raises
    ------
    ProfilerError
        A path is missing, a CSV does not have a street-file name, or an input holds no street
        file.
    """
    if not paths:
        raise ProfilerError("police import: no input; pass police.uk street files, folders or zips")
    found: list[StreetFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_csv(p.name)
                           and not OTHER_RE.match(p.name))
            here = [_street(str(p), p.name, _reader(p)) for p in files]
        elif path.is_file() and path.suffix.lower() == ".zip":
            here = _from_zip(path)
        elif path.is_file():
            here = [_street(str(path), path.name, _reader(path))]
        else:
            raise ProfilerError(f"{path}: not found; check the path")
        if not here:
            raise ProfilerError(f"{path}: no YYYY-MM-<force>-street.csv file inside; "
                                f"{FIX_DOWNLOAD}")
        found.extend(here)
    seen: dict[tuple[str, str], str] = {}
    for f in found:
        key = (f.force, f.month)
        if key in seen:
            raise ProfilerError(f"{f.label}: {f.force} {f.month} is also given as {seen[key]}; "
                                "pass each month of a force once")
        seen[key] = f.label
    return found


# -- reading and validating one file --------------------------------------------------------
def read_street_file(source: StreetFile) -> pd.DataFrame:
    """Read and validate one street file.

    Parameters
    ----------
    source : StreetFile

    Returns
    -------
    DataFrame
        The twelve police.uk columns as text (blank, never NaN), plus ``longitude`` and
        ``latitude`` as floats (NaN when blank).

    Raises
    ------
    ProfilerError
        Unreadable (bad gzip, not UTF-8, not CSV), the columns are not police.uk's, the
        ``Month`` column holds another month than the name, a crime type is blank, or a
        coordinate is not a number or out of range.
    """
    label = source.label
    blob = source.read()
    if blob[:2] == b"\x1f\x8b":
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as exc:
            raise ProfilerError(f"{label}: cannot read gzip ({exc}); download the file "
                                "again") from None
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfilerError(f"{label}: not UTF-8 text (byte {exc.start}); {FIX_DOWNLOAD}") from None
    if not text.strip():
        raise ProfilerError(f"{label}: empty file; {FIX_DOWNLOAD}")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProfilerError(f"{label}: cannot read CSV ({first}); {FIX_DOWNLOAD}") from None
    columns = [str(c) for c in df.columns]
    missing = [c for c in STREET_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in STREET_COLUMNS]
    if missing or extra or len(columns) != len(STREET_COLUMNS):
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        what = "; ".join(x for x in (
            f"missing column(s) {_shown(missing, 4)}{more}" if missing else "",
            f"unexpected column(s) {_shown(extra)}" if extra else "",
            f"duplicate column(s) (found {len(columns)})" if not missing and not extra else "",
        ) if x)
        raise ProfilerError(f"{label}: not a police.uk street file: {what}; {FIX_DOWNLOAD}")
    for col in ("Month", "Falls within", "Longitude", "Latitude", "LSOA code", "Crime type"):
        df[col] = df[col].str.strip()
    month = df["Month"]
    other = (month != source.month).to_numpy()
    if other.any():
        raise ProfilerError(
            f"{label}: column Month: {_shown(pd.unique(month[other]))} in row(s) {_rows(other)} "
            f"but the file name says {source.month}; a street file holds one month: use the "
            "files as downloaded, or split it by month"
        )
    blank = (df["Crime type"] == "").to_numpy()
    if blank.any():
        raise ProfilerError(f"{label}: column Crime type: blank in row(s) {_rows(blank)}; "
                            f"{FIX_DOWNLOAD}")
    for col, limit in (("Longitude", 180.0), ("Latitude", 90.0)):
        value = pd.to_numeric(df[col].where(df[col] != ""), errors="coerce")
        bad = ((value.isna() & (df[col] != "")) | (value.abs() > limit)).to_numpy()
        if bad.any():
            raise ProfilerError(
                f"{label}: column {col}: {_shown(pd.unique(df.loc[bad, col]))} in row(s) "
                f"{_rows(bad)} not a number from -{limit:g} to {limit:g}; {FIX_DOWNLOAD}"
            )
        df[col.lower()] = value.astype("float64")
    return df


# -- placing records on 2021 LSOAs ----------------------------------------------------------
@dataclass
class Geography:
    """What placing needs: English 2021 codes, 2011 links, and the 2021 polygons.

    Attributes
    ----------
    codes21 : frozenset
        English 2021 LSOA codes (the indicator table's ``lsoa21_code``).
    pieces : dict
        2011 code -> sorted tuple of the English 2021 codes it links to.
    largest_part : dict
        2011 code -> the piece with the most Census 2021 households
        (:attr:`profiler.partner.CodeLookup.largest_part`).
    codes : ndarray
        2021 code of each polygon, in the order of ``geometry``.
    geometry : ndarray
        shapely polygons (EPSG:4326).
    """

    codes21: frozenset
    pieces: dict[str, tuple[str, ...]]
    largest_part: dict[str, str]
    codes: np.ndarray
    geometry: np.ndarray
    _tree: Any = field(default=None, repr=False)
    _index: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, data_dir: str | Path) -> Geography:
        """Read the indicator table's codes, the ONS lookup and the England LSOA polygons.

        Parameters
        ----------
        data_dir : str or Path
            The ``data`` folder.

        Returns
        -------
        Geography
        """
        from profiler.geo import load_lsoa_boundaries
        from profiler.partner import load_code_lookup

        data_dir = Path(data_dir)
        path = data_dir / INDICATOR_FILE
        try:
            table = pd.read_csv(path, usecols=["lsoa21_code", "households_2021"],
                                dtype={"lsoa21_code": str})
        except (OSError, ValueError) as exc:
            raise ProfilerError(f"{path}: cannot read lsoa21_code ({exc}); run "
                                "`python -m profiler build`") from None
        lookup = load_code_lookup(data_dir, households=table.set_index("lsoa21_code")[
            "households_2021"])
        links = lookup.links
        pieces = {k: tuple(sorted(v)) for k, v in
                  links.groupby("lsoa11_code")["lsoa21_code"].agg(list).items()}
        areas = load_lsoa_boundaries(data_dir, "england").sort_values("lsoa21_code")
        return cls(
            codes21=frozenset(table["lsoa21_code"]),
            pieces=pieces,
            largest_part=dict(lookup.largest_part),
            codes=areas["lsoa21_code"].to_numpy(dtype=object),
            geometry=areas.geometry.to_numpy(),
        )

    @property
    def tree(self):
        """STRtree over :attr:`geometry` (built on first use)."""
        if self._tree is None:
            from shapely import STRtree

            self._tree = STRtree(self.geometry)
        return self._tree

    def index_of(self, code: str) -> int:
        """Position of a 2021 code in :attr:`codes`."""
        if self._index is None:
            self._index = {c: i for i, c in enumerate(self.codes)}
        return self._index[code]

    def containing(self, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
        """Every (point, LSOA) pair where the LSOA's polygon contains or touches the point.

        Returns
        -------
        DataFrame
            ``i`` (position in ``lon``), ``lsoa21_code``; sorted by both.
        """
        import shapely

        points = shapely.points(lon, lat)
        i, j = self.tree.query(points, predicate="intersects")
        pairs = pd.DataFrame({"i": i, "lsoa21_code": self.codes[j]})
        return pairs.sort_values(["i", "lsoa21_code"], ignore_index=True)


def place_records(df: pd.DataFrame, geo: Geography) -> tuple[pd.DataFrame, dict[str, int]]:
    """Give every record a 2021 LSOA, or a reason for dropping it.

    Parameters
    ----------
    df : DataFrame
        From :func:`read_street_file`.
    geo : Geography

    Returns
    -------
    tuple of (DataFrame, dict)
        The kept records (``crime_type``, ``longitude``, ``latitude``, ``lsoa21_code``,
        ``placed``; unsorted) and the number of records dropped for each reason in
        :data:`DROPPED`.
    """
    n = len(df)
    code = df["LSOA code"].to_numpy(dtype=object)
    lon = df["longitude"].to_numpy(dtype=float)
    lat = df["latitude"].to_numpy(dtype=float)
    has_point = ~(np.isnan(lon) | np.isnan(lat))
    out = np.full(n, None, dtype=object)
    placed = np.full(n, None, dtype=object)
    dropped = np.full(n, None, dtype=object)

    codes = pd.Series(code)
    kept = codes.isin(geo.codes21).to_numpy()
    out[kept] = code[kept]
    placed[kept] = "kept"
    n_pieces = codes.map({k: len(v) for k, v in geo.pieces.items()}).fillna(0).to_numpy()
    in11 = ~kept & (n_pieces > 0)
    merged = in11 & (n_pieces == 1)
    out[merged] = [geo.pieces[c][0] for c in code[merged]]
    placed[merged] = "merged"
    split = in11 & (n_pieces > 1)
    no_code = code == ""

    # Split 2011 LSOAs with a point: the piece containing it, else the nearest piece.
    split_pt = np.flatnonzero(split & has_point)
    if len(split_pt):
        cand = pd.DataFrame({"i": split_pt, "lsoa21_code": [geo.pieces[c] for c in
                                                              code[split_pt]]})
        cand = cand.explode("lsoa21_code", ignore_index=True)
        hits = geo.containing(lon[split_pt], lat[split_pt])
        hits["i"] = split_pt[hits["i"].to_numpy()]
        hits = hits.merge(cand, on=["i", "lsoa21_code"]).drop_duplicates("i")
        out[hits["i"].to_numpy()] = hits["lsoa21_code"].to_numpy()
        placed[hits["i"].to_numpy()] = "split_point"
        rest = cand[~cand["i"].isin(hits["i"])]
        if len(rest):
            import geopandas as gpd

            polys = gpd.GeoSeries(geo.geometry[[geo.index_of(c) for c in rest["lsoa21_code"]]],
                                  crs=4326).to_crs(27700)
            pts = gpd.GeoSeries(gpd.points_from_xy(lon[rest["i"]], lat[rest["i"]]),
                                crs=4326).to_crs(27700)
            rest = rest.assign(d=polys.distance(pts, align=False).to_numpy())
            best = rest.sort_values(["i", "d", "lsoa21_code"]).drop_duplicates("i")
            out[best["i"].to_numpy()] = best["lsoa21_code"].to_numpy()
            placed[best["i"].to_numpy()] = "split_nearest"
    split_no_pt = split & ~has_point
    out[split_no_pt] = [geo.largest_part[c] for c in code[split_no_pt]]
    placed[split_no_pt] = "split_households"

    # No code: point-in-polygon over England; on a shared edge the lowest code.
    by_point = np.flatnonzero(no_code & has_point)
    if len(by_point):
        hits = geo.containing(lon[by_point], lat[by_point]).drop_duplicates("i")
        where = by_point[hits["i"].to_numpy()]
        out[where] = hits["lsoa21_code"].to_numpy()
        placed[where] = "point"
    dropped[no_code & ~has_point] = "no_location"
    dropped[no_code & has_point & pd.isna(placed)] = "point_outside"
    other = ~kept & ~in11 & ~no_code
    welsh = other & codes.str.startswith("W").to_numpy()
    dropped[welsh] = "code_wales"
    dropped[other & ~welsh] = "code_unknown"

    keep = ~pd.isna(placed)
    records = pd.DataFrame({
        "crime_type": df["Crime type"].to_numpy(dtype=object)[keep],
        "longitude": lon[keep],
        "latitude": lat[keep],
        "lsoa21_code": out[keep],
        "placed": placed[keep],
    })
    counts = pd.Series(dropped[~keep]).value_counts()
    return records, {k: int(counts.get(k, 0)) for k in DROPPED}


def store_bytes(records: pd.DataFrame, month: str) -> bytes:
    """Serialise one month's placed records deterministically (sorted CSV, gzip mtime 0).

    Parameters
    ----------
    records : DataFrame
        From :func:`place_records`.
    month : str
        ``YYYY-MM``.

    Returns
    -------
    bytes
        The ``.csv.gz`` file content.
    """
    frame = records.assign(month=month)[list(STORE_COLUMNS)]
    # Round first so the sort sees the stored values (ties then order by the later columns).
    frame["longitude"] = frame["longitude"].round(5)
    frame["latitude"] = frame["latitude"].round(5)
    frame = frame.sort_values(list(SORT_COLUMNS), kind="mergesort", na_position="last")
    for col in ("longitude", "latitude"):
        frame[col] = [f"{v:.5f}" if v == v else "" for v in frame[col].tolist()]
    text = io.StringIO()
    # csv quotes a field only when it must, as pandas' to_csv does (and 4x faster here).
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(STORE_COLUMNS)
    writer.writerows(frame.itertuples(index=False, name=None))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buf.getvalue()


# -- the import -----------------------------------------------------------------------------
@dataclass
class MonthResult:
    """One imported force-month: its stored bytes and its counts."""

    source: StreetFile
    force_name: str
    rows: int
    placed: dict[str, int]
    dropped: dict[str, int]
    blob: bytes

    @property
    def stored(self) -> int:
        """Records stored (placed as is or moved)."""
        return sum(self.placed.values())

    def entry(self) -> dict[str, Any]:
        """Return the manifest entry for this month."""
        return {
            "file": f"{self.source.force}/{self.source.month}.csv.gz",
            "source": self.source.name,
            "rows": self.rows,
            "stored": self.stored,
            "placed": self.placed,
            "dropped": self.dropped,
            "bytes": len(self.blob),
            "sha256": hashlib.sha256(self.blob).hexdigest(),
        }


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    months : list of MonthResult
        One per imported file, in input order.
    store : Path
        The store folder written.
    seconds : float
        Wall time of the whole import.
    """

    months: list[MonthResult]
    store: Path
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        """Count by force: records read, placed as is, moved and dropped by reason, stored."""
        rows: dict[str, dict[str, int]] = {}
        for m in self.months:
            col = rows.setdefault(m.source.force, {"months": 0, "records read": 0})
            col["months"] += 1
            col["records read"] += m.rows
            for k, v in m.placed.items():
                label = f"placed as is ({k})" if k == "kept" else f"moved: {k}"
                col[label] = col.get(label, 0) + v
            for k, v in m.dropped.items():
                col[f"dropped: {k}"] = col.get(f"dropped: {k}", 0) + v
            col["stored"] = col.get("stored", 0) + m.stored
        table = pd.DataFrame(rows).fillna(0).astype(int)
        if len(rows) > 1:
            table["total"] = table.sum(axis=1)
        return table

    def lines(self) -> list[str]:
        """Return the report as the CLI prints it."""
        months = sorted({m.source.month for m in self.months})
        head = (f"imported {len(self.months)} file(s), {len({m.source.force for m in self.months})}"
                f" force(s), {months[0]}..{months[-1]}, into {self.store} in "
                f"{self.seconds:.1f} s")
        shown = self.table().map(lambda v: f"{v:,}")
        return [head, *shown.to_string().splitlines()]


def _empty_manifest() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "columns": list(STORE_COLUMNS),
        "placed": PLACED,
        "dropped": DROPPED,
        "forces": {},
    }


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Serialise in one fixed key order (months before the long per-LSOA counts)."""
    forces = {}
    for slug in sorted(manifest["forces"]):
        force = manifest["forces"][slug]
        forces[slug] = {
            "name": force["name"],
            "months": {m: force["months"][m] for m in sorted(force["months"])},
            "lsoa_records": {k: force["lsoa_records"][k] for k in sorted(force["lsoa_records"])},
        }
    canonical = {**_empty_manifest(), "forces": forces}
    return (json.dumps(canonical, indent=1, ensure_ascii=False) + "\n").encode()


def _lsoa_records(folder: Path, months: Iterable[str]) -> dict[str, int]:
    frames = [pd.read_csv(folder / f"{m}.csv.gz", usecols=["lsoa21_code"], dtype=str)
              for m in months]
    if not frames:
        return {}
    counts = pd.concat(frames)["lsoa21_code"].value_counts()
    return {k: int(counts[k]) for k in sorted(counts.index)}


def import_street_files(
    paths: Sequence[str | Path],
    data_dir: str | Path = "data",
    *,
    store_dir: str | Path | None = None,
    replace: bool = False,
    geography: Geography | None = None,
) -> ImportReport:
    """Import police.uk street files into the store; all of them or nothing.

    Parameters
    ----------
    paths : sequence of str or Path
        Street files (``.csv`` or ``.csv.gz``), folders or zips of them.
    data_dir : str or Path
        The ``data`` folder: reference data (codes, lookup, boundaries) is read from it.
    store_dir : str or Path, optional
        Where the store is; default ``<data_dir>/police``.
    replace : bool
        Allow months already in the store to be imported again (they are replaced).
    geography : Geography, optional
        Reference data already loaded with :meth:`Geography.load` (to import several times
        without reading the boundaries again); default: loaded from ``data_dir``.

    Returns
    -------
    ImportReport

    Raises
    ------
    ProfilerError
        Any input is not a valid street file, or a force-month is already imported and
        ``replace`` is false. The store is then unchanged.
    """
    start = time.perf_counter()
    data_dir = Path(data_dir)
    store = Path(store_dir) if store_dir is not None else data_dir / STORE_DIR
    sources = find_street_files(paths)
    manifest = _read_manifest(store) if (store / MANIFEST).exists() else _empty_manifest()
    if not replace:
        for s in sources:
            have = manifest["forces"].get(s.force, {}).get("months", {})
            if s.month in have:
                raise ProfilerError(
                    f"{s.label}: {s.force} {s.month} is already imported "
                    f"({store / have[s.month]['file']}); leave it out, or pass --replace to "
                    "import it again"
                )
    # Every file is validated before the (slower) reference data is read: a bad input fails fast.
    needed = ["Falls within", "LSOA code", "Crime type", "longitude", "latitude"]
    frames = [read_street_file(s)[needed] for s in sources]
    geo = geography if geography is not None else Geography.load(data_dir)
    results = []
    for s, df in zip(sources, frames, strict=True):
        records, dropped = place_records(df, geo)
        counts = records["placed"].value_counts()
        names = df["Falls within"][df["Falls within"] != ""].value_counts()
        results.append(MonthResult(
            source=s,
            force_name=str(names.index[0]) if len(names) else s.force,
            rows=len(df),
            placed={k: int(counts.get(k, 0)) for k in PLACED},
            dropped=dropped,
            blob=store_bytes(records, s.month),
        ))
    _write_store(store, manifest, results)
    return ImportReport(results, store, time.perf_counter() - start)


def _write_store(store: Path, manifest: dict[str, Any], results: list[MonthResult]) -> None:
    """Write a full new copy of the store beside it, then swap it in."""
    parent = store.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{store.name}.new-", dir=parent))
    old = None
    try:
        # mkdtemp makes 0700; the store is an ordinary, world-readable data folder.
        os.chmod(staging, 0o755)  # noqa: S103
        if store.exists():
            shutil.copytree(store, staging, dirs_exist_ok=True)
        touched = set()
        for r in results:
            force = manifest["forces"].setdefault(r.source.force,
                                                  {"name": r.force_name, "months": {}})
            force["name"] = r.force_name
            force["months"][r.source.month] = r.entry()
            folder = staging / r.source.force
            folder.mkdir(exist_ok=True)
            (folder / f"{r.source.month}.csv.gz").write_bytes(r.blob)
            touched.add(r.source.force)
        for slug in touched:
            force = manifest["forces"][slug]
            force["lsoa_records"] = _lsoa_records(staging / slug, force["months"])
        (staging / MANIFEST).write_bytes(_manifest_bytes(manifest))
        if store.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{store.name}.old-", dir=parent))
            os.replace(store, old / store.name)
        os.replace(staging, store)
    except BaseException:
        if old is not None and (old / store.name).exists() and not store.exists():
            os.replace(old / store.name, store)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


# -- loaders --------------------------------------------------------------------------------
def _store(data_dir: str | Path) -> Path:
    return Path(data_dir) / STORE_DIR


def _read_manifest(store: Path) -> dict[str, Any]:
    path = store / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfilerError(f"{path}: no police.uk store; import one with `python -m profiler "
                            "police import PATH...`") from None
    except (OSError, ValueError) as exc:
        raise ProfilerError(f"{path}: cannot read ({exc}); restore it with git or re-import "
                            "with scripts/import_police.py") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ProfilerError(f"{path}: format {got!r}, expected {FORMAT!r}; re-import with "
                            "scripts/import_police.py")
    return manifest


def imported(data_dir: str | Path) -> dict[str, Any]:
    """Return the store's manifest: the imported forces and months, and their counts.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.

    Returns
    -------
    dict
        ``{"format", "columns", "placed", "dropped", "forces": {slug: {"name", "months":
        {YYYY-MM: {"file", "source", "rows", "stored", "placed", "dropped", "bytes",
        "sha256"}}, "lsoa_records": {lsoa21_code: n}}}}``. With no store yet, ``forces`` is
        empty.

    Raises
    ------
    ProfilerError
        If the manifest is unreadable or of another format.
    """
    store = _store(data_dir)
    if not (store / MANIFEST).exists():
        return _empty_manifest()
    return _read_manifest(store)


def _as_set(values: str | Iterable[str] | None) -> set[str] | None:
    if values is None:
        return None
    return {values} if isinstance(values, str) else {str(v) for v in values}


def _select(manifest: dict[str, Any], forces: set[str] | None,
            months: set[str] | None) -> list[tuple[str, str, str]]:
    have = manifest["forces"]
    if forces is not None:
        unknown = sorted(forces - set(have))
        if unknown:
            raise ProfilerError(f"police store: force(s) {_shown(unknown)} not imported; "
                                f"imported: {', '.join(have) or 'none'}")
    if months is not None:
        bad = sorted(m for m in months if not MONTH_RE.match(m))
        if bad:
            raise ProfilerError(f"police store: month(s) {_shown(bad)} not YYYY-MM")
    return [(slug, month, entry["file"]) for slug, force in have.items()
            if forces is None or slug in forces
            for month, entry in force["months"].items()
            if months is None or month in months]


def forces_covering(data_dir: str | Path, lsoa_codes: Iterable[str]) -> dict[str, int]:
    """Which imported forces have records in these 2021 LSOAs, and how many.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    lsoa_codes : iterable of str
        2021 LSOA codes (e.g. a home area's).

    Returns
    -------
    dict
        Force slug -> records stored in those LSOAs over all its imported months, only forces
        with at least one, most records first (ties by slug). A force's own area gives large
        counts; a neighbour's records that fell across the border give small ones.
    """
    codes = _as_set(lsoa_codes) or set()
    counts = {}
    for slug, force in imported(data_dir)["forces"].items():
        n = sum(v for k, v in force.get("lsoa_records", {}).items() if k in codes)
        if n:
            counts[slug] = n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def latest_block(months: Iterable[str], most: int = 12) -> tuple[str, ...]:
    """Return the latest run of consecutive ``YYYY-MM`` months, at most ``most`` long.

    Shipped months of 2018-19 and 2024 for one force: the map and the observed-violence
    indicators use the 2024 run, not a mix of two periods five years apart.
    """
    ordered = sorted(set(months))
    if not ordered:
        return ()

    def index(m: str) -> int:
        return int(m[:4]) * 12 + int(m[5:7]) - 1

    run = [ordered[-1]]
    for month in reversed(ordered[:-1]):
        if index(run[-1]) - index(month) != 1 or len(run) >= most:
            break
        run.append(month)
    return tuple(reversed(run))


def force_slug(name: str) -> str:
    """Return police.uk's force slug for a force or police force area name.

    ``"West Mercia"`` -> ``west-mercia``; a trailing ``Police`` is dropped.
    """
    slug = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    return slug.removesuffix("-police")


def load_incidents(
    data_dir: str | Path,
    lsoa_codes: Iterable[str] | None = None,
    forces: str | Iterable[str] | None = None,
    months: str | Iterable[str] | None = None,
    crime_types: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Load stored police.uk records, filtered.

    Only the files of the selected forces and months are read, and with ``lsoa_codes`` only
    those of forces with records there (:func:`forces_covering`).

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    lsoa_codes : iterable of str, optional
        Keep records placed in these 2021 LSOAs.
    forces : str or iterable of str, optional
        Force slugs (``west-mercia``); an unknown one is an error.
    months : str or iterable of str, optional
        ``YYYY-MM`` months; months not imported simply match nothing.
    crime_types : str or iterable of str, optional
        police.uk crime types (``Violence and sexual offences``).

    Returns
    -------
    DataFrame
        ``force``, ``month``, ``crime_type``, ``lsoa21_code``, ``placed`` (categoricals) and
        ``longitude``, ``latitude`` (float64, NaN for the few records placed without a point),
        ordered by force, month, then as stored; a fresh RangeIndex.

    Raises
    ------
    ProfilerError
        A force is not imported, a month is not ``YYYY-MM``, or a stored file is missing or
        unreadable.
    """
    manifest = imported(data_dir)
    codes = _as_set(lsoa_codes)
    wanted = _as_set(forces)
    if codes is not None:
        covering = set(forces_covering(data_dir, codes))
        _select(manifest, wanted, None)  # validates the force names
        wanted = covering if wanted is None else wanted & covering
    files = _select(manifest, wanted, _as_set(months))
    types = _as_set(crime_types)
    store = _store(data_dir)
    frames = []
    for slug, _month, name in files:
        path = store / name
        try:
            frame = pd.read_csv(path, dtype={"month": str, "crime_type": str,
                                             "lsoa21_code": str, "placed": str,
                                             "longitude": "float64", "latitude": "float64"})
        except (OSError, ValueError, EOFError) as exc:
            raise ProfilerError(f"{path}: cannot read ({exc}); restore it with git or "
                                "re-import with scripts/import_police.py") from None
        keep = np.ones(len(frame), dtype=bool)
        if codes is not None:
            keep &= frame["lsoa21_code"].isin(codes).to_numpy()
        if types is not None:
            keep &= frame["crime_type"].isin(types).to_numpy()
        frames.append(frame[keep].assign(force=slug))
    columns = ["force", "month", "crime_type", "lsoa21_code", "placed", "longitude",
               "latitude"]
    if not frames:
        out = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("longitude", "latitude")
                                         else "category") for c in columns})
        return out
    out = pd.concat(frames, ignore_index=True)[columns]
    for col in ("force", "month", "crime_type", "lsoa21_code", "placed"):
        out[col] = out[col].astype("category")
    return out


def incident_counts(
    data_dir: str | Path,
    lsoa_codes: Iterable[str] | None = None,
    forces: str | Iterable[str] | None = None,
    months: str | Iterable[str] | None = None,
    crime_types: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Count records per 2021 LSOA, month and crime type (all forces together).

    Parameters
    ----------
    data_dir, lsoa_codes, forces, months, crime_types
        As for :func:`load_incidents`.

    Returns
    -------
    DataFrame
        ``lsoa21_code``, ``month``, ``crime_type`` (str) and ``count`` (int64), only
        combinations with at least one record, sorted by the three keys.
    """
    df = load_incidents(data_dir, lsoa_codes=lsoa_codes, forces=forces, months=months,
                        crime_types=crime_types)
    keys = ["lsoa21_code", "month", "crime_type"]
    counts = df.groupby(keys, observed=True).size().rename("count").reset_index()
    for k in keys:
        counts[k] = counts[k].astype(str)
    counts["count"] = counts["count"].astype("int64")
    return counts.sort_values(keys, ignore_index=True)
