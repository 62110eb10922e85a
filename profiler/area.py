"""The home area: any English county, police force area, partnership, district or district list.

A :class:`HomeArea` is a frozen value: its canonical code (the key used in URLs), name, level,
sorted 2021 LSOA codes, districts, sub-areas (its districts, or its wards when it is one
district), and the police force areas and upper-tier authorities covering it. An
:class:`AreaCatalogue` is built once from the indicator table (each LSOA's ward, district and
upper-tier authority) and the shipped district to CSP to police force area lookup, and turns
what a person types (``"Worcestershire"``, ``"West Mercia"``, ``"E08000025+E08000026"``) into a
:class:`HomeArea` with :meth:`AreaCatalogue.resolve`.

One area, one code: an area is its set of LSOAs, and when several ONS codes name the same set
the first of upper-tier authority (UTLA), district (LAD), community safety partnership (CSP)
and police force area (PFA) gives its code and level. So Coventry (UTLA and LAD E08000026) and
Coventry CSP are one area, ``county`` level, code E08000026; Norfolk's police force area
(E23000024) is Norfolk county (E10000020). Names are resolved in the same order:
"Leicestershire" is the county; its police force area (with Leicester and Rutland) is
``E23000021``, ``"Leicestershire Police"`` or ``"force:Leicestershire"``.

A county's LSOAs are the LSOAs the table gives that upper-tier code (the rows its ``county``
reference is fitted on), so an area and its county reference always agree; a partnership,
force area or district list is the union of its districts' LSOAs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.codes import CSP_RE, LAD_RE, PFA_RE, UTLA_RE
from profiler.errors import ProfilerError

LEVELS = ("county", "district", "csp", "force", "districts")
"""Area levels, in the order names and codes are resolved (``districts`` is a list)."""
LEVEL_LABELS = {
    "county": "county or unitary authority",
    "district": "district",
    "csp": "community safety partnership",
    "force": "police force area",
    "districts": "list of districts",
}
LOOKUP_FILE = Path("sources") / "lad24_csp24_pfa24_ew.csv.gz"
TABLE_FILE = Path("indicators") / "lsoa21_indicators.csv"
_TABLE_COLUMNS = ("lsoa21_code", "lad24_code", "lad24_name", "utla_code", "utla_name",
                  "ward24_code", "ward24_name")
_LOOKUP_COLUMNS = ("ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code",
                   "pfa24_name")
_QUALIFIERS = {"county": "county", "utla": "county", "unitary": "county", "district": "district",
               "lad": "district", "csp": "csp", "partnership": "csp", "force": "force",
               "pfa": "force", "police": "force"}
DEFAULT_AREA = "E10000031"  # Warwickshire
"""The home area when none is set (``SVRP_AREA``, ``--area``): the one place naming it."""
AREA_FILES = {
    "hotspots": "indicators/hotspots_{slug}.csv",
    "stability": "indicators/stability_{slug}.csv",
    "change": "indicators/change_{slug}.csv",
    "lsoa21": "boundaries/{slug}_lsoa21.gpkg",
    "districts": "boundaries/{slug}_districts.gpkg",
    "wards": "boundaries/{slug}_wards25.gpkg",
    "synthetic": "partner/synthetic_incidents_{slug}.csv",
}
"""Files an area may have under the data folder, named by its :attr:`HomeArea.slug`: its derived
tables (shipped, or written by ``python -m profiler <kind>``), detailed boundaries and SYNTHETIC
example extract. ``data/PROVENANCE.md`` says which areas' are shipped."""
_PRIORITY = {level: n for n, level in enumerate(LEVELS)}
_NOT_FOUND = "no English county, force area, partnership or district of that name or code"
_SPACE_RE = re.compile(r"\s+")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SubArea:
    """A drill-down of a home area: one of its districts, or one of its wards.

    Attributes
    ----------
    code : str
        LAD24 or ward24 code.
    name : str
        Its name.
    lsoa_codes : tuple of str
        Sorted 2021 LSOA codes of the home area in this sub-area.
    """

    code: str
    name: str
    lsoa_codes: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class HomeArea:
    """An area a partnership calls home, with its LSOAs and sub-areas.

    Attributes
    ----------
    code : str
        Canonical key (used in URLs): the ONS code of an upper-tier authority (``county``), a
        district (``district``), a community safety partnership (``csp``, E22), a police force
        area (``force``, E23), or for a list of districts the sorted LAD codes joined by ``+``.
    name : str
        Human name ("Worcestershire", "Birmingham and Coventry").
    level : {"county", "district", "csp", "force", "districts"}
        What kind of area the code is (``county`` covers county councils and unitaries).
    lsoa_codes : tuple of str
        Sorted 2021 LSOA codes.
    districts : tuple of (str, str)
        ``(LAD code, name)`` of every district with an LSOA in the area, by code.
    subareas : tuple of SubArea
        The districts, or the wards when the area is one district; they partition
        ``lsoa_codes``.
    sub_level : {"district", "ward"}
        What the sub-areas are.
    forces : tuple of (str, str)
        ``(PFA code, name)`` of the police force areas covering it, by code.
    utlas : tuple of (str, str)
        ``(UTLA code, name)`` of the upper-tier authorities covering it, by code.
    """

    code: str
    name: str
    level: str
    lsoa_codes: tuple[str, ...] = field(repr=False)
    districts: tuple[tuple[str, str], ...] = field(repr=False, compare=False)
    subareas: tuple[SubArea, ...] = field(repr=False, compare=False)
    sub_level: str = field(compare=False)
    forces: tuple[tuple[str, str], ...] = field(repr=False, compare=False)
    utlas: tuple[tuple[str, str], ...] = field(repr=False, compare=False)

    def __len__(self) -> int:
        """Return the number of LSOAs."""
        return len(self.lsoa_codes)

    @property
    def lad_codes(self) -> tuple[str, ...]:
        """The district codes, sorted."""
        return tuple(code for code, _ in self.districts)

    @property
    def unitary(self) -> bool:
        """Whether the area is one district that is also its own upper-tier authority."""
        return self.level == "county" and len(self.districts) == 1

    @property
    def slug(self) -> str:
        """Lower-case name with hyphens, for file names (``north-worcestershire``)."""
        return _SLUG_RE.sub("-", self.name.lower()).strip("-") or self.code.lower()

    def data_file(self, kind: str) -> Path:
        """Path of one of the area's files under the data folder (see :data:`AREA_FILES`)."""
        return Path(AREA_FILES[kind].format(slug=self.slug))

    @property
    def label(self) -> str:
        """``"Name (code)"``, as error messages and captions show an area."""
        return f"{self.name} ({self.code})"

    def has_subarea(self, code: str) -> bool:
        """Whether ``code`` is one of the sub-areas' codes."""
        return any(sub.code == code for sub in self.subareas)

    def subarea(self, code: str) -> SubArea:
        """Return the sub-area with this code (or name).

        Raises
        ------
        ProfilerError
            Naming the code, the area and up to 3 close sub-area codes or names.
        """
        key = str(code).strip()
        for sub in self.subareas:
            if sub.code == key.upper() or sub.name.casefold() == key.casefold():
                return sub
        names = {sub.name.casefold(): sub for sub in self.subareas}
        codes = {sub.code: sub for sub in self.subareas}
        close = [names[m] for m in difflib.get_close_matches(key.casefold(), names, n=3)]
        close += [codes[m] for m in difflib.get_close_matches(key.upper(), codes, n=3)]
        hint = _did_you_mean([f"{s.name} ({s.code})" for s in dict.fromkeys(close)][:3])
        raise ProfilerError(
            f"{self.sub_level} {key[:40]!r}: not a {self.sub_level} of {self.label}{hint}"
        )


@dataclass(frozen=True)
class _Entry:
    level: str
    code: str
    name: str
    lads: tuple[int, ...]  # district indexes (for csp, force, districts)


class AreaCatalogue:
    """Every English area the tables know, resolved from a code or a name.

    Build it once with :meth:`from_frames` (a loaded indicator table and the lookup) or
    :meth:`load` (from the data folder); it is read-only afterwards, and areas are built on
    first use and kept.

    Parameters
    ----------
    table : DataFrame
        One row per 2021 LSOA with ``lsoa21_code``, ``lad24_code``, ``lad24_name``,
        ``utla_code``, ``utla_name``, ``ward24_code``, ``ward24_name``.
    lookup : DataFrame
        ``ltla24_code``, ``ltla24_name``, ``csp24_code``, ``csp24_name``, ``pfa24_code``,
        ``pfa24_name``, one row per district (rows outside England are ignored).
    """

    def __init__(self, table: pd.DataFrame, lookup: pd.DataFrame) -> None:
        missing = [c for c in _TABLE_COLUMNS if c not in table.columns]
        if missing:
            raise ProfilerError(
                f"area catalogue: the indicator table has no {', '.join(missing)} column(s); "
                "use the table `python -m profiler build` writes"
            )
        missing = [c for c in _LOOKUP_COLUMNS if c not in lookup.columns]
        if missing:
            raise ProfilerError(
                f"area catalogue: the district lookup has no {', '.join(missing)} column(s); "
                f"use {LOOKUP_FILE}"
            )
        codes = table["lsoa21_code"].to_numpy(dtype=object)
        order = np.argsort(codes, kind="stable")
        self._codes = codes[order]
        rows = table.iloc[order]

        def factor(code_col: str, name_col: str) -> tuple[np.ndarray, list[str], list[str]]:
            index, uniques = pd.factorize(rows[code_col].astype(str).to_numpy(), sort=True)
            names = (pd.Series(rows[name_col].astype(str).to_numpy()).groupby(index).first())
            return index, list(uniques), names.tolist()

        self._lad, self._lad_codes, self._lad_names = factor("lad24_code", "lad24_name")
        self._utla, self._utla_codes, self._utla_names = factor("utla_code", "utla_name")
        self._ward, self._ward_codes, self._ward_names = factor("ward24_code", "ward24_name")
        self._lad_rows = _groups(self._lad, len(self._lad_codes))
        self._utla_rows = _groups(self._utla, len(self._utla_codes))
        lad_index = {code: n for n, code in enumerate(self._lad_codes)}

        england = lookup[lookup["ltla24_code"].astype(str).str.startswith("E")]
        england = england[england["ltla24_code"].isin(lad_index)]
        self._lad_forces: dict[int, tuple[str, str]] = {}
        groups: dict[str, dict[str, tuple[str, list[int]]]] = {"csp": {}, "force": {}}
        for lad, csp, csp_name, pfa, pfa_name in england[
            ["ltla24_code", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"]
        ].itertuples(index=False):
            n = lad_index[lad]
            self._lad_forces[n] = (pfa, pfa_name)
            groups["csp"].setdefault(csp, (csp_name, []))[1].append(n)
            groups["force"].setdefault(pfa, (pfa_name, []))[1].append(n)

        self._entries: dict[tuple[str, str], _Entry] = {}
        for n, (code, name) in enumerate(zip(self._utla_codes, self._utla_names, strict=True)):
            self._entries["county", code] = _Entry("county", code, name, (n,))
        for n, (code, name) in enumerate(zip(self._lad_codes, self._lad_names, strict=True)):
            self._entries["district", code] = _Entry("district", code, name, (n,))
        for level in ("csp", "force"):
            for code, (name, lads) in sorted(groups[level].items()):
                self._entries[level, code] = _Entry(level, code, name, tuple(sorted(lads)))

        # Canonical area of each LSOA set: the first level (county, district, csp, force) to
        # claim it.
        self._canonical: dict[bytes, tuple[str, str]] = {}
        for n, code in enumerate(self._utla_codes):
            self._canonical.setdefault(self._utla_rows[n].tobytes(), ("county", code))
        for n, code in enumerate(self._lad_codes):
            self._canonical.setdefault(self._lad_rows[n].tobytes(), ("district", code))
        for level in ("csp", "force"):  # then a partnership, then a force area
            for (lvl, code), entry in self._entries.items():
                if lvl == level:
                    self._canonical.setdefault(self._positions(entry).tobytes(), (lvl, code))

        self._by_code: dict[str, list[tuple[str, str]]] = {}
        self._by_name: dict[str, list[tuple[str, str]]] = {}
        for (level, code), entry in self._entries.items():
            self._by_code.setdefault(code, []).append((level, code))
            for alias in _aliases(entry.name, level):
                targets = self._by_name.setdefault(alias, [])
                if (level, code) not in targets:
                    targets.append((level, code))
        for targets in (*self._by_code.values(), *self._by_name.values()):
            targets.sort(key=lambda t: _PRIORITY[t[0]])
        self._areas: dict[tuple[str, str], HomeArea] = {}

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_frames(cls, table: pd.DataFrame, lookup: pd.DataFrame) -> AreaCatalogue:
        """Build the catalogue from a loaded indicator table and the district lookup."""
        return cls(table, lookup)

    @classmethod
    def load(cls, data_dir: str | Path = "data", table: pd.DataFrame | None = None
             ) -> AreaCatalogue:
        """Build the catalogue from the data folder.

        Parameters
        ----------
        data_dir : str or Path
            Folder holding ``sources/lad24_csp24_pfa24_ew.csv.gz`` and (unless ``table`` is
            given) ``indicators/lsoa21_indicators.csv``.
        table : DataFrame, optional
            An indicator table already loaded (see :func:`profiler.table.load_indicator_table`).

        Returns
        -------
        AreaCatalogue

        Raises
        ------
        ProfilerError
            If a file is missing.
        """
        data_dir = Path(data_dir)
        path = data_dir / LOOKUP_FILE
        if not path.exists():
            raise ProfilerError(f"{path}: district lookup not found; restore it from the repo")
        lookup = pd.read_csv(path, dtype=str, usecols=list(_LOOKUP_COLUMNS))
        if table is None:
            table_path = data_dir / TABLE_FILE
            if not table_path.exists():
                raise ProfilerError(
                    f"{table_path}: indicator table not found; run `python -m profiler build`"
                )
            table = pd.read_csv(table_path, dtype=str, usecols=list(_TABLE_COLUMNS))
        return cls(table, lookup)

    # -- queries ---------------------------------------------------------------------------

    def resolve(self, text: str) -> HomeArea:
        """Return the area that a code, a name or a list of districts names.

        Accepted, case-insensitively: a UTLA, LAD, CSP (E22) or PFA (E23) code; a name of any
        of them (``"Worcestershire"``, ``"West Mercia"``, ``"North Worcestershire"``); a name
        with a level prefix (``"force:Leicestershire"``; also ``county:``, ``district:``,
        ``csp:``) or a force name followed by ``Police``; or a list of districts (codes or
        names, or areas standing for their districts) separated by ``+`` or commas. A name or
        code shared by several areas resolves to the first of county (UTLA), district (LAD),
        CSP and force area; a set of LSOAs that several codes name is one area (see the module
        docstring).

        Parameters
        ----------
        text : str
            What was given.

        Returns
        -------
        HomeArea

        Raises
        ------
        ProfilerError
            One line naming what was given and up to 3 close matches with their codes.
        """
        raw = str(text).strip()
        if not raw:
            raise ProfilerError("area '': give a county, force area, partnership or district "
                                "name or code, e.g. {} or {}".format(*self._example()))
        single = self._single(raw)
        if single is not None:
            return self._area(*single)
        parts = [p.strip() for p in re.split(r"[+,]", raw)]
        if len(parts) > 1:
            areas = self._list(raw, parts)
            lads = sorted({n for a in areas for n in self._entry_lads(a)})
            return self._districts_area(lads)
        raise ProfilerError(f"area {raw[:60]!r}: {_NOT_FOUND}{self._hint(raw)}")

    def resolve_many(self, text: str, what: str = "areas") -> tuple[HomeArea, ...]:
        """Several areas from a comma-separated list (a district list inside uses ``+``).

        Names that themselves hold a comma ("Herefordshire, County of") are recognised.

        Parameters
        ----------
        text : str
            Comma-separated areas.
        what : str
            How error messages name the list.

        Returns
        -------
        tuple of HomeArea
            In the order given, without repeats.
        """
        parts = [p.strip() for p in str(text).split(",") if p.strip()]
        areas = []
        for key in self._join_parts(parts, what):
            areas.append(self.resolve(key))
        return tuple(dict.fromkeys(areas))

    def search(self, text: str, limit: int = 10) -> list[HomeArea]:
        """Areas whose name or code matches ``text``, best first (for a search box).

        Exact matches come first, then names starting with the text, then names containing
        it, then close spellings.

        Parameters
        ----------
        text : str
            A fragment of a name or code.
        limit : int
            Most areas returned.

        Returns
        -------
        list of HomeArea
        """
        key = _norm(text)
        if not key:
            return []
        found: list[tuple[str, str]] = []
        exact = self._by_code.get(str(text).strip().upper(), []) + self._by_name.get(key, [])
        found += exact
        names = sorted(self._by_name)
        found += [t for n in names if n.startswith(key) for t in self._by_name[n]]
        found += [t for n in names if key in n for t in self._by_name[n]]
        found += [t for c in sorted(self._by_code) if c.lower().startswith(key)
                  for t in self._by_code[c]]
        found += [t for n in difflib.get_close_matches(key, names, n=limit)
                  for t in self._by_name[n]]
        out: list[HomeArea] = []
        for target in found:
            area = self._area(*target)
            if area not in out:
                out.append(area)
            if len(out) >= limit:
                break
        return out

    def areas(self, level: str) -> list[HomeArea]:
        """List every area of a level, by name; each area at its canonical level only.

        Parameters
        ----------
        level : {"county", "district", "csp", "force"}

        Returns
        -------
        list of HomeArea

        Raises
        ------
        ProfilerError
            On an unknown level.
        """
        if level not in LEVELS[:4]:
            raise ProfilerError(f"level {level!r}: use one of {', '.join(LEVELS[:4])}")
        out = {}
        for lvl, code in self._entries:
            if lvl == level:
                area = self._area(lvl, code)
                # A district sharing its code with a different county (West Northamptonshire's
                # LAD lacks an LSOA the table gives its UTLA) is reached as the county.
                if area.level == level and self.resolve(area.code) is area:
                    out[area.code] = area
        return sorted(out.values(), key=lambda a: (a.name, a.code))

    def geography(self, codes: Iterable[str]) -> pd.DataFrame:
        """District and upper-tier authority of LSOAs, for a table that lacks them.

        Parameters
        ----------
        codes : iterable of str
            2021 LSOA codes.

        Returns
        -------
        DataFrame
            Indexed like ``codes``: ``lad24_code``, ``lad24_name``, ``utla_code``,
            ``utla_name`` (blank for a code the catalogue does not know).
        """
        codes = pd.Index(list(codes))
        where = pd.Index(self._codes).get_indexer(codes)
        known = where >= 0
        out = {}
        for col, index, names in (("lad24_code", self._lad, self._lad_codes),
                                  ("lad24_name", self._lad, self._lad_names),
                                  ("utla_code", self._utla, self._utla_codes),
                                  ("utla_name", self._utla, self._utla_names)):
            values = np.full(len(codes), None, dtype=object)
            values[known] = np.asarray(names, dtype=object)[index[where[known]]]
            out[col] = pd.array(values, dtype="string")
        return pd.DataFrame(out, index=codes)

    def sizes(self) -> dict[str, int]:
        """Return the number of canonical areas per level."""
        return {level: len(self.areas(level)) for level in LEVELS[:4]}

    def __contains__(self, text: object) -> bool:
        """Whether ``text`` resolves to an area."""
        try:
            self.resolve(str(text))
        except ProfilerError:
            return False
        return True

    # -- internals -------------------------------------------------------------------------

    def _single(self, raw: str) -> tuple[str, str] | None:
        prefix, sep, rest = raw.partition(":")
        wanted = _QUALIFIERS.get(prefix.strip().casefold()) if sep else None
        key = rest.strip() if wanted else raw
        candidates = self._by_code.get(key.upper()) or self._by_name.get(_norm(key)) or []
        if wanted:
            candidates = [t for t in candidates if t[0] == wanted]
        return candidates[0] if candidates else None

    def _join_parts(self, parts: list[str], what: str) -> list[str]:
        """Group comma-split parts into keys, longest resolvable run first."""
        keys, i = [], 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                candidate = ", ".join(parts[i:j])
                if j == i + 1 or self._single(candidate) is not None:
                    keys.append(candidate)
                    i = j
                    break
        if not keys:
            raise ProfilerError(f"{what}: empty list; give areas separated by commas")
        return keys

    def _list(self, raw: str, parts: list[str]) -> list[_Entry]:
        entries = []
        for piece in raw.split("+"):
            for key in self._join_parts([p.strip() for p in piece.split(",")], "area"):
                if not key:
                    raise ProfilerError(
                        f"area {raw[:60]!r}: an empty item in the list; separate district "
                        "codes or names with + or commas"
                    )
                target = self._single(key)
                if target is None:
                    raise ProfilerError(
                        f"area {raw[:60]!r}: {key[:40]!r}: {_NOT_FOUND}{self._hint(key)}"
                    )
                entries.append(self._entries[target])
        return entries

    def _entry_lads(self, entry: _Entry) -> tuple[int, ...]:
        if entry.level == "county":
            return tuple(np.unique(self._lad[self._utla_rows[entry.lads[0]]]).tolist())
        return entry.lads

    def _positions(self, entry: _Entry) -> np.ndarray:
        if entry.level == "county":
            return self._utla_rows[entry.lads[0]]
        return _union([self._lad_rows[n] for n in entry.lads])

    def _area(self, level: str, code: str) -> HomeArea:
        cached = self._areas.get((level, code))
        if cached is not None:
            return cached
        entry = self._entries[level, code]
        rows = self._positions(entry)
        canonical = self._canonical.get(rows.tobytes())
        if canonical is not None and canonical != (level, code):
            area = self._area(*canonical)
        else:
            area = self._build(entry.code, entry.name, entry.level, rows)
        self._areas[level, code] = area
        return area

    def _districts_area(self, lads: list[int]) -> HomeArea:
        rows = _union([self._lad_rows[n] for n in lads])
        canonical = self._canonical.get(rows.tobytes())
        if canonical is not None:
            return self._area(*canonical)
        code = "+".join(self._lad_codes[n] for n in lads)
        key = ("districts", code)
        if key not in self._areas:
            self._areas[key] = self._build(code, _list_name(self._lad_names[n] for n in lads),
                                           "districts", rows)
        return self._areas[key]

    def _build(self, code: str, name: str, level: str, rows: np.ndarray) -> HomeArea:
        lads = np.unique(self._lad[rows])
        districts = tuple((self._lad_codes[n], self._lad_names[n]) for n in lads)
        if len(lads) == 1:
            sub_level, key = "ward", self._ward
            sub_codes, sub_names = self._ward_codes, self._ward_names
        else:
            sub_level, key = "district", self._lad
            sub_codes, sub_names = self._lad_codes, self._lad_names
        keys = key[rows]
        sort = np.argsort(keys, kind="stable")  # stable: rows stay in code order in a group
        rows_sorted, keys_sorted = rows[sort], keys[sort]
        starts = np.flatnonzero(np.diff(keys_sorted)) + 1
        subareas = tuple(
            SubArea(sub_codes[k], sub_names[k], tuple(self._codes[part].tolist()))
            for part, k in zip(np.split(rows_sorted, starts), keys_sorted[np.r_[0, starts]],
                               strict=True)
        ) if len(rows) else ()
        forces = tuple(sorted({self._lad_forces[n] for n in lads if n in self._lad_forces}))
        utlas = tuple((self._utla_codes[n], self._utla_names[n])
                      for n in np.unique(self._utla[rows]))
        return HomeArea(code=code, name=name, level=level,
                        lsoa_codes=tuple(self._codes[rows].tolist()), districts=districts,
                        subareas=subareas, sub_level=sub_level, forces=forces, utlas=utlas)

    def _hint(self, raw: str) -> str:
        key = _norm(raw)
        matches = difflib.get_close_matches(key, list(self._by_name), n=3, cutoff=0.6)
        targets = [self._by_name[m][0] for m in matches]
        if _looks_like_code(raw):
            codes = difflib.get_close_matches(raw.strip().upper(), list(self._by_code), n=3)
            targets = [self._by_code[c][0] for c in codes] + targets
        shown = []
        for target in targets:
            area = self._area(*target)
            if area.label not in shown:
                shown.append(area.label)
        if not shown:
            return "; use a name like {} or a code like {}".format(*self._example())
        return _did_you_mean(shown[:3])

    def _example(self) -> tuple[str, str]:
        """Name and code of the default area (else of the first county), for messages."""
        target = self._single(DEFAULT_AREA)
        if target is None and self._utla_codes:
            target = ("county", self._utla_codes[0])
        if target is None:
            return "Worcestershire", "E10000034"
        area = self._area(*target)
        return area.name, area.code


def _groups(index: np.ndarray, n: int) -> list[np.ndarray]:
    """Row positions of each group, ascending (rows are in LSOA code order)."""
    sort = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[sort], np.arange(n + 1))
    return [sort[bounds[k]:bounds[k + 1]] for k in range(n)]


def _union(parts: Iterable[np.ndarray]) -> np.ndarray:
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.intp)


def _norm(text: str) -> str:
    return _SPACE_RE.sub(" ", str(text).replace("&", " and ")).strip().casefold()


def _aliases(name: str, level: str) -> list[str]:
    """Normalised names an area answers to: its name, "X" for "X, City of", "X Police"."""
    base = _norm(name)
    out = [base]
    head, sep, tail = base.partition(", ")
    if sep and tail in ("city of", "county of", "county of the"):
        out += [head, f"{tail} {head}"]
    if level == "force":
        out += [f"{n} police" for n in list(out) if not n.endswith("police")]
        out += [f"{n} constabulary" for n in list(out) if not n.endswith(("police",
                                                                           "constabulary"))]
    return out


def _list_name(names: Iterable[str]) -> str:
    names = sorted(_short_name(n) for n in names)
    if len(names) > 4:
        return f"{', '.join(names[:3])} and {len(names) - 3} other districts"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _short_name(name: str) -> str:
    """``"Herefordshire"`` for ``"Herefordshire, County of"`` (ONS's sorting form)."""
    head, sep, tail = name.partition(", ")
    return head if sep and tail.casefold() in ("city of", "county of") else name


def _did_you_mean(labels: list[str]) -> str:
    if not labels:
        return ""
    shown = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    return f"; did you mean {shown}?"


def _looks_like_code(text: str) -> bool:
    key = text.strip().upper()
    return bool(re.match(r"^E\d", key)) or any(
        p.match(key) for p in (UTLA_RE, LAD_RE, CSP_RE, PFA_RE))
