"""The view state in the URL query string: parse (validating every value) and build.

Pure functions, so a shared link can be tested without a browser. A bad value never raises: it
is dropped, the default is used, and a one-line message says what was wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from profiler.codes import LSOA21_RE
from profiler.engine import BANDS
from profiler.spec import BANDINGS, MAX_WEIGHT, MIN_WEIGHT, NORMALISATIONS, Spec

LSOA_RE = LSOA21_RE  # kept for importers of dashboard.urlstate.LSOA_RE
LAYER_KEYS = (
    "overall", "knife", "domestic", "public_place", "hotspots", "hotspots_knife",
    "hotspots_domestic", "hotspots_public_place", "stability", "change", "quadrants",
)
INCIDENT_KEYS = ("off", "cluster", "points", "heat")
WEIGHT_MIN, WEIGHT_MAX = MIN_WEIGHT, MAX_WEIGHT  # the spec's own limits, declared once
DEFAULT_BANDS = ("Very High", "High")
PERIOD_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")  # the map's incident month (?period=)


@dataclass(frozen=True)
class ViewState:
    """What a shared link restores."""

    layer: str = "overall"
    normalisation: str | None = None
    banding: str | None = None
    weights: dict[str, float] = field(default_factory=dict)  # only those differing from the spec
    lsoa: str | None = None
    bands: tuple[str, ...] = DEFAULT_BANDS
    district: str | None = None  # a sub-area (district or ward) code; None: the whole area
    incidents: str = "off"
    period: str | None = None  # one police.uk month (YYYY-MM) of the incident points; None: all


def parse_query(
    query: dict[str, str],
    spec: Spec,
    known_lsoas: set[str] | None = None,
    subareas: Mapping[str, str] | None = None,
    area: str = "the area",
) -> tuple[ViewState, list[str]]:
    """Parse query parameters into a view state.

    Parameters
    ----------
    query : dict
        Query parameters (as Dash pages pass them to ``layout``).
    spec : Spec
        For indicator ids and default weights.
    known_lsoas : set of str, optional
        LSOA codes in the view; a well-formed code not in it is reported.
    subareas : mapping of str to str, optional
        The area's sub-areas (code to name) a ``district`` value may name; without it, any
        ``district`` value is reported and dropped.
    area : str
        The area's name, for messages.

    Returns
    -------
    (ViewState, list of str)
        The state, and one message per rejected value.
    """
    errors: list[str] = []
    layer = query.get("layer", "overall")
    if layer not in LAYER_KEYS:
        errors.append(f"layer {layer!r} is not one of {', '.join(LAYER_KEYS)}; showing overall")
        layer = "overall"
    norm = query.get("norm") or None
    if norm is not None and norm not in NORMALISATIONS:
        errors.append(f"normalisation {norm!r} is not one of {', '.join(NORMALISATIONS)}")
        norm = None
    banding = query.get("banding") or None
    if banding is not None and banding not in BANDINGS:
        errors.append(f"banding {banding!r} is not one of {', '.join(BANDINGS)}")
        banding = None
    weights: dict[str, float] = {}
    for item in filter(None, (query.get("w") or "").split(",")):
        key, _, raw = item.partition(":")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if key not in spec.ids:
            errors.append(f"weight for unknown indicator {key[:40]!r} ignored")
        elif not math.isfinite(value) or not WEIGHT_MIN <= value <= WEIGHT_MAX:
            errors.append(
                f"weight {key}={raw[:20]!r} must be a number from {WEIGHT_MIN:g} to "
                f"{WEIGHT_MAX:g}; using the spec's weight"
            )
        else:
            weights[key] = value
    if weights and all(weights.get(i, spec.weights[i]) == 0 for i in spec.ids):
        errors.append("all weights were 0; using the spec's weights")
        weights = {}
    lsoa = query.get("lsoa") or None
    if lsoa is not None and (
        not LSOA_RE.match(lsoa) or (known_lsoas is not None and lsoa not in known_lsoas)
    ):
        errors.append(f"LSOA {lsoa[:20]!r} is not a 2021 LSOA code in {area} (like E01031010)")
        lsoa = None
    bands_raw = query.get("bands")
    bands = DEFAULT_BANDS
    if bands_raw is not None:
        parts = tuple(b for b in bands_raw.split(",") if b)
        if all(b in BANDS for b in parts):
            bands = parts
        else:
            errors.append(f"bands {bands_raw[:60]!r} must be from {', '.join(BANDS)}")
    district = query.get("district") or None
    subareas = subareas or {}
    if district is not None and district not in subareas:
        shown = ", ".join(list(subareas)[:8]) + (", ..." if len(subareas) > 8 else "")
        errors.append(
            f"district {district[:20]!r} is not a sub-area code of {area}"
            + (f" ({shown})" if shown else "") + f"; showing the whole of {area}"
        )
        district = None
    incidents = query.get("incidents") or "off"
    if incidents not in INCIDENT_KEYS:
        errors.append(f"incidents {incidents[:20]!r} is not one of {', '.join(INCIDENT_KEYS)}")
        incidents = "off"
    period = query.get("period") or None
    if period is not None and not PERIOD_RE.fullmatch(period):
        errors.append(f"period {period[:20]!r} is not a month (YYYY-MM); showing every month")
        period = None
    view = ViewState(layer, norm, banding, weights, lsoa, bands, district, incidents, period)
    return view, errors


def to_query(view: ViewState, spec: Spec) -> str:
    """Build the query string (with leading ``?``, or empty) for a view state."""
    params: dict[str, str] = {}
    if view.layer != "overall":
        params["layer"] = view.layer
    if view.normalisation:
        params["norm"] = view.normalisation
    if view.banding:
        params["banding"] = view.banding
    changed = {k: v for k, v in view.weights.items() if spec.weights.get(k) != v}
    if changed:
        params["w"] = ",".join(f"{k}:{v:g}" for k, v in changed.items())
    if view.lsoa:
        params["lsoa"] = view.lsoa
    if tuple(view.bands) != DEFAULT_BANDS:
        params["bands"] = ",".join(view.bands)
    if view.district:
        params["district"] = view.district
    if view.incidents != "off":
        params["incidents"] = view.incidents
    if view.period:
        params["period"] = view.period
    return "?" + urlencode(params, safe=",:") if params else ""
