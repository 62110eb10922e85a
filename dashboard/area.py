"""Any area at any scale: scope and reference choices, scope geometry, compact band views.

A recolour of England sends one character per LSOA (``band_string``), aligned with the ``i``
property of the scope's geometry features, instead of a ``{code: band}`` object: 34 kB instead of
about 600 kB for 33,755 LSOAs.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from dashboard.state import AppState
from profiler.codes import LAD_RE
from profiler.engine import band_index
from profiler.errors import ProfilerError
from profiler.spec import REFERENCES

SCOPE_RE = re.compile(rf"^(england|warwickshire|{LAD_RE.pattern.strip('^$')})$")
NO_BAND = "-"  # band_string character for an LSOA without a band
REFERENCE_LABELS = {
    "county": "its county (upper-tier authority)",
    "district": "its district",
    "england": "all England",
    "area": "the area shown (fitted on its own LSOAs)",
}


def validate_scope(state: AppState, scope: str | None) -> str:
    """Check a scope value: ``england``, ``warwickshire`` or an English district code.

    Raises
    ------
    ProfilerError
        Naming the value and what is allowed.
    """
    if not isinstance(scope, str) or not SCOPE_RE.match(scope):
        shown = str(scope)[:20]
        raise ProfilerError(
            f"scope {shown!r}: use england, warwickshire or a district code like E07000219"
        )
    if scope.startswith("E0") and scope not in state.lad_names:
        raise ProfilerError(f"scope {scope!r} is not an English district code in the table")
    return scope


def validate_reference(reference: str | None) -> str:
    """Check a reference value (county, district or england)."""
    if reference not in REFERENCES:
        raise ProfilerError(
            f"reference {str(reference)[:20]!r}: use one of {', '.join(REFERENCES)}"
        )
    return reference


def default_reference(scope: str) -> str:
    """England is banded against England; a district or the county against its county."""
    return "england" if scope == "england" else "county"


def scope_label(state: AppState, scope: str) -> str:
    """Human name of a scope."""
    if scope == "england":
        return "England"
    if scope == "warwickshire":
        return "Warwickshire"
    return f"{state.lad_names[scope]} ({scope})"


@lru_cache(maxsize=48)
def _scope_geometry(scope: str, codes: tuple[str, ...], features_id: int) -> bytes:
    features = _FEATURES[features_id]
    missing = [c for c in codes if c not in features]
    if missing:
        raise ProfilerError(
            f"{scope}: {len(missing)} LSOAs have no shape in the web geometry "
            f"(first: {missing[:3]}); rebuild it with scripts/build_web_geometry.py"
        )
    # Each feature text ends its properties with "i":<index in England>; renumber for the scope.
    parts = [
        _I_RE.sub(f'"i":{n}}}', features[code], count=1) for n, code in enumerate(codes)
    ]
    text = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


_FEATURES: dict[int, dict[str, str]] = {}
_I_RE = re.compile(r'"i":\d+\}')


def scope_geometry_gz(state: AppState, scope: str) -> bytes:
    """Gzipped GeoJSON of a scope's LSOAs, features in code order with index property ``i``.

    England is the committed web file as it is (built with ``i`` already); other scopes are cut
    from it once and cached.
    """
    if scope == "england":
        return state.england_web_gz
    key = id(state.england_features)
    _FEATURES[key] = state.england_features
    return _scope_geometry(scope, tuple(state.area_codes(scope)), key)


def band_string(result: pd.DataFrame, column: str, codes: list[str]) -> str:
    """One character per LSOA in ``codes`` order: ``0`` Very Low .. ``4`` Very High, ``-`` none."""
    index = band_index(result[column])
    chars = np.frombuffer(b"01234", dtype=np.uint8)[index.clip(0)]
    chars[index < 0] = ord(NO_BAND)
    where = _code_index(tuple(codes)).get_indexer(result["lsoa21_code"].to_numpy())
    out = np.full(len(codes), ord(NO_BAND), dtype=np.uint8)
    found = where >= 0
    out[where[found]] = chars[found]
    return out.tobytes().decode("ascii")


@lru_cache(maxsize=16)
def _code_index(codes: tuple[str, ...]) -> pd.Index:
    return pd.Index(codes)


def scope_bounds(state: AppState, scope: str) -> list[list[float]]:
    """[[south, west], [north, east]] of a scope (built with the web geometry)."""
    if scope == "warwickshire":
        return state.bounds
    return state.area_bounds[scope]
