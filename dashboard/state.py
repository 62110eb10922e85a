"""Data loaded and validated once at start-up, then read-only; cached what-if scoring."""

from __future__ import annotations

import json
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
import shapely

from dashboard.settings import Settings
from profiler.change import load_change_table
from profiler.density import kernel_density
from profiler.engine import RiskProfiler
from profiler.engine import band_index as engine_band_index
from profiler.errors import ProfilerError
from profiler.geo import load_districts, load_lsoa_boundaries, load_police_points
from profiler.geometry import split_features
from profiler.pipeline import WARWICKSHIRE, score_scope, select_scope
from profiler.spec import Spec, load_spec
from profiler.stability import indicator_sensitivity
from profiler.table import load_indicator_table

INCIDENT_TYPES = (
    "Possession of weapons",
    "Robbery",
    "Violence and sexual offences",
    "Public order",
)
LAYERS = {
    "overall": "Overall risk",
    "knife": "Knife crime",
    "domestic": "Domestic violence",
    "public_place": "Public-place violence",
    "hotspots": "Hot spots (Gi*, overall score)",
    "hotspots_knife": "Hot spots (Gi*, knife crime)",
    "hotspots_domestic": "Hot spots (Gi*, domestic violence)",
    "hotspots_public_place": "Hot spots (Gi*, public-place violence)",
    "stability": "How sure (band stability)",
    "change": "Change since IoD2019",
}
# Hot-spot layer -> the Gi* class column of the hot-spot table it shows.
HOTSPOT_LAYERS = {
    "hotspots": "overall_hotspot",
    "hotspots_knife": "knife_hotspot",
    "hotspots_domestic": "domestic_hotspot",
    "hotspots_public_place": "public_place_hotspot",
}
# Band change between the IoD2019 and IoD2025 comparison profiles, in legend order. ColorBrewer
# PuOr ends (colour-blind safe): orange for a band that rose, purple for one that fell, near-white
# for no change; rose also gets a heavy solid outline and fell a dashed one, so the outline alone
# tells them apart.
CHANGE_CLASSES = ("rose", "same", "fell")
CHANGE_LABELS = ("Band rose", "Same band", "Band fell")
CHANGE_PALETTE = ("#e66101", "#f7f7f7", "#5e3c99")
CHANGE_OUTLINES = (
    {"color": "#1a1a1a", "weight": 2.4, "dashArray": None},
    None,
    {"color": "#1a1a1a", "weight": 2.0, "dashArray": "6 3"},
)
# Gi* classes, hot first: reds for hot, blues for cold, white for not significant.
HOTSPOT_PALETTE = ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac")
# ColorBrewer RdYlBu, 5 classes (colour-blind safe), reversed so red is riskiest and the Medium
# majority is neutral; bands are also always named, and High/Very High get heavier outlines.
PALETTE = ("#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c")
# Line and fill colours of the LSOA map besides the class palettes, sent to the browser in every
# map view (assets/svrp.js holds no colour of its own): shapes with no class, thin outlines, the
# heavier outline of strong classes (High, Very High), a what-if changed band (dashed), the
# selected LSOA and an unsure band-stability call (dotted).
MAP_STYLE = {
    "no_data": "#d9d9d9",
    "line": "#5a5a5a",
    "strong_line": "#3b0010",
    "changed": "#000000",
    "selected": "#1f4dd8",
    "unsure": "#333333",
}
# District outlines over the LSOAs (a Leaflet path style; not interactive).
DISTRICT_STYLE = {"fill": False, "color": "#1a1a1a", "weight": 2.6, "opacity": 0.9}
# police.uk incident points by crime type (ColorBrewer Paired), and the heat layer's three steps.
INCIDENT_STYLE = {
    "colours": dict(zip(INCIDENT_TYPES, ("#6a3d9a", "#1f78b4", "#33a02c", "#ff7f00"), strict=True)),
    "other": "#444444",
    "ring": "#ffffff",
    "heat": ["#feb24c", "#fc4e2a", "#b10026"],
}
# Any scope's geometry (england, warwickshire or a district code), cut from the England web file.
AREA_GEOMETRY_ROUTE = "/data/lsoa21/<scope>.geojson"
WEB_GEOMETRY_FILE = "england_lsoa21_web.geojson.gz"
WEB_BOUNDS_FILE = "england_lsoa21_web.bounds.json"


@dataclass(frozen=True)
class AppState:
    """Everything the pages read; built once by :func:`load_state`."""

    settings: Settings
    spec: Spec
    table: pd.DataFrame  # all England, validated
    county_table: pd.DataFrame  # Warwickshire rows: the county reference for what-if scoring
    county: pd.DataFrame  # default profile, Warwickshire, county reference
    england_rank: pd.Series  # rank among all England LSOAs (default spec, England reference)
    county_means: dict[str, float]
    england_means: dict[str, float]
    england_sorted: dict[str, np.ndarray]  # sorted England values per indicator (percentiles)
    stability: pd.DataFrame | None  # cached band stability of the default profile, by LSOA code
    hotspots: pd.DataFrame  # Gi* classes of the default profile's scores, by LSOA code
    change: pd.DataFrame  # IoD2019 vs IoD2025 comparison profiles and police.uk counts, by code
    sensitivity: pd.DataFrame  # rank shift when each indicator is left out (default profile)
    bounds: list[list[float]]  # [[south, west], [north, east]] of Warwickshire
    district_bounds: dict[str, list[list[float]]]
    districts_geojson: dict
    incidents_geojson: dict
    heat_geojson: dict
    england_web_gz: bytes  # all England LSOAs, simplified, gzipped (scripts/build_web_geometry.py)
    england_features: dict[str, str]  # each feature's JSON text by code, to cut district files
    area_bounds: dict[str, list[list[float]]]  # england and each district code
    lad_names: dict[str, str]  # every English district code -> name, in name order

    @cached_property
    def county_codes(self) -> frozenset[str]:
        """The county's LSOA codes (the county averages and shipped analyses cover these)."""
        return frozenset(self.county["lsoa21_code"])

    def england_percentile(self, indicator_id: str, value: float) -> float:
        """Percentage of England LSOAs with a lower value (ties count half)."""
        ref = self.england_sorted[indicator_id]
        lo = np.searchsorted(ref, value, side="left")
        hi = np.searchsorted(ref, value, side="right")
        return round(float(50.0 * (lo + hi) / ref.size), 1)

    def score(
        self,
        weights: tuple[tuple[str, float], ...] = (),
        normalisation: str | None = None,
        banding: str | None = None,
    ) -> pd.DataFrame:
        """Warwickshire profile for what-if settings (cached; inputs already validated)."""
        return _score_cached(id(self), weights, normalisation, banding)

    def score_area(
        self,
        scope: str,
        reference: str,
        weights: tuple[tuple[str, float], ...] = (),
        banding: str | None = None,
    ) -> pd.DataFrame:
        """Profile of any scope against any reference (cached; inputs already validated)."""
        return _score_area_cached(id(self), scope, reference, weights, banding)

    def area_codes(self, scope: str) -> list[str]:
        """Sorted LSOA codes of a scope: the order of its geometry's features (``i``).

        Keyed by the England table, which a partner-data state (``dataclasses.replace``) shares.
        """
        return _area_codes(id(self.table), scope, self.table)


_STATES: dict[int, AppState] = {}
_CURRENT: list[AppState] = []


def current() -> AppState:
    """The state of the running app (set by :func:`load_state`)."""
    if not _CURRENT:
        raise RuntimeError("the dashboard state is not loaded: call app.create_app() first")
    return _CURRENT[-1]


@lru_cache(maxsize=64)
def _score_cached(state_id: int, weights, normalisation, banding) -> pd.DataFrame:
    state = _STATES[state_id]
    if not weights and normalisation is None and banding is None:
        return state.county
    return score_scope(
        state.county_table,
        state.spec,
        scope="warwickshire",
        weights=dict(weights),
        normalisation=normalisation,
        banding=banding,
    )


class ResultCache:
    """Scored results kept least-recently-used first, under a budget of bytes, not of entries.

    A district's result is tens of kB and an England one ~20 MB: counting entries would either
    keep few districts or let a handful of England what-ifs push the server past its memory
    target. The first result is always kept, however large. Thread-safe; a result is computed
    outside the lock (two threads may both compute one; the second is dropped).
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._items: OrderedDict = OrderedDict()  # key -> (result, bytes)
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        result = make()
        size = frame_bytes(result)
        with self._lock:
            if key not in self._items:
                self._items[key] = (result, size)
                self._bytes += size
                while self._bytes > self.budget and len(self._items) > 1:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self._bytes -= dropped
        return result

    @property
    def nbytes(self) -> int:
        """Bytes held, by :func:`frame_bytes` (shared categories not counted again)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


def frame_bytes(frame: pd.DataFrame, sample: int = 256) -> int:
    """About the memory a result holds, in a fraction of a millisecond.

    pandas' ``memory_usage(deep=True)`` visits every string (24 ms for an England result, more
    than half the time to score it); here the strings of each text column are sized from a
    sample of ``sample`` rows and the rest is the arrays' own size.
    """
    size = int(frame.memory_usage(deep=False, index=True).sum())
    rows = len(frame)
    for name in frame.columns:
        column = frame[name]
        if rows and (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)) \
                and not isinstance(column.dtype, pd.CategoricalDtype):
            head = column.iloc[:sample]
            size += int(rows * sum(sys.getsizeof(v) for v in head) / len(head))
    return size


# about two England results, or any number of districts: keeps England under 600 MB resident
AREA_RESULTS = ResultCache(48_000_000)


def _score_area_cached(state_id: int, scope, reference, weights, banding) -> pd.DataFrame:
    state = _STATES[state_id]
    if scope == "warwickshire" and reference == "county" and not weights and banding is None:
        return state.county
    return AREA_RESULTS.get(
        (state_id, scope, reference, weights, banding),
        lambda: score_scope(
            state.table,
            state.spec,
            scope=scope,
            reference=reference,
            weights=dict(weights),
            banding=banding,
        ),
    )


_AREA_CODES: OrderedDict = OrderedDict()


def _area_codes(table_id: int, scope: str, table: pd.DataFrame) -> list[str]:
    key = (table_id, scope)
    codes = _AREA_CODES.get(key)
    if codes is None:
        codes = _AREA_CODES[key] = sorted(select_scope(table, scope)["lsoa21_code"])
        while len(_AREA_CODES) > 64:
            _AREA_CODES.popitem(last=False)
    return codes


def _bounds(geoms) -> list[list[float]]:
    minx, miny, maxx, maxy = geoms.total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def _feature_collection(gdf, properties: list[str], precision: float = 1e-5) -> dict:
    geoms = shapely.set_precision(gdf.geometry.values, precision)
    features = []
    for geom, props in zip(geoms, gdf[properties].to_dict("records"), strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _load_stability(path) -> pd.DataFrame | None:
    """The cached stability table, or None if it is absent (the panel then omits it)."""
    if not path.exists():
        return None
    return pd.read_csv(path, dtype={"lsoa21_code": str}).set_index("lsoa21_code")


def _load_hotspots(path, lsoas, county) -> pd.DataFrame:
    """Gi* classes of the default profile: the cached table (``python -m profiler hotspots``).

    Without the file they are computed here, which imports esda and numba (~150 MB more memory).
    """
    if path.exists():
        return pd.read_csv(path, dtype={"lsoa21_code": str}).set_index("lsoa21_code")
    from profiler.hotspots import hotspot_table

    themes = ("knife", "domestic", "public_place")
    columns = {"overall": "score", **{t: f"{t}_score" for t in themes}}
    return hotspot_table(lsoas, county, columns).set_index("lsoa21_code")


def _load_change(path, county) -> pd.DataFrame:
    """The shipped change table (``python -m profiler change``), checked against the county."""
    change = load_change_table(path).set_index("lsoa21_code")
    missing = sorted(set(county["lsoa21_code"]) - set(change.index))
    if missing:
        raise ProfilerError(
            f"{path}: no row for {len(missing)} county LSOA(s), first {missing[:3]}; rebuild it "
            "with `python -m profiler change`"
        )
    return change


def load_state(settings: Settings) -> AppState:
    """Load and validate the spec, table, boundaries and incidents; score the default profile.

    Raises
    ------
    ProfilerError
        If any shipped file is missing or invalid (the message names it and the fix).
    """
    data = settings.data_dir
    spec = load_spec(data / "indicators" / "spec.toml")
    table = load_indicator_table(data / "indicators" / "lsoa21_indicators.csv", spec)
    county = score_scope(table, spec, scope="warwickshire")
    england = score_scope(table, spec, scope="england", reference="england")
    england_rank = england.set_index("lsoa21_code")["rank"]
    warks_rows = table[table["utla_code"] == WARWICKSHIRE]
    county_means = RiskProfiler(spec).fit(warks_rows).reference_means()
    england_means = RiskProfiler(spec).fit(table).reference_means()

    lsoas = load_lsoa_boundaries(data, "warwickshire")

    hotspots = _load_hotspots(data / "indicators" / "hotspots_warwickshire.csv", lsoas, county)

    districts = load_districts(data)
    district_bounds = {
        row.lad_code: _bounds(districts[districts["lad_code"] == row.lad_code].geometry)
        for row in districts.itertuples()
    }
    districts_geojson = _feature_collection(districts, ["lad_code", "lad_name"], 1e-4)

    points = load_police_points(data)
    warks_codes = set(county["lsoa21_code"])
    points = points[
        points["crime_type"].isin(INCIDENT_TYPES) & points["lsoa_code"].isin(warks_codes)
    ]
    incidents = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"crime_type": crime, "month": month},
            }
            for lon, lat, crime, month in zip(
                points["longitude"].round(5),
                points["latitude"].round(5),
                points["crime_type"],
                points["month"],
                strict=True,
            )
        ],
    }
    kde = kernel_density(points, bandwidth_m=500, cell_m=400, min_share=0.05)
    heat = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"intensity": round(float(i), 3)},
            }
            for lon, lat, i in zip(kde["longitude"], kde["latitude"], kde["intensity"], strict=True)
        ],
    }
    web_path = data / "boundaries" / WEB_GEOMETRY_FILE
    if not web_path.exists() or not web_path.with_name(WEB_BOUNDS_FILE).exists():
        raise ProfilerError(
            f"{web_path}: missing; run 'python scripts/build_web_geometry.py' to build it"
        )
    web_blob = web_path.read_bytes()
    lads = table.drop_duplicates("lad24_code").sort_values("lad24_name")
    state = AppState(
        settings=settings,
        spec=spec,
        table=table,
        county_table=table[table["utla_code"] == WARWICKSHIRE],
        county=county,
        england_rank=england_rank,
        county_means=dict(county_means),
        england_means=dict(england_means),
        england_sorted={i.id: np.sort(table[i.column].to_numpy()) for i in spec.indicators},
        hotspots=hotspots,
        change=_load_change(data / "indicators" / "change_warwickshire.csv", county),
        sensitivity=indicator_sensitivity(table[table["utla_code"] == WARWICKSHIRE], spec),
        stability=_load_stability(data / "indicators" / "stability_warwickshire.csv"),
        bounds=_bounds(lsoas.geometry),
        district_bounds=district_bounds,
        districts_geojson=districts_geojson,
        incidents_geojson=incidents,
        heat_geojson=heat,
        england_web_gz=web_blob,
        england_features=split_features(web_blob),
        area_bounds=json.loads(web_path.with_name(WEB_BOUNDS_FILE).read_text()),
        lad_names=dict(zip(lads["lad24_code"], lads["lad24_name"], strict=True)),
    )
    _STATES[id(state)] = state
    _CURRENT[:] = [state]
    return state


def band_index(bands: pd.Series) -> list[int]:
    """Band labels to indices 0 (Very Low) .. 4 (Very High)."""
    return engine_band_index(bands).tolist()


def layer_column(layer: str) -> str:
    """Result column holding the band shown by a map layer."""
    return "band" if layer == "overall" else f"{layer}_band"


__all__ = [
    "AppState",
    "load_state",
    "current",
    "LAYERS",
    "HOTSPOT_LAYERS",
    "CHANGE_CLASSES",
    "CHANGE_LABELS",
    "CHANGE_PALETTE",
    "CHANGE_OUTLINES",
    "PALETTE",
    "MAP_STYLE",
    "DISTRICT_STYLE",
    "INCIDENT_STYLE",
    "band_index",
    "layer_column",
    "AREA_GEOMETRY_ROUTE",
    "INCIDENT_TYPES",
]
