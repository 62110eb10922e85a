"""Data loaded and validated once at start-up, then read-only; cached what-if scoring."""

from __future__ import annotations

import ctypes
import json
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from dashboard.settings import Settings, resolve_settings_areas
from profiler.area import AreaCatalogue, HomeArea
from profiler.engine import RiskProfiler
from profiler.engine import band_index as engine_band_index
from profiler.errors import ProfilerError
from profiler.geometry import split_features
from profiler.pipeline import score_scope
from profiler.spec import Spec, load_spec
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
    "quadrants": "Risk vs recorded violence",
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
# The selected LSOA's outline: a magenta no class palette, line or incident colour uses (a unit
# test checks), on a white halo so it reads on every fill.
SELECTION = "#d01c8b"
SELECTION_HALO = "#ffffff"
# Line and fill colours of the LSOA map besides the class palettes, sent to the browser in every
# map view (assets/svrp.js holds no colour of its own): shapes with no class, thin outlines, the
# heavier outline of strong classes (High, Very High), a what-if changed band (dashed), the
# selected LSOA and an unsure band-stability call (dotted).
MAP_STYLE = {
    "no_data": "#d9d9d9",
    "line": "#5a5a5a",
    "strong_line": "#3b0010",
    "changed": "#000000",
    "selected": SELECTION,
    "selected_halo": SELECTION_HALO,
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
# Any scope's geometry (england, an area or a district code), cut from the England web file.
AREA_GEOMETRY_ROUTE = "/data/lsoa21/<scope>.geojson"
WEB_GEOMETRY_FILE = "england_lsoa21_web.geojson.gz"
WEB_BOUNDS_FILE = "england_lsoa21_web.bounds.json"


@dataclass(frozen=True)
class AppState:
    """Everything the pages read; built once by :func:`load_state`."""

    settings: Settings
    spec: Spec
    table: pd.DataFrame  # all England, validated
    # The home area this state is for (its own reference population); the "county" fields are
    # that area's: see :func:`area_state` for any other area.
    county_table: pd.DataFrame  # the area's rows: the reference for what-if scoring
    county: pd.DataFrame  # default profile of the area, fitted on the area
    england_rank: pd.Series  # rank among all England LSOAs (default spec, England reference)
    county_means: dict[str, float]
    england_means: dict[str, float]
    england_sorted: dict[str, np.ndarray]  # sorted England values per indicator (percentiles)
    stability: pd.DataFrame | None  # cached band stability of the default profile, by LSOA code
    hotspots: pd.DataFrame  # Gi* classes of the default profile's scores, by LSOA code
    change: pd.DataFrame  # IoD2019 vs IoD2025 comparison profiles and police.uk counts, by code
    sensitivity: pd.DataFrame  # rank shift when each indicator is left out (default profile)
    bounds: list[list[float]]  # [[south, west], [north, east]] of the area
    district_bounds: dict[str, list[list[float]]]  # each sub-area (district or ward) by code
    districts_geojson: dict  # sub-area outlines (lad_code, lad_name), dissolved from the LSOAs
    incidents_geojson: dict
    heat_geojson: dict
    england_web_gz: bytes  # all England LSOAs, simplified, gzipped (scripts/build_web_geometry.py)
    england_features: dict[str, str]  # each feature's JSON text by code, to cut district files
    area_bounds: dict[str, list[list[float]]]  # england and each district code
    lad_names: dict[str, str]  # every English district code -> name, in name order
    home: HomeArea  # the area the "county" fields describe
    catalogue: AreaCatalogue  # every English area, by code or name
    offered: tuple[HomeArea, ...] | None  # SVRP_AREAS (None: every area)
    default_area: str  # SVRP_AREA's canonical code: what / opens
    incident_period: str  # "Jan-Apr 2024", or "" where no police.uk month covers the area

    @property
    def subareas(self) -> dict[str, str]:
        """The home area's sub-areas (districts, or wards), code to name, in their order."""
        return {sub.code: sub.name for sub in self.home.subareas}

    def in_subarea(self, codes, sub: str | None) -> np.ndarray:
        """Mask of ``codes`` (LSOA codes) in the sub-area ``sub``; all True when ``sub`` is None."""
        codes = pd.Index(codes)
        if not sub:
            return np.ones(len(codes), dtype=bool)
        return codes.isin(self.home.subarea(sub).lsoa_codes)

    @property
    def sub_level(self) -> str:
        """``district`` or ``ward``: what the home area's sub-areas are."""
        return self.home.sub_level

    @property
    def is_default(self) -> bool:
        """Whether this is the default area's state (its pages live at / and /district/)."""
        return self.home.code == self.default_area

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
        """The home area's profile for what-if settings (cached; inputs already validated)."""
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
        return _area_codes(id(self.table), scope, self)


_STATES: dict[int, AppState] = {}


def state_by_id(state_id: int) -> AppState:
    """A loaded state by its ``id`` (the key of caches that hold one state's derived parts)."""
    return _STATES[state_id]
_CURRENT: list[AppState] = []


def current(area: str | None = None) -> AppState:
    """The state of the running app (set by :func:`load_state`), for a home area.

    ``area`` is an area code from a page's URL or its area store; None is the default area.

    Raises
    ------
    ProfilerError
        If ``area`` is not an English area this deployment offers (the message gives close
        matches).
    """
    if not _CURRENT:
        raise RuntimeError("the dashboard state is not loaded: call app.create_app() first")
    base = _CURRENT[-1]
    if area is None or area == base.home.code:
        return base
    return area_state(base, area)


def resolve_area(base: AppState, text: str) -> HomeArea:
    """The offered area a code or name names (raises :class:`ProfilerError` otherwise)."""
    if not isinstance(text, str) or not 0 < len(text) <= 200:
        raise ProfilerError(f"area {str(text)[:40]!r}: give an area code like E10000034")
    area = base.catalogue.resolve(text)
    if base.offered is not None and area not in base.offered:
        offered = ", ".join(a.label for a in base.offered[:6])
        raise ProfilerError(
            f"area {area.label}: this deployment offers only {offered} (SVRP_AREAS)"
        )
    return area


def area_state(base: AppState, text: str) -> AppState:
    """The app state for another home area: built on its first use, then kept (LRU of 8)."""
    area = resolve_area(base, text)
    if area.code == base.home.code:
        return base
    return _AREA_STATES.get(area.code, lambda: _with_area(base, area))


def _with_area(base: AppState, area: HomeArea) -> AppState:
    """``base`` with the "county" fields of ``area`` (an :class:`AreaProfile`'s tables)."""
    from dashboard.home import AreaProfile

    profile = AreaProfile(base, area)
    state = replace(
        base,
        home=area,
        county_table=profile.table,
        county=profile.profile,
        county_means=profile.means,
        stability=profile.stability,
        hotspots=profile.hotspots,
        change=profile.change,
        sensitivity=profile.sensitivity,
        bounds=profile.bounds,
        district_bounds=profile.subarea_bounds,
        districts_geojson=profile.subareas_geojson,
        incidents_geojson=profile.incidents_geojson,
        heat_geojson=profile.heat_geojson,
        incident_period=profile.incident_period,
    )
    _STATES[id(state)] = state
    return state


def _warm_banding(state: AppState) -> None:
    """Import and compile the banding schemes band stability draws (mapclassify, numba).

    An area without a shipped stability table computes it on its first visit: 0.4 s warm, but
    3 s (12 s on a busy machine) when numba first compiles. Done once here, on the other core,
    while the first page is served.
    """
    from profiler.stability import StabilitySettings, area_stability

    try:
        area_stability(state.county_table.head(40), state.spec, StabilitySettings(draws=8))
    except Exception:  # noqa: BLE001, S110 - a warm-up; the real run reports its own errors
        pass


class _StateCache:
    """Area states by area code, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, AppState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, code: str, make) -> AppState:
        with self._lock:
            if code in self._items:
                self._items.move_to_end(code)
                return self._items[code]
        state = make()
        with self._lock:
            state = self._items.setdefault(code, state)
            while len(self._items) > self.size:
                _, dropped = self._items.popitem(last=False)
                _STATES.pop(id(dropped), None)
            return state

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_AREA_STATES = _StateCache(8)


@lru_cache(maxsize=64)
def _score_cached(state_id: int, weights, normalisation, banding) -> pd.DataFrame:
    state = _STATES[state_id]
    if not weights and normalisation is None and banding is None:
        return state.county
    return score_scope(
        state.county_table,
        state.spec,
        scope=state.home,
        reference="area",
        weights=dict(weights),
        normalisation=normalisation,
        banding=banding,
    )


@lru_cache(maxsize=1)
def _malloc_trim():
    """The C library's ``malloc_trim`` (glibc), or None where it has none (macOS, musl)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; else nothing).

    Once glibc has raised its mmap threshold, freed numpy arrays of a few MB (an England result
    and its intermediates) stay in the heap, so resident memory keeps what loading and the
    result cache let go. Loading the state and then eight England what-ifs (two kept) ended at
    440-444 MB resident; with a trim after loading and after each eviction, 413 MB, and 270
    against 305-312 MB after loading. A trim takes 2.5-10 ms. Fixing the mmap threshold
    instead (mallopt) made scoring England 2.5x slower.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


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
        evicted: list = []  # (result, bytes) pairs dropped, let go outside the lock
        with self._lock:
            if key not in self._items:
                self._items[key] = (result, size)
                self._bytes += size
                while self._bytes > self.budget and len(self._items) > 1:
                    evicted.append(self._items.popitem(last=False)[1])
                    self._bytes -= evicted[-1][1]
        if evicted:
            evicted.clear()
            release_freed_memory()
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
    if scope == state.home.code and reference == "area" and not weights and banding is None:
        return state.county
    return AREA_RESULTS.get(
        (state_id, scope, reference, weights, banding),
        lambda: score_scope(
            state.table,
            state.spec,
            scope=scope if scope == "england" else state.catalogue.resolve(scope),
            reference=reference,
            weights=dict(weights),
            banding=banding,
        ),
    )


_AREA_CODES: OrderedDict = OrderedDict()


def _area_codes(table_id: int, scope: str, state: AppState) -> list[str]:
    key = (table_id, scope)
    codes = _AREA_CODES.get(key)
    if codes is None:
        if scope == "england":
            codes = sorted(state.table["lsoa21_code"])
        else:
            codes = list(state.catalogue.resolve(scope).lsoa_codes)
        _AREA_CODES[key] = codes
        while len(_AREA_CODES) > 64:
            _AREA_CODES.popitem(last=False)
    return codes




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
    england = score_scope(table, spec, scope="england", reference="england")
    england_rank = england.set_index("lsoa21_code")["rank"]
    england_means = RiskProfiler(spec).fit(table).reference_means()
    catalogue = AreaCatalogue.load(data, table=table)
    home, offered = resolve_settings_areas(settings, catalogue)
    web_path = data / "boundaries" / WEB_GEOMETRY_FILE
    if not web_path.exists() or not web_path.with_name(WEB_BOUNDS_FILE).exists():
        raise ProfilerError(
            f"{web_path}: missing; run 'python scripts/build_web_geometry.py' to build it"
        )
    web_blob = web_path.read_bytes()
    lads = table.drop_duplicates("lad24_code").sort_values("lad24_name")
    empty = pd.DataFrame()
    base = AppState(
        settings=settings,
        spec=spec,
        table=table,
        county_table=empty,
        county=empty,
        england_rank=england_rank,
        county_means={},
        england_means=dict(england_means),
        england_sorted={i.id: np.sort(table[i.column].to_numpy()) for i in spec.indicators},
        hotspots=empty,
        change=empty,
        sensitivity=empty,
        stability=None,
        bounds=[],
        district_bounds={},
        districts_geojson={},
        incidents_geojson={},
        heat_geojson={},
        england_web_gz=web_blob,
        england_features=split_features(web_blob),
        area_bounds=json.loads(web_path.with_name(WEB_BOUNDS_FILE).read_text()),
        lad_names=dict(zip(lads["lad24_code"], lads["lad24_name"], strict=True)),
        home=home,
        catalogue=catalogue,
        offered=offered,
        default_area=home.code,
        incident_period="",
    )
    _AREA_STATES.clear()
    state = _with_area(base, home)
    release_freed_memory()  # what loading and the first scorings freed
    threading.Thread(target=_warm_banding, args=(state,), daemon=True).start()
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
    "SELECTION",
    "DISTRICT_STYLE",
    "INCIDENT_STYLE",
    "band_index",
    "layer_column",
    "AREA_GEOMETRY_ROUTE",
    "INCIDENT_TYPES",
]
