"""Partner data of one browser session, held in server memory; no Dash, no disk.

A session's uploads (a partner indicator table, an incident extract) live in a bounded,
least-recently-used cache (:class:`PartnerCache`) under a random key; the page keeps only that
key in a ``dcc.Store``. The cache is in process, or, with several workers or hosts, in the
Redis store of :mod:`dashboard.shared` that every worker reads, sealed (AES-GCM) before it
leaves the worker. Nothing here writes partner data to disk. A failed upload
raises :class:`profiler.partner.PartnerDataError` before anything is stored, so the session's
previous partner data (and the profile drawn from it) stays as it was.

Disclosure control (:mod:`profiler.disclosure`) is applied here, once, for every view: tooltip
and hover text, the LSOA panel, table cells and exports read the suppressed values this module
returns, never the raw counts.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import shared
from dashboard.shared import Store
from dashboard.state import AppState
from profiler.area import AREA_FILES, HomeArea
from profiler.disclosure import display_value, mark_suppressed, small_mask, suppress
from profiler.engine import (
    BANDS,
    THEME_LABELS,
    THEMES,
    RiskProfiler,
    assign_bands,
    band_labels,
    fit_band_cuts,
)
from profiler.partner import (
    _CODE_NAMES,
    PartnerDataError,
    ReadLimits,
    ValidationReport,
    _safe_name,
    export_theme_counts,
    load_code_lookup,
    load_incidents,
    load_partner_indicators,
    read_table_upload,
    residents_lsoa21,
    theme_counts,
    theme_sources,
)
from profiler.pipeline import score_scope

OPEN_PROXY = "open proxies"
_DATA_URL = re.compile(r"^data:[\w.+/-]*(?:;[\w=.+-]+)*;base64,", re.ASCII)
_WHOLE = re.compile(r"^\s*\d+\s*$")


@dataclass(frozen=True)
class IndicatorUpload:
    """A validated partner indicator table: the spec and county table it makes."""

    name: str
    spec: object  # profiler.spec.Spec
    table: pd.DataFrame  # the county's rows with the partner_<id> columns
    partner_ids: tuple[str, ...]
    count_ids: tuple[str, ...]  # read as counts: small values suppressed wherever shown
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ExtractUpload:
    """A validated incident extract: per-LSOA theme counts (raw: suppress before showing)."""

    name: str
    counts: pd.DataFrame
    synthetic: bool
    lines: tuple[str, ...]
    # per LSOA, month and trend measure (profiler.trends.partner_monthly), and the months the
    # extract's dates span: the partner series of the monitoring tables (raw: suppress to show)
    monthly: pd.DataFrame | None = None
    covered: tuple[str, ...] = ()


@dataclass
class PartnerData:
    """One session's partner data; replaced whole on each successful upload."""

    indicators: IndicatorUpload | None = None
    extract: ExtractUpload | None = None
    owner: str | None = None  # the signed-in user who loaded it (None without sign-in)
    results: OrderedDict = field(default_factory=OrderedDict)  # scored views, bounded
    # callbacks of one page run in parallel threads and share this session's results
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __getstate__(self) -> dict:
        # what crosses to the shared store: the uploads, not this process's scored views
        return {"indicators": self.indicators, "extract": self.extract, "owner": self.owner}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def replace(self, **changes) -> PartnerData:
        """A new session value with some uploads replaced (and an empty result cache)."""
        return PartnerData(**{"indicators": self.indicators, "extract": self.extract,
                              "owner": self.owner, **changes})

    @property
    def empty(self) -> bool:
        """No partner data loaded."""
        return self.indicators is None and self.extract is None


class PartnerCache:
    """Bounded store of :class:`PartnerData` by random session key, seen by every worker.

    One process: an in-process least-recently-used table, as before. With several workers or
    hosts (:func:`dashboard.shared.configure`): a sealed table in Redis, so a callback on any
    worker finds what another stored. Entries expire ``SVRP_SESSION_TTL`` s after their last
    use. Never on disk either way.

    Raises :class:`dashboard.shared.SharedStateError` (a ``ProfilerError``) when Redis cannot
    be reached.
    """

    TABLE = "partner"

    def __init__(self, max_sessions: int = 20, store: Store | None = None,
                 ttl: float = shared.DEFAULT_TTL_S) -> None:
        self.max_sessions = max_sessions
        self._local = store or shared.local(ttl)  # one process (no Redis configured)

    @property
    def store(self) -> Store:
        """The shared store when configured (looked up per call: it is set after import)."""
        return shared.active() or self._local

    def get(self, key) -> PartnerData | None:
        """The session's data, or None for an unknown, expired, malformed or another's key.

        With sign-in on, the key alone opens nothing: the data must belong to the signed-in
        user (:func:`set_user_source`).
        """
        if not _well_formed(key):
            return None
        data = self.store.get(self.TABLE, key)
        if data is None or getattr(data, "owner", None) != _USER_SOURCE[0]():
            return None
        return data

    def put(self, key, data: PartnerData) -> str:
        """Store ``data`` under ``key`` (a new random key if ``key`` is not one of ours)."""
        store = self.store
        data.owner = _USER_SOURCE[0]()
        with store.lock():
            if not _well_formed(key) or not store.has(self.TABLE, key) or \
                    getattr(store.get(self.TABLE, key), "owner", None) != data.owner:
                key = secrets.token_urlsafe(18)
            store.put(self.TABLE, key, data, self.max_sessions)
        return key

    def drop(self, key) -> None:
        """Forget a session's data (only the signed-in user's own)."""
        if self.get(key) is not None:
            self.store.pop(self.TABLE, key)

    def __len__(self) -> int:
        """Number of sessions held."""
        return self.store.count(self.TABLE)


_CACHES: dict[int, PartnerCache] = {}
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USER_SOURCE: list = [lambda: None]


def _well_formed(key) -> bool:
    return isinstance(key, str) and bool(_KEY_RE.match(key))


def set_user_source(source) -> None:
    """Name the function giving the signed-in user (``dashboard.security`` sets it)."""
    _USER_SOURCE[0] = source


def cache_for(state: AppState) -> PartnerCache:
    """The partner cache of the running app: one for all its home areas.

    Keyed by the settings object, which every area's state shares (``dashboard.state``
    derives them from one loaded state), so opening another area never drops a session's data;
    each entry records the area it was checked against. A new app (tests, reload) has new
    settings and starts with no partner data.
    """
    key = id(state.settings)
    if key not in _CACHES:
        _CACHES.clear()
        _CACHES[key] = PartnerCache(state.settings.partner_sessions,
                                    ttl=state.settings.session_ttl)
    return _CACHES[key]


def decode_upload(contents, filename, max_bytes: int) -> tuple[bytes, str]:
    """Bytes and name of a ``dcc.Upload`` value (``data:...;base64,...``), size checked first.

    Raises
    ------
    PartnerDataError
        No content, not a base64 data URL, or over ``max_bytes`` (checked before decoding).
    """
    name = _safe_name(filename if isinstance(filename, str) else "")
    if not isinstance(contents, str) or not contents:
        raise PartnerDataError(f"{name}: no file content received; choose the file again")
    match = _DATA_URL.match(contents[:300])
    if not match:
        raise PartnerDataError(f"{name}: the upload did not arrive as a file; choose it again")
    body = contents[match.end():]
    if len(body) * 3 // 4 > max_bytes + 2:
        raise PartnerDataError(
            f"{name}: about {len(body) * 3 // 4:,} bytes is over the {max_bytes:,}-byte limit; "
            "filter the extract to the period and area you need, or split it"
        )
    try:
        return base64.b64decode(body, validate=True), name
    except (binascii.Error, ValueError):
        raise PartnerDataError(f"{name}: the upload was damaged in transit (not base64); "
                               "choose the file again") from None


# -- shared reference data (read once per data folder) -------------------------------------


@lru_cache(maxsize=8)
def _boundaries(data_dir: Path, codes: tuple[str, ...]):
    """The home area's LSOA polygons (an extract's points are placed on them)."""
    from profiler.derived import area_boundaries

    return area_boundaries(data_dir, codes)


_LOOKUPS: dict[int, object] = {}


def _lookup_for(state: AppState):
    """The ONS 2011 -> 2021 lookup with the state's households (read once per state)."""
    if id(state) not in _LOOKUPS:
        households = state.table.set_index("lsoa21_code")["households_2021"]
        _LOOKUPS.clear()
        _LOOKUPS[id(state)] = load_code_lookup(Path(state.settings.data_dir), households)
    return _LOOKUPS[id(state)]


# -- loading -------------------------------------------------------------------------------


_NOT_VALUES = {"lsoa_name", "lsoa21_name", "lsoa11_name", "name", "area_name", "lsoa21nm",
               "lsoa11nm", "source", *(n for names in _CODE_NAMES.values() for n in names)}


def read_limits(settings) -> ReadLimits:
    """The bounds on reading one upload, from the settings (``SVRP_PARTNER_*``)."""
    return ReadLimits(max_rows=settings.partner_max_rows,
                      max_cells=settings.partner_xlsx_max_cells,
                      max_unzipped_bytes=settings.partner_unzipped_max_bytes,
                      max_seconds=float(settings.partner_read_seconds))


def _whole_number_columns(content: bytes, filename: str, max_bytes: int,
                          limits: ReadLimits | None = None) -> list[str]:
    """Value columns holding whole numbers only: read as counts (apportioned, suppressed)."""
    frame = read_table_upload(content, filename, max_bytes=max_bytes, limits=limits)
    out = []
    for col in frame.columns:
        if _norm(col) in _NOT_VALUES:
            continue
        filled = frame[col][frame[col].str.strip() != ""]
        if len(filled) and filled.str.match(_WHOLE.pattern).all():
            out.append(col)
    return out


def load_indicator_upload(state: AppState, content: bytes, filename: str) -> IndicatorUpload:
    """Validate a partner LSOA indicator table for the county (raises PartnerDataError).

    Columns holding whole numbers only are read as counts: apportioned on 2011 splits, and
    their small values suppressed wherever shown.
    """
    max_bytes = state.settings.partner_max_bytes
    threshold = state.settings.disclosure_threshold
    limits = read_limits(state.settings)
    counts = _whole_number_columns(content, filename, max_bytes, limits)
    by_id = {ind.id: ind for ind in state.spec.indicators}
    by_col = {_norm(ind.column): ind for ind in state.spec.indicators}
    count_ids = []
    for col in counts:
        ind = by_id.get(_norm(col)) or by_col.get(_norm(col))
        count_ids.append(ind.id if ind else _norm(col))
    spec, table, report = load_partner_indicators(
        content, filename, state.spec, state.county_table,
        new_indicators={c: {"kind": "count"} for c in counts},
        scope_codes=set(state.county_table["lsoa21_code"]),
        lookup=_lookup_for(state), max_bytes=max_bytes, limits=limits)
    partner = tuple(i.id for i in spec.indicators if i.column.startswith("partner_"))
    if count_ids:
        report.notes.append(
            f"{', '.join(count_ids)}: whole numbers only, read as counts (2011 splits "
            f"apportioned by households; 1 to {threshold - 1} shown as <{threshold})")
    replaced = sorted(set(partner) & set(by_id))
    added = sorted(set(partner) - set(by_id))
    report.notes.insert(0, f"indicators replaced: {', '.join(replaced) or 'none'}; added: "
                           f"{', '.join(added) or 'none'}")
    return IndicatorUpload(
        name=report.source, spec=spec, table=table, partner_ids=partner,
        count_ids=tuple(count_ids), lines=tuple(report.lines(n=0)))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def load_extract_upload(state: AppState, content: bytes, filename: str) -> ExtractUpload:
    """Validate an incident extract and count its themes per county LSOA."""
    data_dir = Path(state.settings.data_dir)
    bounds = _boundaries(data_dir, tuple(state.home.lsoa_codes))
    codes = set(state.county["lsoa21_code"])
    incidents, report = load_incidents(
        content, filename, lsoa_boundaries=bounds, valid_codes=codes,
        lookup=_lookup_for(state), max_bytes=state.settings.partner_max_bytes,
        limits=read_limits(state.settings))
    residents = residents_lsoa21(_lookup_for(state))
    residents = residents[residents.index.isin(codes)].sort_index()
    counts = theme_counts(incidents, residents)
    synthetic = bool(len(incidents)) and bool(incidents["source"].str.upper().eq("SYNTHETIC")
                                              .all())
    from profiler.trends import partner_covered, partner_monthly

    placed = incidents[incidents["lsoa21_code"].isin(codes)]
    return ExtractUpload(name=report.source, counts=counts, synthetic=synthetic,
                         lines=tuple(report.lines(n=0)), monthly=partner_monthly(placed),
                         covered=partner_covered(incidents["date"]))


def synthetic_file(data_dir: str | Path, area: HomeArea) -> Path:
    """The SYNTHETIC example extract for an area: its own if shipped, else the first shipped."""
    own = Path(data_dir) / area.data_file("synthetic")
    shipped = sorted(Path(data_dir).glob(AREA_FILES["synthetic"].format(slug="*")))
    return own if own.exists() or not shipped else shipped[0]


def load_synthetic(state: AppState) -> ExtractUpload:
    """The shipped SYNTHETIC example extract (``data/partner``), loaded like an upload."""
    path = synthetic_file(state.settings.data_dir, state.home)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PartnerDataError(f"{path.name}: the synthetic example is missing ({exc.strerror}); "
                               "run scripts/make_synthetic_incidents.py") from None
    return load_extract_upload(state, content, path.name)


def failure_lines(exc: PartnerDataError) -> list[str]:
    """The error and, for row problems, the first offending rows with their reasons."""
    report: ValidationReport | None = getattr(exc, "report", None)
    lines = [str(exc)]
    if report is not None:
        lines += [ln for ln in report.lines(n=5)[1:] if not ln.startswith("note:")]
    return lines


# -- the profile with partner data -----------------------------------------------------------


def view_state(state: AppState, data: PartnerData | None) -> AppState:
    """The app state the page functions read, with the partner spec and county table.

    England comparisons (means, percentiles) are dropped for partner indicators: partner data
    covers the county only. The cached band stability belongs to the open profile and is
    dropped when partner indicators change the spec.
    """
    if data is None or data.indicators is None:
        return state
    up = data.indicators
    key = ("state",)
    found = _recall(data, key)
    if found is not None:
        return found
    means = RiskProfiler(up.spec).fit(up.table).reference_means()
    partner = set(up.partner_ids)
    new = dataclasses.replace(
        state,
        spec=up.spec,
        county_table=up.table,
        county=score_scope(up.table, up.spec, scope=state.home, reference="area"),
        county_means=dict(means),
        england_means={k: v for k, v in state.england_means.items() if k not in partner},
        england_sorted={k: v for k, v in state.england_sorted.items() if k not in partner},
        stability=None,
    )
    _remember(data, key, new)
    return new


def _recall(data: PartnerData, key):
    with data.lock:
        return data.results.get(key)


def _remember(data: PartnerData, key, value) -> None:
    with data.lock:
        data.results[key] = value
        while len(data.results) > 10:
            data.results.popitem(last=False)


def theme_bands(counts: pd.DataFrame, theme: str, banding: str, threshold: int) -> pd.Series:
    """Bands of a theme from partner rates per 1,000 residents, by LSOA code.

    An LSOA whose count is suppressed is banded as if it had ``threshold / 2`` incidents, so its
    band says nothing beyond "fewer than the threshold". ``fixed`` banding (score thresholds)
    has no meaning for rates: standard deviations are used instead.
    """
    count = counts[f"{theme}_count"].astype(float)
    small = small_mask(count, threshold).to_numpy()
    surrogate = np.where(small, threshold / 2.0, count.to_numpy())
    residents = counts["residents"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(residents > 0, surrogate / residents * 1000.0, 0.0)
    scheme = banding if banding in ("stddev", "quantile", "natural_breaks") else "stddev"
    cuts = fit_band_cuts(rate, scheme)
    return pd.Series(band_labels(assign_bands(rate, cuts)), index=counts.index)


def apply_extract(result: pd.DataFrame, data: PartnerData | None, banding: str,
                  threshold: int) -> pd.DataFrame:
    """Replace the theme bands of a scored profile by the partner extract's, when loaded."""
    if data is None or data.extract is None:
        return result
    out = result.copy()
    for theme in THEMES:
        bands = theme_bands(data.extract.counts, theme, banding, threshold)
        out[f"{theme}_band"] = out["lsoa21_code"].map(bands).fillna(BANDS[2])
    return out


def score(state: AppState, data: PartnerData | None, pairs, normalisation: str, banding: str,
          threshold: int) -> pd.DataFrame:
    """The county profile with partner data (cached per session; inputs validated)."""
    if data is None or data.empty:
        raise ValueError("score: no partner data; use AppState.score")
    key = ("score", tuple(pairs), normalisation, banding, threshold)
    found = _recall(data, key)
    if found is not None:
        return found
    vstate = view_state(state, data)
    spec = vstate.spec
    weights = {k: v for k, v in pairs if k in spec.ids}
    prof = spec.profile
    if data.indicators is None:
        # the open profile, from the app's shared cache (the spec's own settings map to None)
        result = state.score(
            () if weights == spec.weights else tuple(pairs),
            None if normalisation == prof.normalisation else normalisation,
            None if banding == prof.banding else banding,
        )
    else:
        result = score_scope(vstate.county_table, spec, scope=vstate.home, reference="area",
                             weights=weights,
                             normalisation=normalisation, banding=banding)
    result = apply_extract(result, data, banding, threshold)
    _remember(data, key, result)
    return result


# -- what people see: sources and suppressed values ------------------------------------------


def _partner_members(data: PartnerData | None, theme: str) -> list[str]:
    """Partner indicators (from an uploaded table) tagged with a theme."""
    if data is None or data.indicators is None:
        return []
    spec = data.indicators.spec
    return [i.id for i in spec.indicators
            if i.id in data.indicators.partner_ids and theme in i.themes]


def layer_sources(data: PartnerData | None) -> dict[str, str]:
    """Which source each theme layer uses (open proxies, partner indicators or the extract)."""
    if data is None or data.extract is None:
        out = theme_sources(None)
        for theme in THEMES:
            members = _partner_members(data, theme)
            if members:
                out[theme] += (f", partner values for {', '.join(members)} from "
                               f"{data.indicators.name}")
        return out
    return theme_sources(data.extract.name, synthetic=data.extract.synthetic)


def layer_source_label(data: PartnerData | None, theme: str) -> str:
    """A short label for a theme layer's source, e.g. ``partner extract, SYNTHETIC example``."""
    if data is None or data.extract is None:
        return OPEN_PROXY + (" with partner indicators" if _partner_members(data, theme) else "")
    return "partner extract" + (", SYNTHETIC example" if data.extract.synthetic else "")


def suppressed_counts(data: PartnerData, threshold: int) -> pd.DataFrame:
    """The extract's theme counts with small counts and their rates suppressed (None)."""
    counts = data.extract.counts
    columns = [f"{t}_count" for t in THEMES]
    return suppress(counts[[*columns, *(f"{t}_rate_per_1000" for t in THEMES)]], columns,
                    threshold=threshold)


def count_text(data: PartnerData, threshold: int) -> dict[str, dict[str, tuple[str, str]]]:
    """``{code: {theme: (count text, rate text)}}``: suppressed display text, e.g. ``<5``."""
    hidden = suppressed_counts(data, threshold)
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for code, row in zip(hidden.index, hidden.to_dict("records"), strict=True):
        out[code] = {
            t: (display_value(row[f"{t}_count"], threshold=threshold),
                display_value(row[f"{t}_rate_per_1000"], threshold=threshold, is_count=False))
            for t in THEMES
        }
    return out


def layer_detail(data: PartnerData | None, layer: str, threshold: int) -> dict[str, str]:
    """Tooltip and hover line per LSOA for a partner theme layer (suppressed), else empty."""
    if data is None or data.extract is None or layer not in THEMES:
        return {}
    texts = count_text(data, threshold)
    out = {}
    for code, themes in texts.items():
        n, rate = themes[layer]
        rate_part = "rate suppressed" if rate == "suppressed" else f"{rate} per 1,000 residents"
        out[code] = f"Partner extract: {n} incident(s); {rate_part}"
    return out


def panel_rows(data: PartnerData | None, code: str, threshold: int) -> list[tuple[str, str, str]]:
    """``(theme label, count text, rate text)`` rows of one LSOA for the panel, or []."""
    if data is None or data.extract is None:
        return []
    themes = count_text(data, threshold).get(code)
    if themes is None:
        return []
    return [(THEME_LABELS[t], *themes[t]) for t in THEMES]


def table_text(data: PartnerData | None, codes, threshold: int) -> dict[str, str]:
    """``{code: "knife / domestic / public-place"}`` suppressed counts for the LSOA table."""
    if data is None or data.extract is None:
        return {}
    texts = count_text(data, threshold)
    return {c: " / ".join(texts[c][t][0] for t in THEMES) for c in codes if c in texts}


def hidden_indicator_values(data: PartnerData | None, result: pd.DataFrame,
                            threshold: int) -> dict[str, set[str]]:
    """``{indicator id: {codes}}`` whose partner count value must be shown as ``<5``."""
    if data is None or data.indicators is None:
        return {}
    out = {}
    for ind_id in data.indicators.count_ids:
        mask = small_mask(result[f"{ind_id}_value"], threshold).to_numpy()
        out[ind_id] = set(result["lsoa21_code"].to_numpy()[mask])
    return out


def suppress_profile(result: pd.DataFrame, data: PartnerData | None,
                     threshold: int) -> pd.DataFrame:
    """A profile for export or display with partner count indicators' small values hidden.

    Hidden cells become missing values flagged by ``<id>_suppressed``
    (:func:`profiler.disclosure.mark_suppressed`); the text ``<5`` / ``suppressed`` is written
    only by the export or the view, so every numeric consumer keeps working.
    """
    hidden = hidden_indicator_values(data, result, threshold)
    if not hidden:
        return result
    return mark_suppressed(result, hidden, threshold)


def export_counts(state: AppState, data: PartnerData, threshold: int) -> bytes:
    """The extract's per-LSOA theme counts as CSV, suppressed and neutralised."""
    names = state.county.set_index("lsoa21_code")["lsoa21_name"]
    ext = data.extract
    meta = {"extract": ext.name + (" (SYNTHETIC: not real data)" if ext.synthetic else ""),
            **{f"source {k}": v for k, v in layer_sources(data).items()}}
    return export_theme_counts(ext.counts, threshold=threshold, meta=meta, names=names)


__all__ = [
    "PartnerCache",
    "PartnerData",
    "cache_for",
    "decode_upload",
    "load_indicator_upload",
    "load_extract_upload",
    "load_synthetic",
    "failure_lines",
    "view_state",
    "score",
    "layer_sources",
    "layer_detail",
    "panel_rows",
    "table_text",
    "export_counts",
    "suppress_profile",
]
