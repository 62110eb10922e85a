"""Places a person types: districts, towns, wards, MSOA local names, LSOAs and postcodes.

A :class:`PlaceIndex` is built once, offline, from the shipped indicator table (every English
2021 LSOA with its name, House of Commons Library MSOA name, best-fit 2024 ward and 2024
district) and each LSOA's box from the web geometry, restricted to the LSOAs a deployment
offers. Postcodes come in only when a user has imported the ONS Postcode Directory
(:func:`import_onspd`, ``python -m profiler postcodes import FILE``).

Each :class:`Place` has a kind, a name, a code, the 2021 LSOAs it covers and a bounding box.
Towns are derived, not shipped: the place part of the HCL MSOA names ("Kenilworth" from
"Kenilworth East", "Kenilworth South", "Kenilworth West"; "Nuneaton" from "Nuneaton Town
Centre"), kept where at least two MSOAs of one district share it or one is its town centre.

:meth:`PlaceIndex.search` matches case-, accent- and punctuation-insensitively and ranks exact
matches before prefixes, prefixes before word matches, and those before fuzzy ones (difflib);
within a tier, districts before towns, wards, MSOAs, postcodes and LSOAs, then shorter names.
"""

from __future__ import annotations

import bisect
import csv
import difflib
import gzip
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.codes import LSOA21_RE, POSTCODE_RE
from profiler.errors import ProfilerError

KINDS = ("district", "town", "ward", "msoa", "postcode", "lsoa")
"""Place kinds, in the order they rank within a match tier."""
KIND_LABELS = {
    "district": "District",
    "town": "Town",
    "ward": "Ward",
    "msoa": "Neighbourhood (MSOA)",
    "postcode": "Postcode",
    "lsoa": "LSOA",
}
TIERS = ("exact", "prefix", "word", "fuzzy")
"""Match tiers, best first."""
POSTCODES_FILE = Path("postcodes") / "postcodes.csv.gz"
"""Where :func:`import_onspd` writes, under the data folder, and :func:`load_postcodes` reads."""
POSTCODE_COLUMNS = ("postcode", "lsoa21_code", "lat", "lon")
_TABLE_COLUMNS = ("lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "msoa21_hcl_name",
                  "ward24_code", "ward24_name", "lad24_code", "lad24_name")
_KIND_ORDER = {kind: n for n, kind in enumerate(KINDS)}
_PUNCT_RE = re.compile(r"[^0-9a-z]+")
_COORD_RE = re.compile(r"\[(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\]")
# Words that qualify a place in an MSOA name rather than name it ("Kenilworth East").
_QUALIFIERS = frozenset(
    "north south east west central centre center town city rural inner outer upper lower "
    "and".split()
)
# First words that need the next word to name a place ("New Bilton", "St Albans").
_PREFIXES = frozenset("new old great little long east west north south upper lower st saint "
                      "king kings high nether market".split())
_CENTRES = ("town centre", "city centre", "town", "central", "centre")
POSTCODE_BOX = 0.002  # degrees around a postcode's point (about 200 m) when it has no LSOA box
FUZZY_CUTOFF = 0.72


@lru_cache(maxsize=200_000)
def normalise(text: str) -> str:
    """Return the lower-case ASCII words of ``text``.

    Accents are dropped, ``&`` is read as "and" and punctuation as spaces
    (``"Bishop's Itchington & Ufton"`` -> ``"bishop s itchington and ufton"``).
    """
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = text.casefold().replace("&", " and ")
    return " ".join(_PUNCT_RE.sub(" ", text).split())


def compact(text: str) -> str:
    """:func:`normalise` without spaces: how codes and postcodes are compared (``cv345ab``)."""
    return normalise(text).replace(" ", "")


def format_postcode(text: str) -> str | None:
    """Return a UK postcode in its usual form (``"cv345ab"`` -> ``"CV34 5AB"``), or None."""
    raw = compact(text).upper()
    if not POSTCODE_RE.match(raw):
        return None
    return f"{raw[:-3]} {raw[-3:]}"


@dataclass(frozen=True)
class Place:
    """One searchable place.

    Attributes
    ----------
    kind : {"district", "town", "ward", "msoa", "postcode", "lsoa"}
    code : str
        ONS code (LAD, ward, MSOA, LSOA), the postcode itself, or for a town
        ``town:<district code>:<slug>``.
    name : str
        What is shown ("Camp Hill", "Warwick 001A", "CV34 5AB").
    lsoas : tuple of str
        Sorted 2021 LSOA codes the place covers (a postcode: its one LSOA).
    bbox : tuple of float
        ``(south, west, north, east)`` in degrees.
    context : str
        Where it is, for the suggestion list (its district names).
    aliases : tuple of str
        Other names it is found by (an MSOA's ONS name, an LSOA's code).
    point : tuple of float, optional
        ``(lat, lon)`` of a postcode.
    """

    kind: str
    code: str
    name: str
    lsoas: tuple[str, ...] = field(repr=False)
    bbox: tuple[float, float, float, float] = field(repr=False)
    context: str = ""
    aliases: tuple[str, ...] = field(default=(), repr=False)
    point: tuple[float, float] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """``kind:code``: how a place is named in a choice or a URL."""
        return f"{self.kind}:{self.code}"

    @property
    def bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]``, as Leaflet fits a map."""
        s, w, n, e = self.bbox
        return [[s, w], [n, e]]

    @property
    def label(self) -> str:
        """``"Camp Hill · Neighbourhood (MSOA) · Nuneaton and Bedworth"``."""
        parts = [self.name, KIND_LABELS[self.kind]]
        if self.kind in ("lsoa", "msoa", "ward") and self.code != self.name:
            parts[1] = f"{parts[1]} {self.code}"
        if self.context and self.context != self.name:
            parts.append(self.context)
        return " · ".join(parts)


@dataclass(frozen=True)
class Match:
    """A place found by a query, with how well it matched (``tier``: 0 exact .. 3 fuzzy)."""

    place: Place
    tier: int

    @property
    def how(self) -> str:
        """The tier's name (``exact``, ``prefix``, ``word``, ``fuzzy``)."""
        return TIERS[self.tier]


def lsoa_boxes(features: Mapping[str, str]) -> dict[str, tuple[float, float, float, float]]:
    """Each LSOA's ``(south, west, north, east)`` from its GeoJSON feature text.

    ``features`` maps an LSOA code to one feature's JSON (``profiler.geometry.split_features``
    of the web geometry); coordinates are read as ``[lon,lat]`` pairs after ``"coordinates"``.
    """
    out = {}
    for code, text in features.items():
        at = text.find('"coordinates"')
        pairs = _COORD_RE.findall(text, at if at >= 0 else 0)
        if not pairs:
            continue
        xy = np.asarray(pairs, dtype=float)
        out[code] = (float(xy[:, 1].min()), float(xy[:, 0].min()), float(xy[:, 1].max()),
                     float(xy[:, 0].max()))
    return out


def _union(boxes: Iterable[tuple[float, float, float, float]]):
    boxes = list(boxes)
    if not boxes:
        return None
    return (round(min(b[0] for b in boxes), 6), round(min(b[1] for b in boxes), 6),
            round(max(b[2] for b in boxes), 6), round(max(b[3] for b in boxes), 6))


def town_part(name: str) -> str | None:
    """Return the place an HCL MSOA name is in (``"Kenilworth East"`` -> ``"Kenilworth"``).

    The first word of the name's first part (before ``,`` or ``&``), two words when the first
    only qualifies the next (``"New Bilton"``); None when the name starts with a qualifier
    (``"Town East"``) or is only the place itself.
    """
    first = re.split(r",| & | and ", str(name))[0].strip()
    words = first.split()
    if len(words) < 2:
        return None
    n = 1
    if words[0].casefold().rstrip(".") in _PREFIXES:
        if len(words) < 3:
            return None
        n = 2
    elif words[0].casefold() in _QUALIFIERS:
        return None
    place = " ".join(words[:n])
    return place if normalise(place) not in _QUALIFIERS else None


def _is_centre(name: str, town: str) -> bool:
    rest = normalise(name)[len(normalise(town)):].strip()
    return any(rest == normalise(c) or rest.startswith(normalise(c) + " ") for c in _CENTRES)


class PlaceIndex:
    """Places found by name or code, ranked (see the module docstring).

    Build it with :meth:`from_table` (or :meth:`load` from a data folder); it is read-only
    afterwards and safe to share between threads.

    Parameters
    ----------
    places : iterable of Place
    """

    def __init__(self, places: Iterable[Place]) -> None:
        self.places_: list[Place] = sorted(
            places, key=lambda p: (_KIND_ORDER[p.kind], normalise(p.name), p.code))
        self._by_key = {p.key: p for p in self.places_}
        # places are visited in index order, so each list below is sorted as it is built
        exact: dict[str, list[int]] = defaultdict(list)
        tokens: dict[str, list[int]] = defaultdict(list)
        fuzzy: dict[str, list[int]] = defaultdict(list)

        def put(table: dict[str, list[int]], key: str, i: int) -> None:
            at = table[key]
            if not at or at[-1] != i:
                at.append(i)

        for i, p in enumerate(self.places_):
            for text in (p.name, *p.aliases):
                norm = normalise(text)
                if not norm:
                    continue
                put(exact, norm, i)
                put(exact, norm.replace(" ", ""), i)
                for word in norm.split():
                    put(tokens, word, i)
                if p.kind not in ("lsoa", "postcode") and not any(ch.isdigit() for ch in norm):
                    put(fuzzy, norm, i)
            put(exact, compact(p.code), i)
        self._exact = dict(exact)
        self._keys = sorted(self._exact)
        self._tokens = dict(tokens)
        self._token_keys = sorted(self._tokens)
        self._fuzzy = dict(fuzzy)
        self._fuzzy_keys = sorted(self._fuzzy)

    def __len__(self) -> int:
        return len(self.places_)

    def counts(self) -> dict[str, int]:
        """Places per kind, in :data:`KINDS` order."""
        out = dict.fromkeys(KINDS, 0)
        for p in self.places_:
            out[p.kind] += 1
        return out

    def get(self, key: str) -> Place | None:
        """Return the place with this ``kind:code`` key, or None."""
        return self._by_key.get(key) if isinstance(key, str) else None

    def _prefixed(self, keys: list[str], prefix: str) -> Iterable[str]:
        at = bisect.bisect_left(keys, prefix)
        while at < len(keys) and keys[at].startswith(prefix):
            yield keys[at]
            at += 1

    def search(self, query: str, limit: int = 10, prefer: Collection[str] | None = None,
               ) -> list[Match]:
        """Places matching ``query``, best first, at most ``limit``.

        Exact (the whole name, an alias, a code or a postcode in any spacing) ranks first,
        then names or codes starting with the query, then names whose words start with each
        query word; close spellings (difflib ratio at least :data:`FUZZY_CUTOFF`) only when
        no name is or starts with the query. Within a tier, places with an LSOA in ``prefer``
        (the LSOAs a page's map shows) come first.
        """
        q = normalise(query)[:100]
        if not q or limit <= 0:
            return []
        qc = q.replace(" ", "")
        tier: dict[int, int] = {}

        def add(indexes: Iterable[int], level: int) -> None:
            for i in indexes:
                if tier.get(i, 9) > level:
                    tier[i] = level

        add(self._exact.get(q, ()), 0)
        add(self._exact.get(qc, ()), 0)
        for prefix in {q, qc} if len(qc) >= 2 or not qc.isdigit() else {q}:
            for key in self._prefixed(self._keys, prefix):
                add(self._exact[key], 1)
                if sum(1 for v in tier.values() if v <= 1) > 50 * limit:
                    break
        words = q.split()
        found: frozenset[int] | None = None
        for word in words:
            hits: set[int] = set()
            for key in self._prefixed(self._token_keys, word):
                hits.update(self._tokens[key])
            found = frozenset(hits) if found is None else found & hits
            if not found:
                break
        add(found or (), 2)
        similar: dict[int, float] = {}
        if not any(v <= 1 for v in tier.values()) and len(tier) < limit and len(q) >= 3:
            close = difflib.get_close_matches(q, self._fuzzy_keys, n=limit, cutoff=FUZZY_CUTOFF)
            for key in close:
                ratio = difflib.SequenceMatcher(None, q, key).ratio()
                for i in self._fuzzy[key]:
                    similar.setdefault(i, ratio)
                add(self._fuzzy[key], 3)
        # fuzzy matches: the closest spelling first
        if prefer is not None and not isinstance(prefer, set | frozenset):
            prefer = set(prefer)

        def away(i: int) -> bool:
            return prefer is not None and not any(c in prefer for c in self.places_[i].lsoas)

        ranked = sorted(tier.items(), key=lambda item: (
            item[1], away(item[0]),
            -round(similar.get(item[0], 1.0), 2) if item[1] == 3 else 0,
            _KIND_ORDER[self.places_[item[0]].kind], len(self.places_[item[0]].name), item[0]))
        return [Match(self.places_[i], t) for i, t in ranked[:limit]]

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        boxes: Mapping[str, tuple[float, float, float, float]],
        lsoas: Iterable[str] | None = None,
        postcodes: pd.DataFrame | None = None,
    ) -> PlaceIndex:
        """Build the index from an indicator table and LSOA boxes.

        Parameters
        ----------
        table : DataFrame
            One row per 2021 LSOA with the identity columns of ``lsoa21_indicators.csv``
            (``lsoa21_code``, ``lsoa21_name``, ``msoa21_code``, ``msoa21_name``,
            ``msoa21_hcl_name``, ``ward24_code``, ``ward24_name``, ``lad24_code``,
            ``lad24_name``).
        boxes : mapping
            LSOA code to ``(south, west, north, east)`` (:func:`lsoa_boxes`); LSOAs without a
            box are left out.
        lsoas : iterable of str, optional
            The LSOAs offered (a deployment's areas); None: every LSOA of the table.
        postcodes : DataFrame, optional
            :data:`POSTCODE_COLUMNS` (:func:`load_postcodes`); kept where the LSOA is offered.

        Raises
        ------
        ProfilerError
            If a column is missing.
        """
        missing = [c for c in _TABLE_COLUMNS if c not in table.columns]
        if missing:
            raise ProfilerError(
                f"place index: the indicator table has no {', '.join(missing)} column(s); use "
                "the table `python -m profiler build` writes"
            )
        rows = table[list(_TABLE_COLUMNS)].astype(str)
        if lsoas is not None:
            rows = rows[rows["lsoa21_code"].isin(set(lsoas))]
        rows = rows[rows["lsoa21_code"].isin(boxes.keys())].sort_values("lsoa21_code")
        places: list[Place] = []
        records = list(rows.astype(object).itertuples(index=False))
        for kind, code_at, name_at, alias_at in (("district", 7, 8, None), ("ward", 5, 6, None),
                                                 ("msoa", 2, 4, 3)):
            groups: dict[str, list] = defaultdict(list)
            for r in records:
                groups[r[code_at]].append(r)
            for code in sorted(groups):
                group = groups[code]
                codes = tuple(r[0] for r in group)
                lads = ", ".join(dict.fromkeys(r[8] for r in group))
                aliases = tuple(dict.fromkeys(r[alias_at] for r in group)) if alias_at else ()
                places.append(Place(kind, code, group[0][name_at], codes,
                                    _union(boxes[c] for c in codes), lads, aliases))
        for r in records:
            places.append(Place("lsoa", r.lsoa21_code, r.lsoa21_name, (r.lsoa21_code,),
                                boxes[r.lsoa21_code], f"{r.msoa21_hcl_name}, {r.lad24_name}"))
        places.extend(_towns(rows, boxes))
        if postcodes is not None and len(postcodes):
            places.extend(_postcode_places(postcodes, rows, boxes))
        return cls(places)

    @classmethod
    def load(
        cls,
        data_dir: str | Path = "data",
        table: pd.DataFrame | None = None,
        features: Mapping[str, str] | None = None,
        lsoas: Iterable[str] | None = None,
    ) -> PlaceIndex:
        """Build the index from the data folder (postcodes too, if imported).

        ``table`` (the loaded indicator table) and ``features`` (the web geometry split by
        :func:`profiler.geometry.split_features`) are read from ``data_dir`` when not given.
        """
        data_dir = Path(data_dir)
        if table is None:
            path = data_dir / "indicators" / "lsoa21_indicators.csv"
            if not path.exists():
                raise ProfilerError(f"{path}: indicator table not found; run "
                                    "`python -m profiler build`")
            table = pd.read_csv(path, dtype=str, usecols=list(_TABLE_COLUMNS))
        if features is None:
            from profiler.geometry import split_features

            path = data_dir / "boundaries" / "england_lsoa21_web.geojson.gz"
            if not path.exists():
                raise ProfilerError(f"{path}: missing; run 'python scripts/build_web_geometry.py'")
            features = split_features(path.read_bytes())
        if lsoas is not None:
            lsoas = set(lsoas)
            features = {c: t for c, t in features.items() if c in lsoas}
        postcodes = load_postcodes(data_dir)
        return cls.from_table(table, lsoa_boxes(features), lsoas, postcodes)


def _towns(rows: pd.DataFrame, boxes) -> list[Place]:
    """Towns from the HCL MSOA names (see :func:`town_part`), one per district and name."""
    lsoas_of: dict[str, list[str]] = defaultdict(list)
    for lsoa, msoa in zip(rows["lsoa21_code"], rows["msoa21_code"], strict=True):
        lsoas_of[msoa].append(lsoa)
    msoas = rows.drop_duplicates("msoa21_code")
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    centre: set[tuple[str, str]] = set()
    for code, name, lad in zip(msoas["msoa21_code"], msoas["msoa21_hcl_name"],
                               msoas["lad24_code"], strict=True):
        town = town_part(name)
        if town:
            members[lad, town].append(code)
            if _is_centre(name, town):
                centre.add((lad, town))
    msoa_names = {normalise(n) for n in msoas["msoa21_hcl_name"]}
    lad_names = dict(zip(rows["lad24_code"], rows["lad24_name"], strict=False))
    out = []
    for (lad, town), codes in sorted(members.items()):
        if len(codes) < 2 and (lad, town) not in centre:
            continue
        if normalise(town) in msoa_names:  # an MSOA of that very name already finds it
            continue
        lsoas = tuple(sorted(c for m in codes for c in lsoas_of[m]))
        slug = "-".join(normalise(town).split())
        out.append(Place("town", f"town:{lad}:{slug}", town, lsoas,
                         _union(boxes[c] for c in lsoas), lad_names[lad]))
    return out


def _postcode_places(postcodes: pd.DataFrame, rows: pd.DataFrame, boxes) -> list[Place]:
    known = dict(zip(rows["lsoa21_code"], rows["lad24_name"], strict=True))
    names = dict(zip(rows["lsoa21_code"], rows["lsoa21_name"], strict=True))
    out = []
    for pc, lsoa, lat, lon in postcodes[list(POSTCODE_COLUMNS)].itertuples(index=False):
        if lsoa not in known:
            continue
        lat, lon = float(lat), float(lon)
        s, w, n, e = boxes[lsoa]
        box = (min(s, lat - POSTCODE_BOX), min(w, lon - POSTCODE_BOX),
               max(n, lat + POSTCODE_BOX), max(e, lon + POSTCODE_BOX))
        out.append(Place("postcode", pc, pc, (lsoa,), box, f"in {names[lsoa]}, {known[lsoa]}",
                         point=(lat, lon)))
    return out


# -- the ONS Postcode Directory --------------------------------------------------------------

# ONSPD column names by what they hold: the classic layout (pcd, pcds, lsoa21, lat, long,
# doterm) and the 2025 one (pcd7/pcd8, lsoa21cd); upper or lower case.
ONSPD_COLUMNS = {
    "postcode": ("pcds", "pcd", "pcd2", "pcd7", "pcd8"),
    "lsoa21_code": ("lsoa21", "lsoa21cd"),
    "lat": ("lat",),
    "lon": ("long", "lon"),
    "doterm": ("doterm",),
}
ONSPD_HELP = ("use the ONS Postcode Directory's main CSV (Data/ONSPD_<MMM>_<YYYY>_UK.csv, "
              "with columns pcds, doterm, lsoa21, lat, long)")


@dataclass(frozen=True)
class PostcodeImport:
    """What :func:`import_onspd` read and kept."""

    source: str
    rows: int
    live: int
    kept: int
    terminated: int
    outside: int
    no_location: int
    path: Path | None = None

    def summary(self) -> str:
        """One line for the command line."""
        return (f"{self.source}: {self.rows:,} postcodes read, {self.kept:,} live postcodes kept "
                f"in the offered areas ({self.terminated:,} terminated, {self.outside:,} outside "
                f"them, {self.no_location:,} without an LSOA or location dropped)"
                + (f" -> {self.path}" if self.path else ""))


def _open_onspd(path: Path):
    """Open the ONSPD CSV as text: a .csv, .csv.gz or the ONSPD zip (its largest ONSPD csv)."""
    name = path.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist()
                       if i.filename.lower().endswith(".csv") and "onspd" in i.filename.lower()
                       and "/multi_csv/" not in i.filename.lower()]
            if not members:
                raise ProfilerError(f"{path}: no ONSPD_*.csv in the zip; {ONSPD_HELP}")
            member = max(members, key=lambda i: i.file_size)
            return io.TextIOWrapper(zf.open(member), encoding="utf-8-sig", newline="")
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller


def _onspd_columns(path: Path, header: list[str]) -> dict[str, str]:
    lower = {h.strip().lower(): h for h in header}
    out = {}
    for what, names in ONSPD_COLUMNS.items():
        found = next((lower[n] for n in names if n in lower), None)
        if found is None:
            shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
            raise ProfilerError(
                f"{path}: no {'/'.join(names)} column (header: {shown}); {ONSPD_HELP}")
        out[what] = found
    return out


def read_onspd(path: str | Path, lsoas: Iterable[str], chunk: int = 200_000):
    """Live postcodes of the ONSPD at ``path`` whose 2021 LSOA is one of ``lsoas``.

    Returns ``(frame, counts)``: :data:`POSTCODE_COLUMNS` sorted by postcode, and a
    :class:`PostcodeImport` of what was read.

    Raises
    ------
    ProfilerError
        Naming the file, the column, the first bad values and the fix: a missing column, an
        LSOA code that is not a 2021 code, a postcode or a coordinate that cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise ProfilerError(f"{path}: file not found; {ONSPD_HELP}")
    keep = set(lsoas)
    if not keep:
        raise ProfilerError(f"{path}: no LSOAs to keep postcodes for; give --area")
    try:
        stream = _open_onspd(path)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ProfilerError(f"{path}: cannot be read ({exc}); {ONSPD_HELP}") from None
    parts = []
    rows = live = terminated = outside = no_location = 0
    with stream:
        header = next(csv.reader([stream.readline()]), [])
        cols = _onspd_columns(path, header)
        reader = pd.read_csv(stream, names=header, header=None, dtype=str,
                             usecols=list(cols.values()), chunksize=chunk,
                             keep_default_na=False)
        try:
            for frame in reader:
                frame = frame.rename(columns={v: k for k, v in cols.items()})
                rows += len(frame)
                for column in frame.columns:
                    frame[column] = frame[column].str.strip()
                dead = frame["doterm"] != ""
                terminated += int(dead.sum())
                frame = frame[~dead]
                live += len(frame)
                lsoa = frame["lsoa21_code"]
                blank = lsoa == ""
                bad = frame[~blank & ~lsoa.str.match(r"^[EWSN]\d{8}$")]
                if len(bad):
                    raise ProfilerError(
                        f"{path}: column {cols['lsoa21_code']}: {len(bad):,} values are not "
                        f"LSOA codes (first: {', '.join(map(repr, bad['lsoa21_code'][:3]))}); "
                        f"{ONSPD_HELP}"
                    )
                english = lsoa.str.match(LSOA21_RE.pattern)
                frame = frame[~blank]
                mine = frame[frame["lsoa21_code"].isin(keep)]
                outside += int((~blank & (~english | ~lsoa.isin(keep))).sum())
                lat = pd.to_numeric(mine["lat"], errors="coerce")
                lon = pd.to_numeric(mine["lon"], errors="coerce")
                # ONSPD gives 99.999999, 0.000000 to a postcode with no grid reference
                placed = lat.between(49.0, 61.0) & lon.between(-8.7, 2.0)
                unreadable = mine[lat.isna() & (mine["lat"] != "")]
                if len(unreadable):
                    raise ProfilerError(
                        f"{path}: column {cols['lat']}: values that are not numbers (first: "
                        f"{', '.join(map(repr, unreadable['lat'][:3]))}); {ONSPD_HELP}")
                no_location += int((~placed).sum()) + int(blank.sum())
                mine = mine[placed].assign(lat=lat[placed].round(5), lon=lon[placed].round(5))
                pcs = mine["postcode"].map(format_postcode)
                if pcs.isna().any():
                    first = mine.loc[pcs.isna(), "postcode"][:3]
                    raise ProfilerError(
                        f"{path}: column {cols['postcode']}: values that are not postcodes "
                        f"(first: {', '.join(map(repr, first))}); {ONSPD_HELP}")
                parts.append(mine.assign(postcode=pcs)[list(POSTCODE_COLUMNS)])
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
            raise ProfilerError(f"{path}: not a readable CSV ({str(exc)[:120]}); "
                                f"{ONSPD_HELP}") from None
    frame = (pd.concat(parts, ignore_index=True) if parts
             else pd.DataFrame(columns=list(POSTCODE_COLUMNS)))
    frame = frame.drop_duplicates("postcode").sort_values("postcode", ignore_index=True)
    counts = PostcodeImport(str(path), rows, live, len(frame), terminated, outside, no_location)
    return frame, counts


def write_postcodes(frame: pd.DataFrame, path: Path) -> None:
    """Write the compact postcode file (gzip level 9, mtime 0, so equal inputs give equal bytes)."""
    text = frame[list(POSTCODE_COLUMNS)].to_csv(index=False, lineterminator="\n",
                                                float_format="%.5f")
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def import_onspd(path: str | Path, data_dir: str | Path, lsoas: Iterable[str],
                 out: Path | None = None) -> PostcodeImport:
    """Read the ONSPD and write the offered areas' live postcodes to ``DATA/postcodes/``."""
    frame, counts = read_onspd(path, lsoas)
    target = Path(out) if out else Path(data_dir) / POSTCODES_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    write_postcodes(frame, tmp)
    tmp.replace(target)
    return PostcodeImport(counts.source, counts.rows, counts.live, counts.kept,
                          counts.terminated, counts.outside, counts.no_location, target)


def load_postcodes(data_dir: str | Path) -> pd.DataFrame | None:
    """Read the imported postcodes (:data:`POSTCODE_COLUMNS`); None when none were imported."""
    path = Path(data_dir) / POSTCODES_FILE
    if not path.exists():
        return None
    try:
        frame = pd.read_csv(path, dtype={"postcode": str, "lsoa21_code": str})
    except (OSError, ValueError, EOFError) as exc:
        raise ProfilerError(f"{path}: cannot be read ({str(exc)[:80]}); import the ONS Postcode "
                            "Directory again: python -m profiler postcodes import FILE") from None
    missing = [c for c in POSTCODE_COLUMNS if c not in frame.columns]
    if missing:
        raise ProfilerError(f"{path}: no {', '.join(missing)} column(s); import the ONS "
                            "Postcode Directory again: python -m profiler postcodes import FILE")
    return frame
