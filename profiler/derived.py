"""Area-specific derived tables for any set of 2021 LSOAs: hot spots, band stability, change.

The dashboard's home area can be any partnership in England: a county, a police force area, one
district or a list of districts. Three tables depend on the area as well as on the scores, so
they cannot be precomputed for every choice: Getis-Ord Gi* hot spots (:func:`area_hotspots`),
Monte Carlo band stability (:func:`area_stability`) and the IoD2019 vs IoD2025 comparison
(:func:`area_change`). Each is computed here from the England-wide data already shipped, for the
area's LSOAs alone, so the app can build them on an area's first use and cache them. For an
area whose ``data/indicators/<kind>_<area>.csv`` tables are shipped (the default area's) each
reproduces the shipped table.

Choices, and why
----------------
* **The area is its own universe.** Hot spots are clusters *within the area*: the Gi* weights
  link only the area's LSOAs, and the null hypothesis (random placement) is over the area's
  values. That is what the shipped table did (the default area's LSOAs, no ring of outside
  neighbours), and it matches the bands, which are relative to the reference area. The edge
  effect: an LSOA on the area's boundary counts only its neighbours inside the area, so its
  local sum rests on fewer values; a cluster straddling the boundary shows only its inside half.
* **Boundaries.** Queen contiguity (polygons sharing a vertex, libpysal's definition) is computed
  on the most detailed shipped boundaries that cover the whole area: an area's generalised
  (20 m) file (``boundaries/<area>_lsoa21.gpkg``, shipped for the default area) for areas
  inside it, England's super-generalised (200 m) file otherwise. Resolution matters: on the
  200 m file 12 of the 354 LSOAs of the shipped county (Warwickshire) have different neighbour
  sets and 9 theme classes differ from the shipped table. Only the area's rows are read
  (an SQL ``IN`` filter on the GeoPackage, ~30 ms), so nothing England-wide stays in memory.
* **Islands.** An LSOA with no neighbour in the area (the Isles of Scilly, a detached piece of a
  list of districts) is linked to its nearest LSOA in the area (distance between polygons in
  the British National Grid), as libpysal's ``attach_islands`` does; otherwise its Gi* would
  test a "cluster" of one. Their codes are listed in ``attrs["islands"]``.
* **No numba at first use.** Gi* is computed here with NumPy and SciPy (the analytic,
  normal-approximation p-values of ``esda.G_Local(star=True, transform="B")`` and esda's
  Benjamini-Hochberg cut-off), which gives the same classes as :mod:`profiler.hotspots` without
  importing esda and libpysal: those pull in numba, about 2.4 s and 160 MB on first import.
  :func:`profiler.hotspots.hotspot_table` (with :func:`area_boundaries`) remains the way to get
  permutation p-values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtr

from profiler.change import ChangeSources
from profiler.codes import LSOA21_RE
from profiler.engine import THEMES
from profiler.errors import ProfilerError
from profiler.geo import ENGLAND, covering_scope, lsoa_file
from profiler.spec import Spec
from profiler.stability import StabilitySettings
from profiler.stability import area_stability as _stability

LSOA21 = LSOA21_RE  # profiler.codes: one module for code patterns
# Above this many codes the England file is read whole and filtered (an SQL IN list that long
# is no faster than reading every row).
WHERE_LIMIT = 5_000
BNG = 27700  # British National Grid, metres: nearest-neighbour distances for islands

HOTSPOT_COLUMNS: dict[str, str] = {"overall": "score", **{t: f"{t}_score" for t in THEMES}}
# Gi* significance levels and classes, hot first (profiler.hotspots uses these too).
LEVELS = (0.01, 0.05, 0.10)
CLASSES = (
    "Hot spot (99%)",
    "Hot spot (95%)",
    "Hot spot (90%)",
    "Not significant",
    "Cold spot (90%)",
    "Cold spot (95%)",
    "Cold spot (99%)",
)


# -- the area -------------------------------------------------------------------------------
def area_codes(lsoa_codes: Sequence[str] | pd.Series | pd.Index, what: str = "area") -> list[str]:
    """Check an area's 2021 LSOA codes and return them sorted, each once.

    Parameters
    ----------
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes (``E01`` and six digits).
    what : str
        What the codes are, for the error message.

    Returns
    -------
    list of str

    Raises
    ------
    ProfilerError
        If there are none, or any is not a 2021 LSOA code.
    """
    if isinstance(lsoa_codes, str):
        raise ProfilerError(f"{what}: got one string {lsoa_codes[:20]!r}; pass a list of 2021 "
                            "LSOA codes")
    codes = pd.Series(list(lsoa_codes), dtype=object)
    if codes.empty:
        raise ProfilerError(f"{what}: no LSOA codes; pass the area's 2021 LSOA codes (E01...)")
    bad = codes[~codes.map(lambda c: isinstance(c, str) and LSOA21.fullmatch(c) is not None)]
    if len(bad):
        raise ProfilerError(f"{what}: {len(bad)} value(s) are not 2021 LSOA codes, first "
                            f"{bad.head(3).tolist()}; use codes like E01031005")
    return sorted(set(codes))


def _area_rows(table: pd.DataFrame, codes: list[str], what: str) -> pd.DataFrame:
    """Rows of ``table`` for ``codes``, in the table's order."""
    if "lsoa21_code" not in table.columns:
        raise ProfilerError(f"{what}: table has no lsoa21_code column; pass the indicator table")
    rows = table[table["lsoa21_code"].isin(codes)]
    if rows["lsoa21_code"].duplicated().any():
        dup = rows.loc[rows["lsoa21_code"].duplicated(), "lsoa21_code"].head(3).tolist()
        raise ProfilerError(f"{what}: table repeats LSOA code(s) {dup}; pass one row per LSOA")
    if len(rows) != len(codes):
        absent = sorted(set(codes) - set(rows["lsoa21_code"]))
        raise ProfilerError(f"{what}: {len(absent)} LSOA(s) not in the table, first "
                            f"{absent[:3]}; pass England's indicator table and 2021 codes")
    return rows


def _read_lsoas(path: Path, codes: list[str] | None) -> gpd.GeoDataFrame:
    """Read ``lsoa21_code`` and geometry of a shipped GeoPackage, optionally only ``codes``."""
    import pyogrio

    fix = f"restore it with `git checkout -- {path}`"
    if not path.exists():
        raise ProfilerError(f"{path}: boundary file missing; {fix}")
    # The codes were checked against LSOA21 (letters and digits only), so they are safe to
    # quote into the filter.
    where = None
    if codes is not None:
        where = "lsoa21_code IN (" + ",".join(f"'{c}'" for c in codes) + ")"
    try:
        gdf = pyogrio.read_dataframe(path, columns=["lsoa21_code"], where=where)
    except Exception as exc:  # any reader failure (bad SQLite, no such column) -> one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfilerError(f"{path}: cannot read GeoPackage ({first}); {fix}") from None
    if gdf.crs is None:
        raise ProfilerError(f"{path}: no coordinate reference system; {fix}")
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


def area_boundaries(
    data_dir: str | Path, lsoa_codes: Sequence[str] | pd.Series | pd.Index
) -> gpd.GeoDataFrame:
    """Cut an area's 2021 LSOA polygons from the most detailed shipped file covering it.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder (``boundaries/``).
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes.

    Returns
    -------
    GeoDataFrame
        ``lsoa21_code`` and geometry (EPSG:4326), one row per code, sorted by code;
        ``attrs["boundaries"]`` names the file read (:func:`profiler.geo.covering_scope`).

    Raises
    ------
    ProfilerError
        If a code is malformed or in no shipped boundary file, or a file is unreadable.
    """
    codes = area_codes(lsoa_codes)
    scope = covering_scope(data_dir, codes)
    name = lsoa_file(scope)
    path = Path(data_dir) / "boundaries" / name
    # An area's own file is small: read whole. England's: only the codes, unless very many.
    some = codes if scope == ENGLAND and len(codes) <= WHERE_LIMIT else None
    gdf = _read_lsoas(path, some)
    gdf = gdf[gdf["lsoa21_code"].isin(codes)]
    gdf = gdf.drop_duplicates("lsoa21_code").sort_values("lsoa21_code").reset_index(drop=True)
    if len(gdf) != len(codes):
        absent = sorted(set(codes) - set(gdf["lsoa21_code"]))
        raise ProfilerError(f"{path}: no boundary for {len(absent)} LSOA(s), first {absent[:3]}; "
                            "pass English 2021 LSOA codes")
    gdf.attrs["boundaries"] = name
    return gdf


def area_key(
    kind: str,
    spec: Spec,
    lsoa_codes: Sequence[str] | pd.Series | pd.Index,
    settings: StabilitySettings | None = None,
) -> str:
    """Cache key of an area's stability or change table.

    Parameters
    ----------
    kind : {"stability", "change"}
        Which table.
    spec : Spec
        The spec the table is computed with (what-if weights and profile included).
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes (order and repeats do not matter).
    settings : StabilitySettings, optional
        For ``stability``; defaults to :class:`StabilitySettings`'s defaults.

    Returns
    -------
    str
        Hex SHA-256: equal keys mean equal tables. Hot spots depend on the scores themselves,
        so a caller keys them by its view of the profile and the same codes.
    """
    import hashlib

    from profiler.stability import stability_key

    codes = area_codes(lsoa_codes, kind)
    if kind == "stability":
        base = stability_key(spec, settings)
    elif kind == "change":
        from profiler.change import comparison_spec

        base = comparison_spec(spec).effective_sha256  # the shared indicators, as used
    else:
        raise ProfilerError(f"area_key: kind {kind!r}; use 'stability' or 'change'")
    blob = "\n".join([kind, base, *codes]).encode()
    return hashlib.sha256(blob).hexdigest()


# -- hot spots ------------------------------------------------------------------------------
def queen_adjacency(geometries: gpd.GeoSeries | np.ndarray) -> sparse.csr_matrix:
    """Queen contiguity: polygons sharing at least one vertex are neighbours.

    The same neighbours as ``libpysal.weights.Queen.from_dataframe`` (checked on all 33,755
    English LSOAs), found by grouping identical vertex coordinates, ~10x faster.

    Parameters
    ----------
    geometries : GeoSeries or array of shapely (Multi)Polygons
        One per area.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric ``n x n`` binary matrix, zero diagonal.
    """
    import shapely

    geoms = np.asarray(geometries)
    n = len(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    vertices = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "i": owner}).drop_duplicates()
    shared = vertices[vertices.duplicated(["x", "y"], keep=False)]
    group = pd.DataFrame({"g": shared.groupby(["x", "y"], sort=False).ngroup().to_numpy(),
                          "i": shared["i"].to_numpy()})
    pairs = group.merge(group, on="g")
    pairs = pairs[pairs["i_x"] != pairs["i_y"]].drop_duplicates(["i_x", "i_y"])
    ones = np.ones(len(pairs))
    return sparse.csr_matrix((ones, (pairs["i_x"].to_numpy(), pairs["i_y"].to_numpy())),
                             shape=(n, n))


def attach_islands(
    adjacency: sparse.csr_matrix, geometries: gpd.GeoSeries
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Link each area without neighbours to its nearest area (both ways).

    Parameters
    ----------
    adjacency : scipy.sparse.csr_matrix
        Binary contiguity, zero diagonal.
    geometries : GeoSeries
        The areas' polygons with a CRS, in the matrix's order.

    Returns
    -------
    adjacency : scipy.sparse.csr_matrix
        With the new links (unchanged when there are no islands or fewer than two areas).
    islands : ndarray of int
        Positions of the areas that had no neighbour.
    """
    islands = np.flatnonzero(np.diff(adjacency.indptr) == 0)
    if islands.size == 0 or adjacency.shape[0] < 2:
        return adjacency, islands
    import shapely

    metric = np.asarray(geometries.to_crs(BNG).values)
    tree = shapely.STRtree(metric)
    rows, cols = [], []
    for i in islands:
        # Nearest other polygon; ties go to the lowest position, so the result is stable.
        found = tree.query_nearest(metric[i], all_matches=True, exclusive=True)
        found = found[found != i]
        if found.size:
            j = int(found.min())
            rows += [i, j]
            cols += [j, i]
    links = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=adjacency.shape)
    linked = (adjacency + links).tocsr()
    linked.data[:] = 1.0
    return linked, islands


def _fdr(p: np.ndarray, alpha: float) -> float:
    """Benjamini-Hochberg p-value cut-off, as ``esda.fdr`` (``alpha / n`` if none passes)."""
    n = len(p)
    p_sort = np.sort(p)[::-1]
    p_fdr = np.arange(n, 0, -1) * alpha / n
    passed = np.flatnonzero(p_sort < p_fdr)
    return alpha / n if passed.size == 0 else float(p_fdr[passed[0]])


def gi_star(adjacency: sparse.csr_matrix, values: np.ndarray | pd.Series) -> pd.DataFrame:
    """Getis-Ord Gi* with analytic p-values and FDR-corrected classes.

    The statistic and its moments are those of ``esda.G_Local(y, w, transform="B",
    star=True)`` (binary weights, each area its own neighbour); the p-value is two-sided under
    the normal approximation, and the classes are significance after the Benjamini-Hochberg
    correction at 1%, 5% and 10%, as in :func:`profiler.hotspots.getis_ord`.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_matrix
        Binary contiguity, zero diagonal (e.g. :func:`queen_adjacency`).
    values : array-like
        One finite value per area. Shifted so the minimum is 0 (Gi* needs non-negative
        values; the standardised statistic is unchanged by the shift).

    Returns
    -------
    DataFrame
        ``gi_z``, ``p`` and ``hotspot`` (one of :data:`CLASSES`), in the matrix's order.
    """
    y = np.asarray(values, dtype=float)
    n = y.shape[0]
    if adjacency.shape != (n, n):
        raise ProfilerError(f"hot spots: {n} values for {adjacency.shape[0]} areas; pass one "
                            "value per area")
    if not np.isfinite(y).all():
        raise ProfilerError("hot spots: values contain NaN or infinity; score every area first")
    y = y - y.min()
    if np.ptp(y) == 0:
        return pd.DataFrame({"gi_z": 0.0, "p": 1.0, "hotspot": CLASSES[3]}, index=range(n))
    w = (adjacency + sparse.identity(n, format="csr")).tocsr()
    w.data[:] = 1.0
    total = y.sum()
    statistic = (w @ y) / total
    mean = total / n
    variance = (y**2).sum() / n - mean**2
    cardinality = np.asarray(w.sum(axis=1)).ravel()
    expected = cardinality / n
    # The same operations in the same order as esda, so the z-scores agree to the last bit.
    expected_variance = cardinality * (n - cardinality)
    expected_variance = expected_variance / (n - 1)
    expected_variance = expected_variance * (1 / n**2)
    expected_variance = expected_variance * (variance / mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.nan_to_num((statistic - expected) / np.sqrt(expected_variance))
    p = np.minimum(1.0, 2.0 * ndtr(-np.abs(z)))
    classes = np.full(n, CLASSES[3], dtype=object)
    # Weakest level first, so stronger levels overwrite it.
    for level, hot, cold in zip(LEVELS[::-1], CLASSES[2::-1], CLASSES[4:], strict=True):
        significant = p <= _fdr(p, level)
        classes[significant & (z > 0)] = hot
        classes[significant & (z < 0)] = cold
    return pd.DataFrame({"gi_z": z, "p": p, "hotspot": classes})


def area_hotspots(
    scored: pd.DataFrame,
    data_dir: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Gi* hot and cold spots of an area's scores, the area's own LSOAs as the universe.

    Parameters
    ----------
    scored : DataFrame
        The area's scored profile, one row per LSOA (e.g. from
        :func:`profiler.pipeline.score_scope`): ``lsoa21_code`` and the score columns.
    data_dir : str or Path
        The ``data`` folder; the area's polygons are cut from its boundaries (see
        :func:`area_boundaries`) unless ``boundaries`` is given.
    columns : mapping of str to str, optional
        Output prefix -> score column; default :data:`HOTSPOT_COLUMNS` (``overall`` and each
        theme).
    boundaries : GeoDataFrame, optional
        The area's polygons (``lsoa21_code``, geometry with a CRS), if already loaded.

    Returns
    -------
    DataFrame
        One row per LSOA, sorted by ``lsoa21_code``: ``lsoa21_code`` and per prefix
        ``<prefix>_gi_z`` (standardised Gi*, 4 decimals), ``<prefix>_p`` (two-sided p-value)
        and ``<prefix>_hotspot`` (one of :data:`CLASSES`), the columns of
        ``data/indicators/hotspots_<area>.csv``. ``attrs``: ``boundaries`` (the file
        used) and ``islands`` (codes that had no neighbour and were linked to their nearest
        LSOA).

    Raises
    ------
    ProfilerError
        If ``scored`` lacks a column or repeats an LSOA, has fewer than 3 LSOAs, a score is
        blank, or an LSOA has no boundary.
    """
    columns = dict(columns or HOTSPOT_COLUMNS)
    absent = [c for c in ("lsoa21_code", *columns.values()) if c not in scored.columns]
    if absent:
        raise ProfilerError(f"hot spots: scored table lacks column(s) {', '.join(absent)}; pass "
                            "a scored profile (score_scope) with the theme scores")
    codes = area_codes(scored["lsoa21_code"], "hot spots")
    if len(codes) != len(scored):
        raise ProfilerError("hot spots: scored table repeats LSOA codes; pass one row per LSOA")
    if len(codes) < 3:
        raise ProfilerError(f"hot spots need at least 3 LSOAs, got {len(codes)}; choose a "
                            "larger area")
    if boundaries is None:
        areas = area_boundaries(data_dir, codes)
    else:
        areas = boundaries[boundaries["lsoa21_code"].isin(codes)].drop_duplicates("lsoa21_code")
        areas = areas.sort_values("lsoa21_code").reset_index(drop=True)
        if len(areas) != len(codes):
            missing = sorted(set(codes) - set(areas["lsoa21_code"]))
            raise ProfilerError(f"hot spots: boundaries lack {len(missing)} LSOA(s), first "
                                f"{missing[:3]}; pass the area's polygons or leave them out")
        areas.attrs["boundaries"] = boundaries.attrs.get("boundaries", "given")
    adjacency, islands = attach_islands(queen_adjacency(areas.geometry.values), areas.geometry)
    scores = scored.set_index("lsoa21_code").loc[areas["lsoa21_code"]]
    out = pd.DataFrame({"lsoa21_code": areas["lsoa21_code"].to_numpy()})
    for prefix, column in columns.items():
        g = gi_star(adjacency, scores[column].to_numpy(dtype=float))
        out[f"{prefix}_gi_z"] = g["gi_z"].round(4).to_numpy()
        out[f"{prefix}_p"] = g["p"].to_numpy()
        out[f"{prefix}_hotspot"] = g["hotspot"].to_numpy()
    out.attrs["boundaries"] = areas.attrs.get("boundaries")
    out.attrs["islands"] = out["lsoa21_code"].to_numpy()[islands].tolist()
    return out


# -- band stability -------------------------------------------------------------------------
def area_stability(
    table: pd.DataFrame,
    spec: Spec,
    lsoa_codes: Sequence[str] | pd.Series | pd.Index,
    settings: StabilitySettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Monte Carlo band stability with the area as the reference population.

    :func:`profiler.stability.area_stability` on the area's rows: every draw is fitted and
    banded on the area's LSOAs.

    Parameters
    ----------
    table : DataFrame
        The indicator table (England's or any superset of the area).
    spec : Spec
        The spec (with any what-if weights); its weights centre the draws.
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes.
    settings : StabilitySettings, optional
        Default 1,000 draws, seed 2025 (those of the shipped table).
    progress : callable, optional
        Called as ``progress(done, total)`` after each of ~20 chunks of draws, for a
        background job's progress bar.

    Returns
    -------
    DataFrame
        One row per LSOA in the table's order: ``lsoa21_code``, ``p_high``, ``modal_band``,
        ``p_modal``, ``rank_p05``, ``rank_median``, ``rank_p95`` (the columns of
        ``data/indicators/stability_<area>.csv``).

    Raises
    ------
    ProfilerError
        If a code is malformed or not in the table, the area has fewer than 2 LSOAs, or the
        settings are out of range.
    """
    codes = area_codes(lsoa_codes, "stability")
    if len(codes) < 2:
        raise ProfilerError(f"stability needs at least 2 LSOAs, got {len(codes)}; choose a "
                            "larger area")
    rows = _area_rows(table, codes, "stability")
    return _stability(rows, spec, settings, progress).reset_index(drop=True)


# -- change since IoD2019 -------------------------------------------------------------------
POLICE_NOTES = {
    "all": "police.uk counts for every LSOA (both periods' records are shipped for its force).",
    "some": "police.uk counts only for LSOAs policed by {forces}, the forces whose records for "
            "both periods are shipped; the other {blank} LSOAs' police.uk columns are blank.",
    "none": "No police.uk counts: records for both periods are shipped only for {forces}, "
            "which polices none of this area; the police.uk columns are blank.",
    "off": "police.uk counts not requested; the police.uk columns are blank.",
}


def area_change(
    data_dir: str | Path,
    spec: Spec,
    table: pd.DataFrame,
    lsoa_codes: Sequence[str] | pd.Series | pd.Index,
    police: bool | None = None,
    *,
    sources: ChangeSources | None = None,
) -> pd.DataFrame:
    """IoD2019 vs IoD2025 comparison profiles (and police.uk then and now) for any area.

    Each edition is scored against the area as it was: the 2025 profile on the area's 2021
    LSOAs, the 2019 one on the 2011 LSOAs the ONS lookup links to them (no 2011 boundaries
    needed). police.uk counts need both periods' records, shipped in ``data/sources/police_uk/``
    for some forces; other LSOAs get blank police.uk columns and ``attrs`` say so.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder (``sources/``, ``boundaries/``).
    spec : Spec
        The spec; only the indicators both editions share are used
        (:func:`profiler.change.comparison_spec`).
    table : DataFrame
        England's 2021 indicator table.
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes.
    police : bool, optional
        ``None`` (default): count police.uk records where they are shipped, blank elsewhere.
        ``True``: require them for every LSOA (error otherwise). ``False``: leave them blank.
    sources : ChangeSources, optional
        England-wide inputs read once by :func:`profiler.change.load_change_sources` (an app
        keeps one per process: ~40 MB resident; each county then takes ~0.1 s, not ~0.4 s).

    Returns
    -------
    DataFrame
        One row per LSOA, sorted by ``lsoa21_code``, the columns of
        :func:`profiler.change.change_table` (``data/indicators/change_<area>.csv``).
        ``attrs``: ``police_uk`` (``"all"``, ``"some"``, ``"none"`` or ``"off"``),
        ``police_uk_note`` (a sentence for the page) and ``police_uk_lsoas`` (LSOAs counted).

    Raises
    ------
    ProfilerError
        If a code is malformed or not in the table, a source is missing, or ``police=True``
        and some LSOA has no police.uk records.
    """
    from profiler.change import POLICE_WINDOWS, area_change_table, police_coverage
    from profiler.geo import shipped_police_forces

    codes = area_codes(lsoa_codes, "change")
    _area_rows(table, codes, "change")
    data_dir = Path(data_dir)
    months = [m for ms in POLICE_WINDOWS.values() for m in ms]
    forces = ", ".join(f.replace("-", " ").title()
                       for f in shipped_police_forces(data_dir, months)) or "no force"
    if police is False:
        covered, state = [], "off"
    else:
        coverage = police_coverage(data_dir, table, codes)
        covered = coverage.index[coverage.to_numpy()].tolist()
        state = "all" if len(covered) == len(codes) else "some" if covered else "none"
        if police and state != "all":
            blank = coverage.index[~coverage.to_numpy()].tolist()
            raise ProfilerError(f"change: no police.uk records for {len(blank)} LSOA(s), first "
                                f"{blank[:3]}; ship both periods' files for their force in "
                                "data/sources/police_uk or pass police=None")
    areas = area_boundaries(data_dir, covered) if covered else None
    out = area_change_table(data_dir, spec, table, codes, police_areas=areas, sources=sources)
    out.attrs["police_uk"] = state
    out.attrs["police_uk_note"] = POLICE_NOTES[state].format(
        forces=forces, blank=len(codes) - len(covered))
    out.attrs["police_uk_lsoas"] = len(covered)
    return out
