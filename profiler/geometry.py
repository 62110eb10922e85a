"""Web geometry: LSOA polygons simplified as a coverage, rounded, as compact gzipped GeoJSON.

The England file is built once (``python scripts/build_web_geometry.py``) and served as it is by
the dashboard and by the benchmark's bare Leaflet page, so both draw the same bytes.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from profiler.errors import ProfilerError

WEB_PRECISION = 5  # decimal places of lon/lat: about 1 m, far below the 200 m generalisation
WEB_TOLERANCE_M = 100.0  # coverage simplification in British National Grid metres


def simplify_coverage(gdf: gpd.GeoDataFrame, tolerance_m: float = WEB_TOLERANCE_M) -> gpd.GeoSeries:
    """Simplify polygons that tile an area without opening gaps or overlaps between neighbours.

    Uses GEOS coverage simplification (:func:`shapely.coverage_simplify`), which simplifies each
    shared edge once, so neighbours keep a common boundary. Works in EPSG:27700 (metres) and
    returns EPSG:4326.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons forming a coverage (LSOAs), any CRS.
    tolerance_m : float
        Douglas-Peucker style tolerance in metres; 0 leaves the shapes unchanged.

    Returns
    -------
    GeoSeries
        In EPSG:4326, same index as ``gdf``.

    Raises
    ------
    ProfilerError
        If ``gdf`` has no CRS or the result has empty or invalid shapes.
    """
    if gdf.crs is None:
        raise ProfilerError("geometry: the boundaries have no CRS; set one (EPSG:4326 or 27700)")
    metric = gdf.to_crs(27700)
    geoms = metric.geometry.values
    if tolerance_m > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance_m)
    out = gpd.GeoSeries(geoms, index=gdf.index, crs=27700).to_crs(4326)
    bad = out.is_empty | ~out.is_valid
    if bad.any():
        raise ProfilerError(
            f"geometry: {int(bad.sum())} shapes empty or invalid after simplification "
            f"(first: {list(out.index[bad][:3])}); lower the tolerance"
        )
    return out


def _rounded(coords, places: int):
    """Nested coordinate tuples as lists of floats rounded to ``places`` decimals."""
    if isinstance(coords[0], (int, float)):
        return [round(float(coords[0]), places), round(float(coords[1]), places)]
    return [_rounded(c, places) for c in coords]


def feature_collection(
    geoms: gpd.GeoSeries, properties: pd.DataFrame, places: int = WEB_PRECISION
) -> dict:
    """Build a GeoJSON FeatureCollection with coordinates rounded to ``places`` decimals.

    Rounding the same vertex always gives the same value, so shared edges stay shared.

    Parameters
    ----------
    geoms : GeoSeries
        Shapes in EPSG:4326.
    properties : DataFrame
        One row per shape, in the same order; its columns become feature properties.
    places : int
        Decimal places kept.

    Returns
    -------
    dict
    """
    if len(geoms) != len(properties):
        raise ProfilerError(
            f"geometry: {len(geoms)} shapes but {len(properties)} property rows; they must match"
        )
    features = []
    for geom, props in zip(geoms.values, properties.to_dict("records"), strict=True):
        mapping = shapely.geometry.mapping(geom)
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": mapping["type"],
                    "coordinates": _rounded(mapping["coordinates"], places),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def gzip_geojson(collection: dict) -> bytes:
    """Compact JSON, gzipped with a fixed timestamp, so a rebuild is byte-identical."""
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def web_geometry(
    boundaries: gpd.GeoDataFrame,
    names: pd.DataFrame,
    properties: Sequence[str],
    tolerance_m: float = WEB_TOLERANCE_M,
) -> bytes:
    """Simplified, rounded, gzipped GeoJSON of LSOAs, sorted by code, with name properties.

    Each feature also gets ``i``, its position in code order, which compact band views index.

    Parameters
    ----------
    boundaries : GeoDataFrame
        ``lsoa21_code`` and polygons.
    names : DataFrame
        Indexed by ``lsoa21_code``; supplies the other ``properties``.
    properties : sequence of str
        Feature properties, ``lsoa21_code`` first.
    tolerance_m : float
        See :func:`simplify_coverage`.

    Returns
    -------
    bytes
    """
    gdf = boundaries.sort_values("lsoa21_code").reset_index(drop=True)
    missing = ~gdf["lsoa21_code"].isin(names.index)
    if missing.any():
        raise ProfilerError(
            f"geometry: {int(missing.sum())} LSOAs have no row in the indicator table "
            f"(first: {gdf.loc[missing, 'lsoa21_code'].head(3).tolist()}); rebuild the table"
        )
    props = names.reindex(gdf["lsoa21_code"])[[p for p in properties if p != "lsoa21_code"]]
    props.insert(0, "lsoa21_code", gdf["lsoa21_code"].to_numpy())
    props = props.reset_index(drop=True).astype(object).where(props.notna().to_numpy(), None)
    props["i"] = range(len(props))  # position in code order: the index of compact band views
    geoms = simplify_coverage(gdf, tolerance_m)
    return gzip_geojson(feature_collection(geoms, props))


def scope_bounds(blob: bytes) -> dict[str, list[list[float]]]:
    """Bounds ``[[south, west], [north, east]]`` of England and of each district in a web file.

    Parameters
    ----------
    blob : bytes
        Output of :func:`web_geometry` (features carry ``lad24_code``).

    Returns
    -------
    dict
        ``{"england": bounds, <district code>: bounds, ...}``.
    """
    features = json.loads(gzip.decompress(blob))["features"]
    boxes: dict[str, list[float]] = {}
    for feature in features:
        xy = np.asarray(_flatten(feature["geometry"]["coordinates"])).reshape(-1, 2)
        box = [xy[:, 1].min(), xy[:, 0].min(), xy[:, 1].max(), xy[:, 0].max()]
        for key in ("england", feature["properties"]["lad24_code"]):
            old = boxes.get(key)
            boxes[key] = box if old is None else [
                min(old[0], box[0]), min(old[1], box[1]), max(old[2], box[2]), max(old[3], box[3])
            ]
    return {
        k: [[round(float(b[0]), 5), round(float(b[1]), 5)], [round(float(b[2]), 5),
                                                            round(float(b[3]), 5)]]
        for k, b in sorted(boxes.items())
    }


def split_features(blob: bytes) -> dict[str, str]:
    """Each feature of a web file as its own JSON text, by LSOA code, without parsing geometry.

    Keeps a served subset cheap in memory: 33,755 short strings instead of millions of Python
    floats and lists.
    """
    text = gzip.decompress(blob).decode("utf-8")
    head = '{"type":"FeatureCollection","features":['
    if not text.startswith(head) or not text.endswith("]}"):
        raise ProfilerError("geometry: not a web geometry file; rebuild it with the script")
    parts = text[len(head) : -2].split(',{"type":"Feature",')
    out = {}
    for n, part in enumerate(parts):
        feature = part if n == 0 else '{"type":"Feature",' + part
        code = feature[len('{"type":"Feature","properties":{"lsoa21_code":"') :][:9]
        out[code] = feature
    return out


def coordinate_count(collection: dict) -> int:
    """Count the vertices in a FeatureCollection (for build reports and tests)."""
    total = 0
    for feature in collection["features"]:
        total += int(np.asarray(_flatten(feature["geometry"]["coordinates"])).size // 2)
    return total


def _flatten(coords) -> list[float]:
    if isinstance(coords[0], (int, float)):
        return list(coords)
    out: list[float] = []
    for c in coords:
        out.extend(_flatten(c))
    return out
