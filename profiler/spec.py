"""The indicator spec: one declarative TOML file, validated once, read everywhere.

A spec has a ``[profile]`` table (method settings) and one ``[[indicator]]`` table per indicator.
Every error names the file, the key and the fix, in one line.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from profiler.errors import ProfilerError

DIRECTIONS = ("higher_is_riskier", "lower_is_riskier")
THEME_TAGS = ("knife", "domestic", "public_place", "causal")
NORMALISATIONS = ("zscore", "minmax", "rank", "exponential")
BANDINGS = ("stddev", "quantile", "natural_breaks", "fixed")
REFERENCES = ("county", "district", "england", "area")  # area: fitted on the scope itself
MISSING_POLICIES = ("error", "median")
#: Data an indicator may need that not every area has (``requires = "police_uk"``): where it is
#: blank (no imported police.uk months), the score is the weighted mean of the indicators an LSOA
#: has, its weights renormalised over them, whatever ``missing`` says.
REQUIREMENTS = {"police_uk": "imported police.uk months (python -m profiler police import)"}
MAX_WEIGHT = 100.0  # the one declared weight limit: spec, what-if and URL weights all obey it
MIN_WEIGHT = 0.0  # a what-if weight of 0 drops an indicator (a spec weight must be above it)
SLIDER_WEIGHT_MAX = 5.0  # the what-if sliders' usual top; a larger spec weight raises it

_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Names an indicator id cannot take: a scored profile's own columns would clash (``knife`` makes
#: ``knife_band``, the knife theme's band), as would band names and the result's columns.
RESERVED_IDS = frozenset({
    *THEME_TAGS, "very_low", "low", "medium", "high", "very_high", "score", "rank", "band",
    "p_high", "lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "msoa21_hcl_name",
    "ward24_code", "ward24_name", "lad24_code", "lad24_name", "utla_code", "utla_name",
    "ruc21_class",
})
_INDICATOR_KEYS = {
    "id": str,
    "label": str,
    "column": str,
    "direction": str,
    "weight": float,
    "themes": list,
    "unit": str,
    "source": str,
    "period": str,
    "licence": str,
    "rationale": str,
}
_OPTIONAL_INDICATOR_KEYS = {"requires": str}
_PROFILE_DEFAULTS: dict[str, Any] = {
    "name": "Risk profile",
    "normalisation": "zscore",
    "banding": "stddev",
    "reference": "county",
    "cap": 0.0,
    "missing": "error",
    "fixed_thresholds": None,
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the profile, as declared in the spec.

    Parameters
    ----------
    id : str
        Short identifier (``^[a-z][a-z0-9_]*$``), unique in the spec.
    label : str
        Human-readable name shown in the dashboard and exports.
    column : str
        Column of the indicator table holding the raw values.
    direction : {"higher_is_riskier", "lower_is_riskier"}
        Which way the raw value points to risk.
    weight : float
        Weight in the composite score (> 0).
    themes : tuple of str
        Themes the indicator feeds (``knife``, ``domestic``, ``public_place``, ``causal``).
    unit, source, period, licence, rationale : str
        Documentation shown on the methodology page and the README.
    requires : str
        ``""``, or a key of :data:`REQUIREMENTS`: data not every area has. Where the value is
        blank the indicator is left out of that LSOA's score and the other weights renormalised.
    """

    id: str
    label: str
    column: str
    direction: str
    weight: float
    themes: tuple[str, ...]
    unit: str
    source: str
    period: str
    licence: str
    rationale: str
    requires: str = ""

    @property
    def optional(self) -> bool:
        """True when the indicator may be blank (its data is not loaded for every area)."""
        return bool(self.requires)

    @property
    def sign(self) -> float:
        """+1 when a higher value is riskier, -1 otherwise."""
        return 1.0 if self.direction == "higher_is_riskier" else -1.0


@dataclass(frozen=True)
class ProfileSettings:
    """Method settings of a profile (the ``[profile]`` table)."""

    name: str = "Risk profile"
    normalisation: str = "zscore"
    banding: str = "stddev"
    reference: str = "county"
    cap: float = 0.0
    missing: str = "error"
    fixed_thresholds: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Spec:
    """A validated indicator spec.

    Attributes
    ----------
    indicators : tuple of Indicator
        The indicators in file order.
    profile : ProfileSettings
        Method settings.
    source : str
        Where the spec came from (a file path, or ``<memory>``), used in error messages.
    sha256 : str
        SHA-256 of the spec file's bytes (or of its canonical JSON when built in memory).
    """

    indicators: tuple[Indicator, ...]
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    source: str = "<memory>"
    sha256: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        """Indicator ids in spec order."""
        return tuple(ind.id for ind in self.indicators)

    @property
    def slider_max(self) -> float:
        """Top of the what-if weight sliders: 5, or the largest spec weight if higher."""
        return max(SLIDER_WEIGHT_MAX, *(ind.weight for ind in self.indicators))

    @property
    def weights(self) -> dict[str, float]:
        """Indicator weights by id."""
        return {ind.id: ind.weight for ind in self.indicators}

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the indicator with this id.

        Raises
        ------
        ProfilerError
            If no indicator has that id.
        """
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise ProfilerError(
            f"{self.source}: no indicator with id {indicator_id!r}; "
            f"known ids: {', '.join(self.ids)}"
        )

    def theme_members(self, theme: str) -> tuple[Indicator, ...]:
        """Return the indicators tagged with ``theme``."""
        return tuple(ind for ind in self.indicators if theme in ind.themes)

    def with_weights(self, weights: Mapping[str, float]) -> Spec:
        """Return a copy with some weights replaced (a what-if profile).

        Weights of 0 are allowed here (they drop an indicator from the score) as long as at
        least one weight stays positive; the spec file itself requires every weight > 0.

        Parameters
        ----------
        weights : mapping of str to float
            New weights by indicator id; ids not given keep their weight.

        Raises
        ------
        ProfilerError
            On an unknown id, a non-finite or out-of-range weight, or all weights zero.
        """
        unknown = [k for k in weights if k not in self.ids]
        if unknown:
            raise ProfilerError(
                f"weights: unknown indicator id(s) {', '.join(map(repr, unknown[:5]))}; "
                f"use ids from {self.source}: {', '.join(self.ids)}"
            )
        new = []
        for ind in self.indicators:
            w = weights.get(ind.id, ind.weight)
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
                raise ProfilerError(f"weights: {ind.id} must be a finite number, got {w!r}")
            if not MIN_WEIGHT <= float(w) <= MAX_WEIGHT:
                raise ProfilerError(
                    f"weights: {ind.id} must be between {MIN_WEIGHT:g} and {MAX_WEIGHT:g}, "
                    f"got {w!r}"
                )
            new.append(replace(ind, weight=float(w)))
        if not any(ind.weight > 0 for ind in new):
            raise ProfilerError("weights: at least one indicator needs a weight above 0")
        return replace(self, indicators=tuple(new))

    def with_profile(self, **changes: Any) -> Spec:
        """Return a copy with some ``[profile]`` settings replaced, validated as in the file."""
        data = {**self.profile.__dict__, **{k: v for k, v in changes.items() if v is not None}}
        if data.get("fixed_thresholds") is not None:
            data["fixed_thresholds"] = list(data["fixed_thresholds"])
        return replace(self, profile=_parse_profile(data, self.source))

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as plain data (for metadata blocks and hashing)."""
        prof = dict(self.profile.__dict__)
        if prof["fixed_thresholds"] is not None:
            prof["fixed_thresholds"] = list(prof["fixed_thresholds"])
        return {
            "profile": prof,
            "indicator": [
                {**{k: v for k, v in ind.__dict__.items() if k != "requires" or v},
                 "themes": list(ind.themes)}
                for ind in self.indicators
            ],
        }

    @property
    def effective_sha256(self) -> str:
        """SHA-256 of the canonical JSON of the spec as used (after any what-if changes)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


def _fail(source: str, where: str, message: str) -> ProfilerError:
    return ProfilerError(f"{source}: {where}: {message}")


def _parse_profile(raw: Mapping[str, Any], source: str) -> ProfileSettings:
    unknown = sorted(set(raw) - set(_PROFILE_DEFAULTS))
    if unknown:
        raise _fail(
            source,
            "[profile]",
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_PROFILE_DEFAULTS)}",
        )
    data = {**_PROFILE_DEFAULTS, **raw}
    for key, allowed in (
        ("normalisation", NORMALISATIONS),
        ("banding", BANDINGS),
        ("reference", REFERENCES),
        ("missing", MISSING_POLICIES),
    ):
        if data[key] not in allowed:
            raise _fail(
                source,
                f"[profile] {key}",
                f"got {data[key]!r}; use one of {', '.join(allowed)}",
            )
    if not isinstance(data["name"], str):
        raise _fail(source, "[profile] name", f"must be a string, got {data['name']!r}")
    cap = data["cap"]
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0.0 <= cap < 0.5:
        raise _fail(
            source,
            "[profile] cap",
            f"got {cap!r}; use a quantile in [0, 0.5), e.g. 0.01 to winsorise at the 1st/99th "
            "percentiles, or 0 for no capping",
        )
    thresholds = data["fixed_thresholds"]
    if thresholds is not None:
        ok = (
            isinstance(thresholds, list | tuple)
            and len(thresholds) == 4
            and all(
                isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
                for t in thresholds
            )
            and all(a < b for a, b in zip(thresholds, thresholds[1:], strict=False))
        )
        if not ok:
            raise _fail(
                source,
                "[profile] fixed_thresholds",
                f"got {thresholds!r}; give four increasing numbers (upper-inclusive cut points "
                "between the five bands)",
            )
        thresholds = tuple(float(t) for t in thresholds)
    elif data["banding"] == "fixed":
        raise _fail(
            source,
            "[profile] fixed_thresholds",
            "banding = 'fixed' needs fixed_thresholds = [t1, t2, t3, t4]",
        )
    return ProfileSettings(
        name=data["name"],
        normalisation=data["normalisation"],
        banding=data["banding"],
        reference=data["reference"],
        cap=float(cap),
        missing=data["missing"],
        fixed_thresholds=thresholds,
    )


def _parse_indicator(raw: Any, index: int, source: str) -> Indicator:
    where = f"[[indicator]] #{index + 1}"
    if not isinstance(raw, Mapping):
        raise _fail(source, where, "must be a table of key = value pairs")
    if isinstance(raw.get("id"), str):
        where = f"[[indicator]] id={raw['id']!r}"
    missing = [k for k in _INDICATOR_KEYS if k not in raw]
    if missing:
        raise _fail(source, where, f"missing key(s) {', '.join(missing)}; every indicator needs "
                    f"{', '.join(_INDICATOR_KEYS)}")
    allowed = {**_INDICATOR_KEYS, **_OPTIONAL_INDICATOR_KEYS}
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise _fail(source, where, f"unknown key(s) {', '.join(unknown)}; allowed: "
                    f"{', '.join(allowed)}")
    requires = raw.get("requires", "")
    if not isinstance(requires, str):
        raise _fail(source, f"{where} requires", f"must be a string, got {requires!r}")
    if requires and requires not in REQUIREMENTS:
        raise _fail(source, f"{where} requires", f"got {requires!r}; use one of "
                    f"{', '.join(REQUIREMENTS)} or leave the key out")
    for key, typ in _INDICATOR_KEYS.items():
        value = raw[key]
        if typ is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(source, f"{where} {key}", f"must be a number, got {value!r}")
        elif not isinstance(value, typ):
            raise _fail(source, f"{where} {key}", f"must be a {typ.__name__}, got {value!r}")
    if not _ID_RE.match(raw["id"]):
        raise _fail(source, f"{where} id", f"got {raw['id']!r}; use lower-case letters, digits "
                    "and underscores, starting with a letter")
    if raw["id"] in RESERVED_IDS:
        raise _fail(source, f"{where} id", f"{raw['id']!r} is reserved (a theme, band or profile "
                    "column name); choose another id")
    if raw["direction"] not in DIRECTIONS:
        raise _fail(source, f"{where} direction", f"got {raw['direction']!r}; use one of "
                    f"{', '.join(DIRECTIONS)}")
    weight = float(raw["weight"])
    if not math.isfinite(weight) or weight <= 0 or weight > MAX_WEIGHT:
        raise _fail(source, f"{where} weight", f"got {raw['weight']!r}; weights must be > 0 and "
                    f"<= {MAX_WEIGHT:g} (remove the indicator to leave it out)")
    themes = raw["themes"]
    bad = [t for t in themes if t not in THEME_TAGS]
    if bad:
        raise _fail(source, f"{where} themes", f"unknown theme(s) {', '.join(map(repr, bad))}; "
                    f"use a subset of {', '.join(THEME_TAGS)}")
    if len(set(themes)) != len(themes):
        raise _fail(source, f"{where} themes", f"repeated theme in {themes!r}")
    if not raw["column"].strip():
        raise _fail(source, f"{where} column", "must name a column of the indicator table")
    return Indicator(
        id=raw["id"],
        label=raw["label"],
        column=raw["column"],
        direction=raw["direction"],
        weight=weight,
        themes=tuple(themes),
        unit=raw["unit"],
        source=raw["source"],
        period=raw["period"],
        licence=raw["licence"],
        rationale=raw["rationale"],
        requires=requires,
    )


def parse_spec(data: Mapping[str, Any], source: str = "<memory>", sha256: str = "") -> Spec:
    """Validate parsed spec data and build a :class:`Spec`.

    Parameters
    ----------
    data : mapping
        The parsed TOML document (``profile`` table and ``indicator`` array of tables).
    source : str
        Name used in error messages (usually the file path).
    sha256 : str
        Hash of the file's bytes; computed from canonical JSON when empty.

    Returns
    -------
    Spec

    Raises
    ------
    ProfilerError
        On any invalid key or value, naming the file, the key and the fix.
    """
    unknown = sorted(set(data) - {"profile", "indicator"})
    if unknown:
        raise _fail(source, "top level", f"unknown table(s) {', '.join(unknown)}; a spec has "
                    "[profile] and [[indicator]] tables")
    profile_raw = data.get("profile", {})
    if not isinstance(profile_raw, Mapping):
        raise _fail(source, "[profile]", "must be a table")
    profile = _parse_profile(profile_raw, source)
    raw_inds = data.get("indicator")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise _fail(source, "[[indicator]]", "no indicators declared; add at least one "
                    "[[indicator]] table")
    indicators = tuple(_parse_indicator(r, i, source) for i, r in enumerate(raw_inds))
    for attr in ("id", "column"):
        seen: set[str] = set()
        dups = []
        for ind in indicators:
            value = getattr(ind, attr)
            if value in seen:
                dups.append(value)
            seen.add(value)
        if dups:
            raise _fail(source, f"[[indicator]] {attr}", f"duplicate {attr}(s) "
                        f"{', '.join(map(repr, dups[:5]))}; each indicator needs its own {attr}")
    spec = Spec(indicators=indicators, profile=profile, source=source, sha256=sha256)
    if not sha256:
        spec = replace(spec, sha256=spec.effective_sha256)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Parameters
    ----------
    path : str or Path
        A TOML file with ``[profile]`` and ``[[indicator]]`` tables.

    Returns
    -------
    Spec

    Raises
    ------
    ProfilerError
        If the file is missing, not valid TOML, or fails validation.
    """
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ProfilerError(f"{path}: spec file not found; pass --spec with the path to a spec "
                            "TOML file (default data/indicators/spec.toml)") from None
    except OSError as exc:
        raise ProfilerError(f"{path}: cannot read spec file ({exc.strerror})") from None
    try:
        data = tomllib.loads(blob.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfilerError(f"{path}: spec file is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfilerError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    return parse_spec(data, source=str(path), sha256=hashlib.sha256(blob).hexdigest())
