"""Partner data: uploaded LSOA indicator tables and incident extracts, validated on the server.

Partners (police, council, health) hold the figures the open proxies stand in for. This module
turns an uploaded file (the bytes and the name the user gave it) into validated tables, or into
a :class:`PartnerDataError` whose one-line message names the file, the column, the first
offending rows and values, and the fix. Nothing here writes to disk or keeps state: the caller
decides where a successful load goes, and a failed load changes nothing.

Validation policy ("a clean load or nothing")
---------------------------------------------
* **Structural problems** raise :class:`PartnerDataError` at once: file too big or empty, binary
  content or an unknown encoding, no header, blank or duplicate column names, too many rows, a
  required column missing.
* **Row problems** (a value that is not a number, a date in the future, a point outside the area,
  an unknown LSOA code, a duplicate code...) are collected in a :class:`ValidationReport`. When
  the share of rejected rows exceeds ``max_reject_share`` the load raises
  :class:`PartnerDataError` with the report's first problems. The default share is ``0``: any bad
  row rejects the whole file, so a partner never works from a silently thinned extract. A caller
  may allow a small share (e.g. ``0.01``); the accepted rows are then returned and the report
  lists what was dropped.

Conversions
-----------
2011 LSOA codes are converted to 2021 codes with the ONS best-fit lookup shipped as
``data/sources/lsoa11_lsoa21_lad22_ew.csv.gz`` (change codes U unchanged, S split, M merged,
X irregular); see :class:`CodeLookup`.

Incidents are placed in 2021 LSOAs by point-in-polygon on the boundaries the caller passes
(normally the home area's LSOAs from the most detailed shipped file covering it, via
:func:`profiler.geo.load_lsoa_boundaries` or :func:`profiler.derived.area_boundaries`).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from profiler.codes import LSOA21_RE, lsoa11_shares
from profiler.errors import ProfilerError
from profiler.spec import DIRECTIONS, RESERVED_IDS, THEME_TAGS, Spec, parse_spec
from profiler.text import strip_invisible

# Largest upload: a 10 MB CSV holds ~100,000 incident rows, and reading one stays under 100 MB
# of memory (a 20 MB one took up to 115 MB: the text, its rows and the frame).
MAX_BYTES = 10_000_000
MAX_ROWS = 500_000
MAX_COLUMNS = 200
MAX_FIELD_CHARS = 1_000
MAX_PROBLEMS = 50
#: Largest absolute value accepted in an indicator table (1e308 would pass as finite and flatten
#: every band).
MAX_ABS_VALUE = 1e9
#: Excel workbooks: bounds checked on the zip directory and the sheet's XML before openpyxl reads.
MAX_XLSX_CELLS = 250_000
# Cells of a CSV upload: each parsed cell costs ~65 bytes of Python objects before the frame is
# built, so a 20 MB CSV of short cells (~5 million) took ~260 MB; a million cells stay under
# 100 MB and hold a year's incident extract of a county (100,000+ rows of 8 columns).
MAX_CSV_CELLS = 1_000_000
MAX_UNZIPPED_BYTES = 50_000_000
MAX_ZIP_MEMBERS = 1_000
MAX_READ_SECONDS = 10.0
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
LOOKUP_FILE = "lsoa11_lsoa21_lad22_ew.csv.gz"
POPULATION_FILE = "ons_mid2020_population_syoa_lsoa11.csv.gz"

LSOA_RE = LSOA21_RE  # kept for importers of profiler.partner.LSOA_RE
PARTNER_PREFIX = "partner_"
PARTNER_LICENCE = (
    "Partner data: not to be reproduced outside the partnership without permission from the "
    "owners of the data"
)
KINDS = ("count", "rate", "score")

# England's extent with a margin (Isles of Scilly to Lowestoft, Lizard to Berwick).
LAT_RANGE = (49.8, 55.9)
LON_RANGE = (-6.5, 1.8)
EASTING_RANGE = (0.0, 700_000.0)
NORTHING_RANGE = (0.0, 1_300_000.0)
EARLIEST_DATE = date(2000, 1, 1)

FLAG_TRUE = frozenset({"true", "yes", "y", "1", "t"})
FLAG_FALSE = frozenset({"false", "no", "n", "0", "f"})

#: Normalised location types and the (lower-case) values read as each. A value not listed is
#: counted as ``other`` and named in the report's notes; a blank is ``unknown``.
LOCATION_TYPES: dict[str, tuple[str, ...]] = {
    "dwelling": (
        "dwelling", "home", "house", "residential", "residence", "private dwelling",
        "domestic dwelling", "flat", "dwelling house", "private residence", "household",
    ),
    "street": (
        "street", "road", "highway", "public highway", "footpath", "pavement", "public place",
        "street/highway", "outdoor", "open space", "alley", "alleyway",
    ),
    "licensed premises": (
        "licensed premises", "licensed premise", "licensed", "pub", "public house", "bar",
        "nightclub", "night club", "club", "licensed premises (pub/club)",
    ),
    "other": ("other", "shop", "retail", "school", "park", "workplace", "hospital", "vehicle",
              "transport", "car park", "commercial"),
}

#: What counts as a **violence offence** (case-insensitive regular expressions matched anywhere
#: in the offence text). It follows the Home Office "violence against the person" classes
#: (homicide; death or serious injury by unlawful driving; violence with injury, including
#: wounding, GBH and ABH; violence without injury, including common assault and threats to
#: kill; stalking and harassment, including controlling or coercive behaviour) and the police.uk
#: category "Violence and sexual offences" (which also holds sexual offences: an extract giving
#: only police.uk categories cannot separate them). Robbery, public order and possession of
#: weapons are *not* violence here: they are separate Home Office groups.
VIOLENCE_PATTERNS: tuple[str, ...] = (
    r"violence",
    r"violent",
    r"assault",
    r"wound",
    r"\bgbh\b",
    r"\babh\b",
    r"grievous bodily harm",
    r"actual bodily harm",
    r"battery",
    r"homicide",
    r"murder",
    r"manslaughter",
    r"threats? to kill",
    r"harass",
    r"stalk",
    r"coercive",
    r"death or serious injury by (?:dangerous|unlawful|careless) driving",
    r"\bvap\b",
)
_VIOLENCE_RE = re.compile("|".join(f"(?:{p})" for p in VIOLENCE_PATTERNS), re.IGNORECASE)

THEMES = ("knife", "domestic", "public_place")
#: How each theme is counted from an incident extract.
THEME_DEFINITIONS: dict[str, str] = {
    "knife": "incidents with the knife flag set (any offence)",
    "domestic": "incidents with the domestic flag set and a violence offence",
    "public_place": "violence offences without the domestic flag whose location type is not "
                    "a dwelling (blank and other location types count as public places)",
}

_CODE_NAMES = {
    2021: ("lsoa21_code", "lsoa21cd", "lsoa_2021_code", "lsoa2021_code", "lsoa21", "lsoa_2021",
           "lsoa_code_2021", "lsoa_21_code"),
    2011: ("lsoa11_code", "lsoa11cd", "lsoa_2011_code", "lsoa2011_code", "lsoa11", "lsoa_2011",
           "lsoa_code_2011", "lsoa_11_code"),
    0: ("lsoa_code", "lsoa", "lsoacd", "lsoa_cd", "code", "area_code", "lsoa_id"),
}
_INCIDENT_NAMES = {
    "date": ("date", "incident_date", "offence_date", "crime_date", "occurrence_date",
             "occurred", "date_occurred", "committed_date", "month"),
    "latitude": ("latitude", "lat", "y_wgs84"),
    "longitude": ("longitude", "lon", "long", "lng", "x_wgs84"),
    "easting": ("easting", "eastings", "x", "x_coordinate", "grid_easting", "bng_easting"),
    "northing": ("northing", "northings", "y", "y_coordinate", "grid_northing", "bng_northing"),
    "offence": ("offence", "offence_type", "crime_type", "offence_description", "offence_group",
                "crime", "offence_category", "category", "ho_class", "offence_name"),
    "domestic": ("domestic", "domestic_flag", "is_domestic", "da_flag", "domestic_abuse"),
    "knife": ("knife", "knife_flag", "is_knife", "knife_crime", "knife_or_sharp_instrument"),
    "location_type": ("location_type", "premises_type", "location_category", "premises",
                      "place_type"),
    "source": ("source",),
}


class PartnerDataError(ProfilerError):
    """An uploaded partner file was refused; the message is one line with the fix.

    The caller keeps its previous state (profile, table, counts): nothing was changed. When the
    refusal comes from row problems, ``report`` holds the :class:`ValidationReport` (else None).
    """

    report: ValidationReport | None = None


# -- the validation report ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One row-level problem: the file row (header is row 1), the column, the value, the reason."""

    row: int
    column: str
    value: str
    reason: str
    fix: str = "fix or drop those rows"


def _show(value: Any, width: int = 30) -> str:
    text = str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return repr(text)


def _show_name(value: Any, width: int = 30) -> str:
    """Quote a column name for a message, naming its non-ASCII code points.

    A header typed with a homoglyph (Cyrillic ``о`` for ``o``) looks identical to the expected
    name: ``'lsoa21_cоde' (has non-ASCII U+043E)`` says why it did not match.
    """
    text = str(value)
    odd = list(dict.fromkeys(c for c in text if ord(c) > 127))
    if not odd:
        return _show(text, width)
    points = ", ".join(f"U+{ord(c):04X}" for c in odd[:3]) + (", ..." if len(odd) > 3 else "")
    return f"{_show(text, width)} (has non-ASCII {points})"


def _safe_name(filename: str) -> str:
    """Return the base name of an upload, without control characters, at most 80 characters."""
    name = re.split(r"[\\/]", str(filename or ""))[-1]
    # bidi overrides (RLO) and zero-width characters would make a name read differently
    name = strip_invisible(re.sub(r"[\x00-\x1f\x7f]", "", name)).strip() or "upload"
    return name if len(name) <= 80 else name[:79] + "…"


@dataclass
class ValidationReport:
    """What a load read, accepted and rejected, and why.

    Attributes
    ----------
    source : str
        The uploaded file's name (sanitised), used at the start of every message.
    rows_read : int
        Data rows in the file (blank lines excluded).
    rows_accepted : int
        Rows kept in the result.
    problems : list of Problem
        The first ``max_problems`` row problems, by row.
    problem_count : int
        All row problems found (several may concern one row).
    rejected : set of int
        File rows with at least one problem.
    notes : list of str
        Things the user should know that are not errors (encoding fallback, defaults applied,
        2011 codes converted, rows marked synthetic).
    max_problems : int
        How many problems to keep for display.
    """

    source: str
    rows_read: int = 0
    rows_accepted: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rejected: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    max_problems: int = MAX_PROBLEMS

    @property
    def rows_rejected(self) -> int:
        """Number of file rows with at least one problem."""
        return len(self.rejected)

    def add(self, row: int, column: str, value: Any, reason: str,
            fix: str = "fix or drop those rows") -> None:
        """Record one row problem."""
        self.problem_count += 1
        self.rejected.add(int(row))
        self.problems.append(Problem(int(row), column, str(value), reason, fix))
        if len(self.problems) > 4 * self.max_problems:
            self._trim()

    def add_mask(self, frame: pd.DataFrame, mask: pd.Series | np.ndarray, column: str,
                 reason: str, fix: str = "fix or drop those rows", values: pd.Series | None = None,
                 ) -> None:
        """Record a problem for every row of ``frame`` (indexed by file row) where ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        rows = frame.index.to_numpy()[mask]
        if values is None:
            values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        shown = values.to_numpy()[mask]
        self.problem_count += int(mask.sum())
        self.rejected.update(int(r) for r in rows)
        keep = min(len(rows), self.max_problems)
        for r, v in zip(rows[:keep], shown[:keep], strict=True):
            self.problems.append(Problem(int(r), column, "" if v is None else str(v), reason, fix))
        self._trim()

    def _trim(self) -> None:
        self.problems.sort(key=lambda p: p.row)
        del self.problems[self.max_problems:]

    def summary(self) -> str:
        """One line: counts, then the first problem group (up to three rows and values)."""
        head = (f"{self.source}: {self.rows_read:,} row(s) read, {self.rows_accepted:,} accepted, "
                f"{self.rows_rejected:,} rejected")
        if not self.problems:
            return head
        self._trim()
        first = self.problems[0]
        group = [p for p in self.problems
                 if p.column == first.column and p.reason == first.reason][:3]
        rows = ", ".join(str(p.row) for p in group)
        values = ", ".join(_show(p.value) for p in group)
        more = self.problem_count - len(group)
        tail = f" (and {more:,} more problem(s))" if more > 0 else ""
        word = "row" if len(group) == 1 else "rows"
        vword = "value" if len(group) == 1 else "values"
        return (f"{head}; column {first.column!r} {word} {rows}: {vword} {values}: "
                f"{first.reason}; {first.fix}{tail}")

    def lines(self, n: int = 10) -> list[str]:
        """Lines for display: the summary, the first ``n`` problems one per line, the notes."""
        self._trim()
        out = [self.summary()]
        for p in self.problems[:n]:
            out.append(f"row {p.row}, column {p.column!r}: {_show(p.value)}: {p.reason}")
        if self.problem_count > n:
            out.append(f"... {self.problem_count - min(n, len(self.problems)):,} more problem(s)")
        out.extend(f"note: {note}" for note in self.notes)
        return out

    def enforce(self, max_reject_share: float) -> None:
        """Apply the load policy: raise if more than ``max_reject_share`` of the rows failed.

        Raises
        ------
        PartnerDataError
            With :meth:`summary` as the message, prefixed by the policy.
        """
        if not self.rejected:
            return
        allowed = max_reject_share * max(self.rows_read, 1)
        if self.rows_rejected > allowed or self.rows_rejected == self.rows_read:
            policy = ("nothing was loaded (any bad row rejects the file)"
                      if max_reject_share == 0 else
                      f"nothing was loaded (more than {max_reject_share:.1%} of rows rejected)")
            exc = PartnerDataError(f"{self.summary()}; {policy}")
            exc.report = self  # for callers that list more than the first problem group
            raise exc


def _check_share(max_reject_share: float) -> float:
    ok = (isinstance(max_reject_share, int | float) and not isinstance(max_reject_share, bool)
          and math.isfinite(max_reject_share) and 0 <= max_reject_share < 1)
    if not ok:
        raise PartnerDataError(
            f"max_reject_share: got {max_reject_share!r}; use a share in [0, 1), 0 for a clean "
            "load or nothing"
        )
    return float(max_reject_share)


# -- reading an upload ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the work one upload may cost, checked before and while it is read.

    Attributes
    ----------
    max_rows : int
        Data rows (CSV or the sheet's rows).
    max_cells : int
        Cells of an Excel sheet (``<c>`` elements, counted by streaming the sheet XML).
    max_csv_cells : int
        Cells of a CSV (rows times columns, counted as it is parsed).
    max_unzipped_bytes : int
        Total decompressed size of a workbook's members, from the zip directory (a member that
        decompresses to more than the directory says fails its CRC check and is refused).
    max_seconds : float
        Time budget for reading the file into rows.
    """

    max_rows: int = MAX_ROWS
    max_cells: int = MAX_XLSX_CELLS
    max_csv_cells: int = MAX_CSV_CELLS
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES
    max_seconds: float = MAX_READ_SECONDS


class _Budget:
    """A deadline for reading one upload; :meth:`check` raises once it has passed."""

    def __init__(self, source: str, seconds: float) -> None:
        import time

        self._clock = time.monotonic
        self.source, self.seconds = source, seconds
        self.deadline = self._clock() + seconds

    def check(self) -> None:
        if self._clock() > self.deadline:
            raise PartnerDataError(
                f"{self.source}: reading the file took longer than {self.seconds:g} s; save it "
                "as CSV UTF-8, or split it")


def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _decode(content: bytes, source: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    utf16 = _utf16_encoding(content)
    if utf16 is not None:
        # Excel's "Unicode text" is UTF-16 (tab-separated): decode it rather than refuse it.
        try:
            text = content.decode(utf16).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise PartnerDataError(
                f"{source}: UTF-16 text that cannot be decoded (bytes {exc.start} to {exc.end}); "
                "save the file again, as CSV UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)')"
            ) from None
        notes.append("the file is UTF-16 (Excel 'Unicode text'); it was decoded as UTF-16")
        return _check_controls(text, source), notes
    if b"\x00" in content[:1_000_000] or b"\x00" in content[-1000:]:
        raise PartnerDataError(
            f"{source}: binary content (NUL bytes), not a text CSV; save the file as CSV (UTF-8) "
            "or Excel .xlsx"
        )
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise PartnerDataError(
                f"{source}: not readable text (byte 0x{content[exc.start]:02x} at position "
                f"{exc.start} is neither UTF-8 nor Windows-1252); save the file as CSV UTF-8"
            ) from None
        notes.append("the file is not UTF-8; it was read as Windows-1252 (check accented "
                     "names, and save as CSV UTF-8 next time)")
    return _check_controls(text, source), notes


def _utf16_encoding(content: bytes) -> str | None:
    """Name the UTF-16 codec of ``content`` (by byte-order mark or NUL pattern), else None."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = content[:4000]
    if len(head) >= 4:
        even, odd = head[0::2], head[1::2]
        # ASCII text in UTF-16 without a BOM: every other byte is NUL, and only those.
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _check_controls(text: str, source: str) -> str:
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise PartnerDataError(
            f"{source}: control character {bad.group()!r} on line {line}: the file looks "
            "binary or corrupted; save it as CSV UTF-8 or Excel .xlsx"
        )
    return text


def _sniff(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] > 0 else ","


def _csv_rows(
    text: str, source: str, max_rows: int, budget: _Budget | None = None,
    max_cells: int = MAX_CSV_CELLS,
) -> tuple[list[str], list[list[str]], list[int], str]:
    delim = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    cells = 0
    try:
        for record in reader:
            if not record or all(not c.strip() for c in record):
                continue
            if header is None:
                header = record
                continue
            if len(rows) >= max_rows:
                raise PartnerDataError(
                    f"{source}: more than {max_rows:,} data rows; split the file or filter it to "
                    "the period and area you need"
                )
            cells += len(record)
            if cells > max_cells:
                raise PartnerDataError(
                    f"{source}: more than {max_cells:,} cells (rows x columns); drop the columns "
                    "you do not need, or split the file"
                )
            rows.append(record)
            lines.append(reader.line_num)
            if budget is not None and not len(rows) % 20_000:
                budget.check()
    except csv.Error as exc:
        raise PartnerDataError(
            f"{source}: not a readable CSV near line {reader.line_num} ({exc}); check quotes "
            "and save as CSV UTF-8"
        ) from None
    if header is None:
        raise PartnerDataError(f"{source}: empty file (no header, no rows); upload a CSV with a "
                               "header line naming the columns")
    return header, rows, lines, delim


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else \
            value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


_COLUMN_RE = re.compile(r"^([A-Z]{1,3})(\d{1,7})$")


def _cell_ref(ref: str | None) -> tuple[int, int] | None:
    """``"XFD1048576"`` -> ``(16384, 1048576)`` (column, row), or None."""
    match = _COLUMN_RE.match(ref or "")
    if not match:
        return None
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return col, int(match.group(2))


def _first_sheet(zf: zipfile.ZipFile) -> str | None:
    """Find the zip member of the workbook's first sheet (as openpyxl reads it), or None."""
    import posixpath

    try:
        book = _small_xml(zf, "xl/workbook.xml")
        rels = _small_xml(zf, "xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = next((e for e in book.iter() if e.tag.rpartition("}")[2] == "sheet"), None)
    if first is None:
        return None
    rid = next((v for k, v in first.attrib.items() if k.rpartition("}")[2] == "id"), None)
    target = next((e.get("Target") for e in rels.iter()
                   if e.tag.rpartition("}")[2] == "Relationship" and e.get("Id") == rid), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join("xl", target))


def _small_xml(zf: zipfile.ZipFile, name: str):
    import xml.etree.ElementTree as ET  # noqa: S405

    info = zf.getinfo(name)
    if info.file_size > 5_000_000:
        raise PartnerDataError(f"{name}: too large")
    raw = zf.read(name)
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise PartnerDataError(f"{name}: has a DOCTYPE")
    return ET.fromstring(raw)  # noqa: S314 (no DTD, size-checked)


class _SheetLimit(Exception):
    """Raised inside the expat handlers to stop a sheet scan at the first limit passed."""


def _scan_sheet(zf: zipfile.ZipFile, member: str, source: str, limits: ReadLimits,
                budget: _Budget) -> tuple[int, int]:
    """Stream one sheet's XML, counting rows and cells under hard caps; returns its used range.

    The ``<dimension>`` element is never read: the extent is what the cells' references say (or
    their positions, where a writer leaves references out), so a workbook lying about its size
    gains nothing. expat reads the stream in 64 kB pieces with a handler on each start tag and
    builds no tree; a DOCTYPE or entity declaration stops it (no entity expansion).

    Returns
    -------
    (int, int)
        The last column and the last row holding a cell.
    """
    import xml.parsers.expat  # noqa: S408 (DOCTYPE and entities refused, stream capped)

    counts = {"rows": 0, "cells": 0, "max_col": 0, "max_row": 0, "row": 0, "col": 0}
    max_rows = limits.max_rows + 1  # with the header

    def start(name: str, attrs: dict) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            counts["cells"] += 1
            ref = _cell_ref(attrs.get("r"))
            col = ref[0] if ref else counts["col"] + 1
            counts["col"] = col
            if col > counts["max_col"]:
                counts["max_col"] = col
                if col > MAX_COLUMNS:
                    raise _SheetLimit(f"its used range reaches column {col:,} (limit "
                                      f"{MAX_COLUMNS}): delete stray cells right of the data")
            row = ref[1] if ref else counts["row"]
            if row > counts["max_row"]:
                counts["max_row"] = row
            if counts["cells"] > limits.max_cells:
                raise _SheetLimit(f"more than {limits.max_cells:,} cells")
        elif tag == "row":
            counts["rows"] += 1
            r = attrs.get("r", "")
            counts["row"] = int(r) if r.isdigit() and len(r) < 9 else counts["row"] + 1
            counts["col"] = 0
            counts["max_row"] = max(counts["max_row"], counts["row"])
            if counts["rows"] > max_rows:
                raise _SheetLimit(f"more than {limits.max_rows:,} rows")
        if counts["max_row"] > max_rows:
            raise _SheetLimit(f"its used range reaches row {counts['max_row']:,} (limit "
                              f"{max_rows:,}): delete stray cells below the data")

    def no_dtd(*_args) -> None:
        raise _SheetLimit("a DOCTYPE or entity declarations, which Excel never writes")

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    read = 0
    try:
        with zf.open(member) as fh:
            while chunk := fh.read(1 << 16):
                read += len(chunk)
                if read > limits.max_unzipped_bytes:
                    raise _SheetLimit(f"more than {limits.max_unzipped_bytes:,} bytes of XML")
                parser.Parse(chunk, False)
                budget.check()
            parser.Parse(b"", True)
    except _SheetLimit as exc:
        raise PartnerDataError(f"{source}: the workbook's first sheet has {exc}; save the sheet "
                               "as CSV UTF-8, or split it") from None
    except xml.parsers.expat.ExpatError as exc:
        raise PartnerDataError(f"{source}: not a readable Excel .xlsx file (sheet XML: {exc}); "
                               "save it again from Excel, or as CSV UTF-8") from None
    return counts["max_col"], counts["max_row"]


def _xlsx_rows(
    content: bytes, source: str, limits: ReadLimits, budget: _Budget
) -> tuple[list[str], list[list[str]], list[int]]:
    import xml.etree.ElementTree as ET  # noqa: S405

    from openpyxl import load_workbook

    max_rows = limits.max_rows
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            # Bounds first, from the zip directory and a streamed count of the sheet's cells:
            # nothing here trusts what the workbook says about its own size.
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise PartnerDataError(f"{source}: the workbook holds {len(infos):,} files "
                                       f"(limit {MAX_ZIP_MEMBERS:,}); save the sheet as CSV UTF-8")
            expanded = sum(info.file_size for info in infos)
            if expanded > limits.max_unzipped_bytes:
                raise PartnerDataError(
                    f"{source}: the workbook expands to {expanded:,} bytes (limit "
                    f"{limits.max_unzipped_bytes:,}); save the sheet as CSV UTF-8, or split it")
            try:
                member = _first_sheet(zf)
            except (ET.ParseError, PartnerDataError):
                member = None
            names = set(zf.namelist())
            if member not in names:
                member = next((n for n in sorted(names) if n.startswith("xl/worksheets/")
                               and n.endswith(".xml")), None)
            if member is None:
                raise PartnerDataError(f"{source}: the workbook has no sheets; put a header row "
                                       "and the data on the first sheet")
            max_col, max_row = _scan_sheet(zf, member, source, limits, budget)
    except PartnerDataError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            NotImplementedError, RuntimeError, KeyError, ET.ParseError):
        raise PartnerDataError(f"{source}: not a valid Excel .xlsx file (damaged zip); save it "
                               "again from Excel, or as CSV UTF-8") from None
    if max_row == 0:
        raise PartnerDataError(f"{source}: the first sheet is empty; put a header row and the "
                               "data on the first sheet")
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged workbooks -> one line
        first = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
        raise PartnerDataError(f"{source}: not a readable Excel .xlsx file ({first}); save it "
                               "again from Excel, or as CSV UTF-8") from None
    try:
        if not wb.worksheets:
            raise PartnerDataError(f"{source}: the workbook has no sheets")
        ws = wb.worksheets[0]
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        # the extent counted above, not the sheet's <dimension>, bounds what openpyxl walks
        cells_iter = ws.iter_rows(min_row=1, max_row=max_row, min_col=1, max_col=max(max_col, 1),
                                  values_only=True)
        for n, record in enumerate(cells_iter, start=1):
            if not n % 2000:
                budget.check()
            cells = [_cell_text(v) for v in record]
            if all(not c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            if len(rows) >= max_rows:
                raise PartnerDataError(f"{source}: more than {max_rows:,} data rows; split the "
                                       "file or filter it to the period and area you need")
            rows.append(cells)
            lines.append(n)
    except PartnerDataError:
        raise
    except Exception as exc:  # damaged sheet XML surfaces while iterating
        first = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
        raise PartnerDataError(f"{source}: not a readable Excel .xlsx file ({first}); save it "
                               "again from Excel, or as CSV UTF-8") from None
    finally:
        wb.close()
    if header is None:
        raise PartnerDataError(f"{source}: the first sheet is empty; put a header row and the "
                               "data on the first sheet")
    while header and not header[-1].strip():
        header.pop()  # trailing empty cells of a formatted sheet
    return header, rows, lines


def read_table_upload(content: bytes, filename: str, *, max_bytes: int = MAX_BYTES,
                      max_rows: int = MAX_ROWS, limits: ReadLimits | None = None,
                      ) -> pd.DataFrame:
    """Read an uploaded CSV or Excel file into a table of strings, checking its structure.

    CSV: UTF-8 with or without a byte-order mark, else Windows-1252 (with a note); the
    delimiter is the most frequent of comma, semicolon, tab and pipe on the header line.
    Excel: an ``.xlsx`` workbook (detected by content, not by name), first sheet, cached formula
    values. Blank lines are skipped.

    Parameters
    ----------
    content : bytes
        The file as uploaded.
    filename : str
        The name the user gave it (only its base name is used, in messages).
    max_bytes : int
        Size limit (default 20 MB).
    max_rows : int
        Row limit (default 500,000), unless ``limits`` is given.
    limits : ReadLimits, optional
        Bounds on the work: rows, Excel cells and decompressed size (checked before the sheet
        is read) and a time budget (:class:`ReadLimits`).

    Returns
    -------
    DataFrame
        One ``str`` column per header cell (names stripped; blank cells are ``""``), indexed by
        the file row number (the header is row 1), so problems can name rows. ``attrs["notes"]``
        lists notes (encoding fallback, delimiter), ``attrs["source"]`` the sanitised name.

    Raises
    ------
    PartnerDataError
        Too big, empty, binary, unknown encoding, not parseable, no header (the first line looks
        like data), blank, duplicate or over-long column names, too many columns or rows.
    """
    source = _safe_name(filename)
    if not isinstance(content, bytes | bytearray):
        raise PartnerDataError(f"{source}: no file content received; upload the file again")
    content = bytes(content)
    if len(content) > max_bytes:
        raise PartnerDataError(
            f"{source}: {len(content):,} bytes is over the {max_bytes:,}-byte limit; filter the "
            "extract to the period and area you need, or split it"
        )
    if not content.strip():
        raise PartnerDataError(f"{source}: empty file; upload a CSV or .xlsx with a header line "
                               "and one row per record")
    limits = limits or ReadLimits(max_rows=max_rows)
    budget = _Budget(source, limits.max_seconds)
    notes: list[str] = []
    if content.startswith(b"PK\x03\x04"):
        header, rows, lines = _xlsx_rows(content, source, limits, budget)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise PartnerDataError(f"{source}: old Excel .xls (or other OLE) format; save it as "
                               ".xlsx or CSV UTF-8")
    else:
        text, notes = _decode(content, source)
        header, rows, lines, delim = _csv_rows(text, source, limits.max_rows, budget,
                                               limits.max_csv_cells)
        if delim != ",":
            notes.append(f"columns separated by {DELIMITER_NAMES[delim]}s")
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    if len(header) > MAX_COLUMNS:
        raise PartnerDataError(f"{source}: {len(header)} columns (limit {MAX_COLUMNS}); keep "
                               "only the columns the profiler needs")
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:
        raise PartnerDataError(f"{source}: column(s) {', '.join(map(str, blank[:3]))} of the "
                               "header have no name; name every column or delete empty ones")
    long_names = [h for h in header if len(h) > 100]
    if long_names:
        raise PartnerDataError(f"{source}: header cell {_show_name(long_names[0])} is longer "
                               "than 100 characters; is the first line a header?")
    seen: dict[str, str] = {}
    for h in header:
        key = _norm_name(h) or h.lower()
        if key in seen:
            raise PartnerDataError(f"{source}: duplicate column name {_show_name(h)} (same as "
                                   f"{_show_name(seen[key])}); keep one column of each name")
        seen[key] = h
    looks_like_data = [h for h in header
                       if LSOA_RE.match(h) or re.fullmatch(r"[-+]?\d[\d.,/:\s-]*", h)]
    if looks_like_data and len(looks_like_data) * 2 >= len(header):
        raise PartnerDataError(
            f"{source}: no header line: the first line looks like data "
            f"({', '.join(_show_name(h) for h in looks_like_data[:3])}); add a first line "
            "naming the columns"
        )
    if not rows:
        raise PartnerDataError(f"{source}: a header line but no data rows; upload the file with "
                               "one row per LSOA or incident under the header")
    width = len(header)
    fixed = [(r + [""] * (width - len(r)))[:width] if len(r) != width else r for r in rows]
    frame = pd.DataFrame(fixed, columns=header, index=pd.Index(lines, name="row"), dtype=object)
    frame = frame.fillna("").astype(str)
    ragged = np.array([len(r) > width and any(c.strip() for c in r[width:]) for r in rows],
                      dtype=bool)
    frame.attrs["ragged"] = frame.index.to_numpy()[ragged].tolist() if len(rows) else []
    frame.attrs["notes"] = notes
    frame.attrs["source"] = source
    return frame


def _new_report(frame: pd.DataFrame) -> ValidationReport:
    report = ValidationReport(source=frame.attrs.get("source", "upload"),
                              rows_read=len(frame), notes=list(frame.attrs.get("notes", [])))
    ragged = frame.attrs.get("ragged", [])
    if ragged:
        mask = frame.index.isin(ragged)
        report.add_mask(frame, mask, "(row)", f"more fields than the {frame.shape[1]} header "
                        "columns", "quote values that contain the delimiter",
                        values=pd.Series("", index=frame.index))
    long = frame.apply(lambda s: s.str.len() > MAX_FIELD_CHARS)
    for col in frame.columns[long.any().to_numpy()]:
        report.add_mask(frame, long[col].to_numpy(), col,
                        f"longer than {MAX_FIELD_CHARS:,} characters",
                        values=frame[col].str.slice(0, 40))
    return report


def _find(frame: pd.DataFrame, names: Iterable[str]) -> str | None:
    wanted = list(names)
    by_norm = {_norm_name(c): c for c in frame.columns}
    for name in wanted:
        if name in by_norm:
            return by_norm[name]
    return None


# -- 2011 -> 2021 LSOA codes ----------------------------------------------------------------


@dataclass(frozen=True)
class CodeLookup:
    """ONS LSOA 2011 -> 2021 best-fit lookup with apportioning weights.

    Rules (change code from the ONS lookup):

    * **U** unchanged: the value is copied.
    * **S** split: a 2011 LSOA becomes several 2021 LSOAs. A count is shared among the parts in
      proportion to their Census 2021 households; a rate or score is copied to every part.
    * **M** merged: several 2011 LSOAs become one 2021 LSOA. Counts are summed; rates and scores
      are averaged weighted by the 2011 LSOAs' residents (ONS mid-2020 estimates; Census 2011
      household counts are not shipped, and residents are the denominator of most rates).
    * **X** irregular (9 links in England): each 2011 LSOA is shared among
      its 2021 links by households, as for a split, and each 2021 LSOA sums (counts) or
      averages (rates, weighted by the residents each link carries) what it receives, as for a
      merge. This is the same rule :func:`profiler.build.children_0_15_lsoa21` uses.

    A single incident with a 2011 code goes to one 2021 LSOA: for a split, the part with the
    most Census 2021 households (:attr:`largest_part`).

    Attributes
    ----------
    links : DataFrame
        ``lsoa11_code``, ``lsoa21_code``, ``change_code``, ``share`` (of the 2011 LSOA going to
        the 2021 LSOA, by households; 1 for U and M), ``weight`` (2011 residents times share,
        for rates), ``residents`` (same value, for carrying population).
    codes21 : frozenset
        Every English 2021 LSOA code in the lookup.
    codes11 : frozenset
        Every English 2011 LSOA code in the lookup.
    largest_part : dict
        2011 code -> the 2021 code receiving the largest share.
    """

    links: pd.DataFrame
    codes21: frozenset
    codes11: frozenset
    largest_part: Mapping[str, str]

    @classmethod
    def from_frames(cls, lookup: pd.DataFrame, households: pd.Series,
                    residents11: pd.Series | None = None) -> CodeLookup:
        """Build the lookup from the ONS table, 2021 households and 2011 residents.

        Parameters
        ----------
        lookup : DataFrame
            ``lsoa11_code``, ``lsoa21_code``, ``change_code`` (one row per link).
        households : Series
            Census 2021 households by 2021 LSOA code.
        residents11 : Series, optional
            Residents by 2011 LSOA code (weights for merged rates; equal weights if absent).

        Returns
        -------
        CodeLookup
        """
        look = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates(
            ["lsoa11_code", "lsoa21_code"])
        look = look[look["lsoa21_code"].astype(str).str.startswith("E")].copy()
        look["households"] = look["lsoa21_code"].map(households).fillna(0.0).astype(float)
        look["share"] = lsoa11_shares(look["lsoa11_code"], look["households"])
        pop = (look["lsoa11_code"].map(residents11) if residents11 is not None
               else pd.Series(1.0, index=look.index)).fillna(0.0).astype(float)
        look["residents"] = pop * look["share"]
        look["weight"] = look["residents"]
        order = look.sort_values(["lsoa11_code", "share", "lsoa21_code"],
                                 ascending=[True, False, True])
        largest = order.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"]
        return cls(
            links=look.reset_index(drop=True),
            codes21=frozenset(look["lsoa21_code"]),
            codes11=frozenset(look["lsoa11_code"]),
            largest_part=largest.to_dict(),
        )

    def residents_2021(self) -> pd.Series:
        """Residents per 2021 LSOA, carried from the 2011 residents by the shares."""
        return self.links.groupby("lsoa21_code")["residents"].sum()

    def convert(self, values: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
        """Convert a table indexed by 2011 code to 2021 codes.

        Parameters
        ----------
        values : DataFrame
            Indexed by 2011 LSOA code, one numeric column per value.
        kinds : mapping
            Column -> ``"count"`` (apportioned and summed) or ``"rate"``/``"score"`` (copied to
            split parts, resident-weighted mean over merged parents).

        Returns
        -------
        DataFrame
            Indexed by 2021 LSOA code (every 2021 LSOA reached by the given 2011 codes).
        """
        links = self.links[self.links["lsoa11_code"].isin(values.index)]
        parents = links.groupby("lsoa21_code")["lsoa11_code"].transform("size")
        one_parent = (parents == 1).to_numpy()
        out = {}
        for col in values.columns:
            v = links["lsoa11_code"].map(values[col]).astype(float)
            if kinds.get(col, "rate") == "count":
                out[col] = (v * links["share"]).groupby(links["lsoa21_code"]).sum()
            else:
                w = links["weight"].where(links["weight"] > 0, 1e-9)
                num = (v * w).groupby(links["lsoa21_code"]).sum()
                den = w.groupby(links["lsoa21_code"]).sum()
                mean = num / den
                # One parent (unchanged or split): copy its value exactly, no float round trip.
                single = v[one_parent].groupby(links.loc[one_parent, "lsoa21_code"]).first()
                mean.loc[single.index] = single
                out[col] = mean
        return pd.DataFrame(out)


def load_code_lookup(data_dir: str | Path = DATA_DIR,
                     households: pd.Series | None = None) -> CodeLookup:
    """Read the shipped ONS 2011 -> 2021 lookup and the mid-2020 residents.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder (default: the repository's).
    households : Series, optional
        Census 2021 households by 2021 LSOA (the indicator table's ``households_2021``); read
        from ``data/indicators/lsoa21_indicators.csv`` when not given.

    Returns
    -------
    CodeLookup

    Raises
    ------
    ProfilerError
        If a source file is missing or unreadable.
    """
    from profiler.build import _read

    data_dir = Path(data_dir)
    look = _read(data_dir, LOOKUP_FILE, usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    pop = _read(data_dir, POPULATION_FILE, usecols=["lsoa11_code", "total_population"])
    if households is None:
        path = data_dir / "indicators" / "lsoa21_indicators.csv"
        try:
            households = pd.read_csv(path, usecols=["lsoa21_code", "households_2021"]).set_index(
                "lsoa21_code")["households_2021"]
        except (OSError, ValueError) as exc:
            raise ProfilerError(f"{path}: cannot read households_2021 ({exc}); run "
                                "`python -m profiler build`") from None
    return CodeLookup.from_frames(look, households,
                                  pop.set_index("lsoa11_code")["total_population"])


def residents_lsoa21(lookup: CodeLookup) -> pd.Series:
    """Residents per 2021 LSOA: the denominator of the incident rates per 1,000.

    Source: ONS mid-2020 small-area population estimates (``total_population``, on 2011
    LSOAs, shipped as ``ons_mid2020_population_syoa_lsoa11.csv.gz``), carried to 2021 LSOAs with
    the ONS lookup exactly as :func:`profiler.build.children_0_15_lsoa21` carries children:
    unchanged LSOAs copy, splits share by Census 2021 households, merges sum. IoD2025 does not
    ship its population denominators here, and the ONS mid-2020 estimates are the newest shipped
    count of all residents.

    Parameters
    ----------
    lookup : CodeLookup

    Returns
    -------
    Series
        Estimated residents (float), indexed by 2021 LSOA code, named ``residents``.
    """
    return lookup.residents_2021().rename("residents")


# -- partner indicator tables ---------------------------------------------------------------


def _code_column(frame: pd.DataFrame, source: str) -> tuple[str, int]:
    for year in (2021, 2011, 0):
        col = _find(frame, _CODE_NAMES[year])
        if col is not None:
            return col, year
    col = _find(frame, ("lsoa_code_", "lsoa_name"))
    names = ", ".join(_show_name(c) for c in list(frame.columns)[:5])
    raise PartnerDataError(
        f"{source}: no LSOA code column (found {names}); name it lsoa21_code (2021 codes) or "
        "lsoa11_code (2011 codes)"
    )


def _parse_numbers(frame: pd.DataFrame, col: str) -> pd.Series:
    text = frame[col].str.strip()
    return pd.to_numeric(text.where(text != ""), errors="coerce")


_OPTION_KEYS = {"label", "direction", "weight", "themes", "kind"}


def _options(new_indicators: Mapping[str, Mapping[str, Any]] | None, source: str,
             ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, opts in (new_indicators or {}).items():
        if not isinstance(opts, Mapping):
            raise PartnerDataError(f"new_indicators[{key!r}]: must be a mapping of options")
        unknown = sorted(set(opts) - _OPTION_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_OPTION_KEYS))
            raise PartnerDataError(f"new_indicators[{key!r}]: unknown option(s) "
                                   f"{', '.join(unknown)}; allowed: {allowed}")
        if "kind" in opts and opts["kind"] not in KINDS:
            raise PartnerDataError(f"new_indicators[{key!r}] kind: got {opts['kind']!r}; use "
                                   f"one of {', '.join(KINDS)}")
        if "direction" in opts and opts["direction"] not in DIRECTIONS:
            raise PartnerDataError(f"new_indicators[{key!r}] direction: got "
                                   f"{opts['direction']!r}; use one of {', '.join(DIRECTIONS)}")
        out[_norm_name(key)] = dict(opts)
    return out


def load_partner_indicators(
    content: bytes,
    filename: str,
    spec: Spec,
    table: pd.DataFrame,
    *,
    lookup: CodeLookup | None = None,
    new_indicators: Mapping[str, Mapping[str, Any]] | None = None,
    scope_codes: Iterable[str] | None = None,
    max_reject_share: float = 0.0,
    max_bytes: int = MAX_BYTES,
    limits: ReadLimits | None = None,
) -> tuple[Spec, pd.DataFrame, ValidationReport]:
    """Load a partner's LSOA indicator table to replace or add indicators of a spec.

    The file has one LSOA code column (``lsoa21_code``, ``lsoa11_code``, ``lsoa_code``,
    ``LSOA code``, ``LSOA21CD``... case-insensitive) and numeric value columns. Each value column:

    * **replaces** the spec indicator whose ``id`` or ``column`` it is named after: the indicator
      keeps its label, direction, weight and themes but reads the partner's values;
    * or is **added** as a new indicator with id = the column name in snake case. Its label,
      direction, weight, themes and kind come from ``new_indicators[column]``; without them the
      defaults are weight 1, ``higher_is_riskier``, no theme, kind ``rate``, and the report says
      so.

    Values go into new table columns ``partner_<id>`` (the shipped columns are never changed);
    the returned spec points its indicators there, with the upload named as their source and the
    partner licence. LSOAs of the table outside the scope get blank partner values: score
    partner profiles within the scope only.

    Codes: 2021 codes are used as they are; codes in a column named for 2011
    (``lsoa11_code``...), or retired 2011 codes in a generic column, are converted with
    ``lookup`` (see :class:`CodeLookup` for splits, merges and irregular changes). Kind
    ``count`` values are apportioned and summed, ``rate`` and ``score`` values copied or
    averaged.

    Row problems: malformed or unknown codes, codes outside the scope, duplicate codes (in the
    file, or 2011 and 2021 codes reaching the same LSOA), blank or non-numeric values, infinite
    values, negative counts or rates (kind ``score`` may be negative). After the rows: every
    scope LSOA must have a value (structural).

    Parameters
    ----------
    content : bytes
        The uploaded file (CSV or .xlsx).
    filename : str
        Its name, for messages.
    spec : Spec
        The current spec (not changed).
    table : DataFrame
        The current indicator table with ``lsoa21_code`` and ``households_2021`` (not changed).
    lookup : CodeLookup, optional
        For 2011 codes; read from the shipped data on first need when not given.
    new_indicators : mapping, optional
        ``{column: {"label", "direction", "weight", "themes", "kind"}}``; for replaced indicators
        only ``kind`` (and optionally ``weight``/``direction``) is used.
    scope_codes : iterable of str, optional
        2021 codes the partner data must cover (default: every code of ``table``); for a home
        area pass its LSOA codes (:attr:`profiler.area.HomeArea.lsoa_codes`).
    max_reject_share : float
        Share of rows that may be rejected and dropped (default 0: any bad row refuses the file).
    max_bytes : int
        Upload size limit.
    limits : ReadLimits, optional
        Bounds on reading the file (:func:`read_table_upload`).

    Returns
    -------
    (Spec, DataFrame, ValidationReport)
        The new spec, a copy of ``table`` with the ``partner_<id>`` columns, and the report.

    Raises
    ------
    PartnerDataError
        On any structural problem, or when the rejected rows exceed ``max_reject_share``.
    """
    share = _check_share(max_reject_share)
    frame = read_table_upload(content, filename, max_bytes=max_bytes, limits=limits)
    source = frame.attrs["source"]
    report = _new_report(frame)
    code_col, year = _code_column(frame, source)
    options = _options(new_indicators, source)
    if "lsoa21_code" not in table.columns:
        raise PartnerDataError("indicator table: no lsoa21_code column; pass the indicator table")
    table_codes = set(table["lsoa21_code"].astype(str))
    scope = set(map(str, scope_codes)) if scope_codes is not None else table_codes
    value_cols = [c for c in frame.columns if c != code_col and _norm_name(c) not in
                  ("lsoa_name", "lsoa21_name", "lsoa11_name", "name", "area_name", "lsoa21nm",
                   "lsoa11nm", "source")]
    if not value_cols:
        raise PartnerDataError(f"{source}: no value columns besides {code_col!r}; add one column "
                               "per indicator, named after the indicator id or a new id")
    by_id = {ind.id: ind for ind in spec.indicators}
    by_col = {_norm_name(ind.column): ind for ind in spec.indicators}
    plan: list[tuple[str, str, Any, dict[str, Any]]] = []  # (file column, id, indicator|None, opts)
    seen_ids: set[str] = set()
    for col in value_cols:
        key = _norm_name(col)
        ind = by_id.get(key) or by_col.get(key)
        new_id = ind.id if ind else key
        # The raw name too: markup or formula characters are not folded into a plausible id.
        if not (re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.-]*", str(col))
                and re.fullmatch(r"[a-z][a-z0-9_]{0,55}", new_id or "")):
            raise PartnerDataError(
                f"{source}: column {_show_name(col)} is not a usable indicator id; name value "
                "columns with letters, digits, spaces and underscores, starting with a letter"
            )
        if ind is None and new_id in RESERVED_IDS:
            raise PartnerDataError(
                f"{source}: column {_show_name(col)} would take the reserved name {new_id!r} (a "
                "theme, band or profile column, not an indicator); rename it, e.g. "
                f"{new_id}_partner, or name it after the spec indicator it replaces")
        if new_id in seen_ids:
            raise PartnerDataError(f"{source}: two columns feed indicator {new_id!r}; keep one")
        seen_ids.add(new_id)
        plan.append((col, new_id, ind, options.pop(key, options.pop(new_id, {}))))
    if options:
        raise PartnerDataError(f"new_indicators: no column named {', '.join(map(repr, options))} "
                               f"in {source}; columns are {', '.join(map(repr, value_cols[:5]))}")

    codes = frame[code_col].str.strip().str.upper()
    bad = ~codes.str.match(LSOA_RE.pattern)
    report.add_mask(frame, bad, code_col, "not an LSOA code (codes look like E01012345)")
    if lookup is None and (year == 2011 or (year == 0 and bool((~bad & ~codes.isin(
            table_codes)).any()))):
        households = (table.set_index("lsoa21_code")["households_2021"]
                      if "households_2021" in table.columns else None)
        lookup = load_code_lookup(DATA_DIR, households)
    known21 = table_codes | (set(lookup.codes21) if lookup is not None else set())
    if year == 2011:
        is11 = ~bad & codes.isin(lookup.codes11)
        report.add_mask(frame, ~bad & ~is11, code_col, "not a 2011 LSOA code in the ONS lookup",
                        "check the codes, or name the column lsoa21_code if they are 2021 codes")
    elif year == 2021:
        is11 = pd.Series(False, index=frame.index)
        report.add_mask(frame, ~bad & ~codes.isin(known21), code_col,
                        "not a 2021 LSOA code", "check the codes, or name the column "
                        "lsoa11_code if they are 2011 codes")
    else:
        is21 = codes.isin(known21)
        is11 = ~bad & ~is21 & codes.isin(lookup.codes11 if lookup is not None else set())
        report.add_mask(frame, ~bad & ~is21 & ~is11, code_col, "not a 2021 or 2011 LSOA code",
                        "check the codes")
    dup = codes.duplicated(keep="first") & ~bad
    report.add_mask(frame, dup, code_col, "duplicate LSOA code", "keep one row per LSOA")
    direct = ~bad & ~is11 & codes.isin(known21)
    report.add_mask(frame, direct & ~codes.isin(scope), code_col,
                    "LSOA outside the area loaded in the profiler", "drop rows for other areas")
    if is11.any():
        links = lookup.links[lookup.links["lsoa11_code"].isin(set(codes[is11]))]
        in_scope = links[links["lsoa21_code"].isin(scope)]
        report.add_mask(frame, is11 & ~codes.isin(set(in_scope["lsoa11_code"])), code_col,
                        "2011 LSOA outside the area loaded in the profiler",
                        "drop rows for other areas")
        # A 2021 LSOA given directly and also reached from a 2011 code would be counted twice.
        both = set(codes[direct]) & set(in_scope["lsoa21_code"])
        if both:
            parents = set(in_scope.loc[in_scope["lsoa21_code"].isin(both), "lsoa11_code"])
            report.add_mask(frame, (direct & codes.isin(both)) | (is11 & codes.isin(parents)),
                            code_col, "reaches a 2021 LSOA that another row also gives",
                            "give each LSOA once, all in 2011 or all in 2021 codes")

    kinds: dict[str, str] = {}
    numbers: dict[str, pd.Series] = {}
    defaults_used: list[str] = []
    for col, new_id, ind, opts in plan:
        kind = opts.get("kind", "rate")
        kinds[new_id] = kind
        if ind is None and not {"direction", "weight"} <= set(opts):
            defaults_used.append(new_id)
        num = _parse_numbers(frame, col)
        blank = frame[col].str.strip() == ""
        report.add_mask(frame, blank, col, "blank value", "give a number (0 if none)")
        nonnum = num.isna() & ~blank
        report.add_mask(frame, nonnum, col, "not a number",
                        "use plain numbers (no thousands separators, units or text)")
        as_float = num.to_numpy(dtype=float, na_value=np.nan)
        inf = np.isinf(as_float)
        report.add_mask(frame, inf, col, "not a finite number")
        with np.errstate(invalid="ignore"):
            absurd = np.isfinite(as_float) & (np.abs(as_float) > MAX_ABS_VALUE)
        report.add_mask(frame, absurd, col, f"implausibly large (over {MAX_ABS_VALUE:.0e})",
                        "check the units and the decimal point (no LSOA figure is that large)")
        if kind != "score":
            neg = (num < 0).fillna(False).to_numpy()
            report.add_mask(frame, neg, col, f"negative value for a {kind}",
                            f"fix it, or declare kind 'score' for {new_id!r} if negatives are "
                            "meaningful")
        numbers[new_id] = num

    report.rows_accepted = report.rows_read - report.rows_rejected
    report.enforce(share)
    ok = ~frame.index.isin(list(report.rejected))
    vals = pd.DataFrame({k: v[ok].astype(float) for k, v in numbers.items()})
    vals.index = codes[ok]
    old = vals[is11[ok].to_numpy()]
    combined = vals[~is11[ok].to_numpy()]
    if len(old):
        combined = pd.concat([combined, lookup.convert(old, kinds)])
        report.notes.append(f"{len(old):,} 2011 LSOA code(s) converted to 2021 with the ONS "
                            "lookup (splits apportioned by households for counts, copied for "
                            "rates; merges summed for counts, resident-weighted for rates)")
    combined = combined[combined.index.isin(scope)]
    missing = sorted(scope - set(combined.index))
    if missing:
        raise PartnerDataError(
            f"{source}: {len(missing):,} LSOA(s) of the area have no row, first "
            f"{', '.join(missing[:3])}; add a row for every LSOA (0 where there is none), or "
            "load the file for the area it covers"
        )
    flat = [new_id for _c, new_id, _i, _o in plan if combined[new_id].nunique(dropna=True) <= 1]
    if flat:
        report.notes.append(
            f"warning: {', '.join(flat)} has the same value in every LSOA "
            f"({combined[flat[0]].iloc[0]:g}), so it cannot rank areas and moves no band; check "
            "the extract, or give it weight 0")
    new_table = table.copy()
    data = spec.to_dict()
    label_name = f"partner upload {source}"
    for _col, new_id, ind, opts in plan:
        column = f"{PARTNER_PREFIX}{new_id}"
        new_table[column] = new_table["lsoa21_code"].map(combined[new_id]).astype(float)
        entry = {
            "column": column,
            "source": label_name,
            "period": "as supplied by the partner",
            "licence": PARTNER_LICENCE,
        }
        if ind is not None:
            for i, raw in enumerate(data["indicator"]):
                if raw["id"] == new_id:
                    data["indicator"][i] = {**raw, **entry,
                                            **{k: opts[k] for k in ("weight", "direction")
                                               if k in opts}}
        else:
            themes = list(opts.get("themes", []))
            bad_themes = [t for t in themes if t not in THEME_TAGS]
            if bad_themes:
                raise PartnerDataError(f"new_indicators[{new_id!r}] themes: unknown "
                                       f"{', '.join(map(repr, bad_themes))}; use "
                                       f"{', '.join(THEME_TAGS)}")
            data["indicator"].append({
                "id": new_id,
                "label": str(opts.get("label", new_id.replace("_", " ").capitalize())),
                "direction": opts.get("direction", "higher_is_riskier"),
                "weight": float(opts.get("weight", 1.0)),
                "themes": themes,
                "unit": "as supplied" + (" (count)" if kinds[new_id] == "count" else ""),
                "rationale": "Added from a partner upload.",
                **entry,
            })
    if defaults_used:
        kind_rate = all(kinds[i] == "rate" for i in defaults_used)
        report.notes.append(
            f"new indicator(s) {', '.join(defaults_used)} added with the defaults weight 1, "
            f"higher_is_riskier{', kind rate' if kind_rate else ''}: set them in the upload "
            "options if that is not right"
        )
    try:
        new_spec = parse_spec(data, source=spec.source)
    except ProfilerError as exc:
        raise PartnerDataError(f"{source}: the partner indicators make an invalid spec ({exc})"
                               ) from None
    return new_spec, new_table, report


# -- incident extracts ----------------------------------------------------------------------


def is_violence(offence: pd.Series) -> pd.Series:
    """Flag violence offences from the offence text (see :data:`VIOLENCE_PATTERNS`)."""
    return offence.fillna("").astype(str).str.contains(_VIOLENCE_RE, regex=True)


_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_UK = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
#: Plausible incident years: from this one to next year (pandas holds 1677-2262 only, and a year
#: like 0024 or 3024 is a typing slip, not an incident).
FIRST_PLAUSIBLE_YEAR = 1990
_YEAR = r"(?:^(\d{4})-|/(\d{4})(?:\s|$))"
_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)"
_OFFSET = r"(?:([+-])(\d{2}):?(\d{2})$)"


def _parse_dates(text: pd.Series, latest_year: int | None = None,
                 ) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse ISO dates, dd/mm/yyyy dates and yyyy-mm months.

    Returns ``(dates, recognised, too_early, too_late, bad_time)``: the dates (NaT where not
    parsed), the rows in a known format, those with a year before :data:`FIRST_PLAUSIBLE_YEAR`
    or after ``latest_year`` (default next year), and those with an impossible time or UTC
    offset (``T25:00``, ``+99:99``). Only plausible rows reach pandas, whose range is 1677-2262.
    """
    latest_year = latest_year or date.today().year + 1
    text = text.str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    iso = text.str.match(_ISO.pattern)
    uk = text.str.match(_UK.pattern)
    month = text.str.match(_MONTH.pattern)
    recognised = iso | uk | month
    years = text.str.extract(_YEAR).astype(float)
    year = years[0].fillna(years[1])
    too_early = recognised & (year < FIRST_PLAUSIBLE_YEAR).fillna(False)
    too_late = recognised & (year > latest_year).fillna(False)
    implausible = too_early | too_late
    clock = text.str.extract(_TIME).astype(float)
    offset = text.str.extract(_OFFSET)
    off_h, off_m = offset[1].astype(float), offset[2].astype(float)
    has_offset = iso & offset[0].notna() & text.str.contains("[T ]", regex=True)
    bad_time = recognised & (
        (clock[0] > 23) | (clock[1] > 59) | (clock[2] > 59)
        | (has_offset & ((off_h > 14) | (off_m > 59)))
    ).fillna(False)
    ok = ~implausible & ~bad_time
    iso, uk, month = iso & ok, uk & ok, month & ok
    if iso.any():
        out[iso] = pd.to_datetime(text[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    if uk.any():
        out[uk] = pd.to_datetime(text[uk].str.split(" ").str[0], format="%d/%m/%Y",
                                 errors="coerce")
    if month.any():
        out[month] = pd.to_datetime(text[month], format="%Y-%m", errors="coerce")
    return out, recognised, too_early, too_late, bad_time


def _parse_flag(frame: pd.DataFrame, col: str | None, report: ValidationReport) -> pd.Series:
    if col is None:
        return pd.Series(False, index=frame.index)
    text = frame[col].str.strip().str.lower()
    true = text.isin(FLAG_TRUE)
    bad = ~true & ~text.isin(FLAG_FALSE) & (text != "")
    report.add_mask(frame, bad, col, "not a yes/no flag",
                    "use true/false, yes/no, Y/N or 1/0 (blank means no)")
    return true


def _location_type(frame: pd.DataFrame, col: str | None, report: ValidationReport) -> pd.Series:
    if col is None:
        report.notes.append("no location_type column: every non-domestic violence offence counts "
                            "as public-place violence")
        return pd.Series("unknown", index=frame.index)
    text = frame[col].str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    lookup = {v: k for k, vs in LOCATION_TYPES.items() for v in vs}
    out = text.map(lookup)
    out[text == ""] = "unknown"
    unrecognised = out.isna()
    if unrecognised.any():
        shown = ", ".join(_show(v) for v in frame.loc[unrecognised, col].unique()[:3])
        report.notes.append(f"{int(unrecognised.sum()):,} location type(s) not recognised "
                            f"({shown}) counted as 'other'")
        out[unrecognised] = "other"
    return out


def _points_to_lsoa(lon: np.ndarray, lat: np.ndarray, boundaries) -> np.ndarray:
    import geopandas as gpd

    result = np.full(len(lon), None, dtype=object)
    if len(lon) == 0:
        return result
    pts = gpd.GeoDataFrame({"i": np.arange(len(lon))},
                           geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    bounds = boundaries if boundaries.crs is not None and boundaries.crs.to_epsg() == 4326 \
        else boundaries.to_crs("EPSG:4326")
    joined = gpd.sjoin(pts, bounds[["lsoa21_code", bounds.geometry.name]], how="inner",
                       predicate="within")
    joined = joined.sort_values(["i", "lsoa21_code"]).drop_duplicates("i")
    result[joined["i"].to_numpy()] = joined["lsoa21_code"].to_numpy()
    return result


def load_incidents(
    content: bytes,
    filename: str,
    *,
    lsoa_boundaries,
    valid_codes: Iterable[str] | None = None,
    lookup: CodeLookup | None = None,
    today: date | None = None,
    max_reject_share: float = 0.0,
    max_bytes: int = MAX_BYTES,
    limits: ReadLimits | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Load a partner's incident extract and place every incident in a 2021 LSOA.

    Columns (names case-insensitive, common variants accepted):

    * ``date`` (required): ``yyyy-mm-dd`` (time allowed), ``dd/mm/yyyy``, or ``yyyy-mm`` (a
      month: dated the 1st). Impossible dates, dates in the future and dates before 2000 are
      row problems.
    * location, one of per row: ``latitude``/``longitude`` (WGS84, England: 49.8 to 55.9 and
      -6.5 to 1.8); ``easting``/``northing`` (British National Grid, EPSG:27700, 0-700,000 and
      0-1,300,000); or an LSOA code (``lsoa21_code``, ``lsoa11_code``, ``lsoa_code``). A row uses
      the first of these it fills. Points are joined to ``lsoa_boundaries`` by point-in-polygon;
      a point in no LSOA is a row problem ("outside the area"). 2011 codes are converted: a split
      LSOA's incident goes to the 2021 part with the most households (:class:`CodeLookup`).
    * ``offence`` (or ``crime_type``...), required, not blank; violence is recognised from the
      text by :data:`VIOLENCE_PATTERNS`.
    * ``domestic``, ``knife`` (optional flags): true/false, yes/no, Y/N, 1/0, T/F; blank means
      no (extracts mark the yes cases); anything else is a row problem.
    * ``location_type`` (optional): normalised to dwelling, street, licensed premises, other
      (see :data:`LOCATION_TYPES`; unlisted values become ``other`` with a note); blank is
      ``unknown``.
    * ``source`` (optional): passed through; rows saying ``SYNTHETIC`` are noted in the report.

    Parameters
    ----------
    content : bytes
        The uploaded CSV or .xlsx.
    filename : str
        Its name, for messages.
    lsoa_boundaries : GeoDataFrame
        2021 LSOA polygons with ``lsoa21_code`` (any CRS; e.g. the home area's).
    valid_codes : iterable of str, optional
        2021 codes accepted (default: the boundaries' codes).
    lookup : CodeLookup, optional
        For 2011 codes; read from the shipped data on first need when not given.
    today : date, optional
        The date after which incidents are "in the future" (default: today).
    max_reject_share : float
        Share of rows that may be dropped (default 0: a clean load or nothing).
    max_bytes : int
        Upload size limit.
    limits : ReadLimits, optional
        Bounds on reading the file (:func:`read_table_upload`).

    Returns
    -------
    (DataFrame, ValidationReport)
        One row per accepted incident, indexed by file row: ``date`` (datetime64), ``lsoa21_code``,
        ``located_by`` (``latlon``, ``bng``, ``lsoa21``, ``lsoa11``), ``offence``, ``violence``,
        ``domestic``, ``knife`` (bool), ``location_type``, ``source``.

    Raises
    ------
    PartnerDataError
        On a structural problem (including a missing date, offence or location column) or
        when the rejected rows exceed ``max_reject_share``.
    """
    share = _check_share(max_reject_share)
    frame = read_table_upload(content, filename, max_bytes=max_bytes, limits=limits)
    source = frame.attrs["source"]
    report = _new_report(frame)
    today = today or date.today()
    cols = {key: _find(frame, names) for key, names in _INCIDENT_NAMES.items()}
    code_col = next((c for y in (2021, 2011, 0) if (c := _find(frame, _CODE_NAMES[y]))), None)
    code_year = next((y for y in (2021, 2011, 0) if _find(frame, _CODE_NAMES[y])), None)
    found = ", ".join(_show_name(c) for c in list(frame.columns)[:6])
    for key in ("date", "offence"):
        if cols[key] is None:
            raise PartnerDataError(f"{source}: no {key} column (found {found}); add a column "
                                   f"named {key!r}")
    has_ll = cols["latitude"] is not None and cols["longitude"] is not None
    has_en = cols["easting"] is not None and cols["northing"] is not None
    if not (has_ll or has_en or code_col):
        raise PartnerDataError(f"{source}: no location columns (found {found}); give latitude "
                               "and longitude, easting and northing, or lsoa21_code")
    codes_ok = set(map(str, valid_codes)) if valid_codes is not None else set(
        lsoa_boundaries["lsoa21_code"].astype(str))

    dates, recognised, too_early, too_late, bad_time = _parse_dates(frame[cols["date"]],
                                                                    today.year + 1)
    implausible = too_early | too_late
    dcol = cols["date"]
    blank = frame[dcol].str.strip() == ""
    report.add_mask(frame, blank, dcol, "no date", "give the date of the incident")
    report.add_mask(frame, ~recognised & ~blank, dcol, "not a date in a known format",
                    "use yyyy-mm-dd, dd/mm/yyyy or yyyy-mm")
    report.add_mask(frame, too_early, dcol, f"year before {FIRST_PLAUSIBLE_YEAR}",
                    "check the year (four digits, e.g. 2024)")
    # a far-future year reads like any future date: same reason, so they group in the summary
    report.add_mask(frame, too_late, dcol, f"after today ({today.isoformat()})",
                    "check the year, or day and month order")
    report.add_mask(frame, bad_time & ~implausible, dcol,
                    "impossible time (hours 00-23, minutes 00-59, UTC offset up to 14:00)",
                    "check the time, or give the date alone")
    report.add_mask(frame, recognised & ~implausible & ~bad_time & dates.isna(), dcol,
                    "impossible date", "check day and month (dd/mm/yyyy)")
    future = (dates > pd.Timestamp(today)).fillna(False)
    report.add_mask(frame, future, dcol, f"after today ({today.isoformat()})",
                    "check the year, or day and month order")
    old = (dates < pd.Timestamp(EARLIEST_DATE)).fillna(False)
    report.add_mask(frame, old, dcol, f"before {EARLIEST_DATE.year}", "check the year")

    ocol = cols["offence"]
    offence = frame[ocol].str.strip()
    report.add_mask(frame, offence == "", ocol, "no offence or crime type",
                    "give the offence or crime type")
    domestic = _parse_flag(frame, cols["domestic"], report)
    knife = _parse_flag(frame, cols["knife"], report)
    loc_type = _location_type(frame, cols["location_type"], report)

    n = len(frame)
    lsoa = np.full(n, None, dtype=object)
    located_by = np.full(n, None, dtype=object)
    pending = np.ones(n, dtype=bool)
    lon_pts = np.full(n, np.nan)
    lat_pts = np.full(n, np.nan)
    if has_ll:
        la_c, lo_c = cols["latitude"], cols["longitude"]
        la_t, lo_t = frame[la_c].str.strip(), frame[lo_c].str.strip()
        given = ((la_t != "") | (lo_t != "")).to_numpy()
        la, lo = _parse_numbers(frame, la_c), _parse_numbers(frame, lo_c)
        la_n, lo_n = la.to_numpy(dtype=float, na_value=np.nan), lo.to_numpy(dtype=float,
                                                                             na_value=np.nan)
        bad_la = given & ~np.isfinite(la_n)
        bad_lo = given & ~np.isfinite(lo_n)
        report.add_mask(frame, bad_la, la_c, "not a number (latitude)",
                        "give decimal degrees, e.g. 52.28")
        report.add_mask(frame, bad_lo & ~bad_la, lo_c, "not a number (longitude)",
                        "give decimal degrees, e.g. -1.58")
        num = given & ~bad_la & ~bad_lo
        with np.errstate(invalid="ignore"):
            in_la = (la_n >= LAT_RANGE[0]) & (la_n <= LAT_RANGE[1])
            in_lo = (lo_n >= LON_RANGE[0]) & (lo_n <= LON_RANGE[1])
            swapped = num & ~(in_la & in_lo) & (lo_n >= LAT_RANGE[0]) & (lo_n <= LAT_RANGE[1]) \
                & (la_n >= LON_RANGE[0]) & (la_n <= LON_RANGE[1])
        report.add_mask(frame, swapped, la_c, "latitude and longitude look swapped",
                        "put latitude (about 52) and longitude (about -1.5) in their own columns")
        report.add_mask(frame, num & ~swapped & ~in_la, la_c,
                        f"not a latitude in England ({LAT_RANGE[0]} to {LAT_RANGE[1]})")
        report.add_mask(frame, num & ~swapped & in_la & ~in_lo, lo_c,
                        f"not a longitude in England ({LON_RANGE[0]} to {LON_RANGE[1]})")
        use = num & in_la & in_lo
        lat_pts[use], lon_pts[use] = la_n[use], lo_n[use]
        located_by[use] = "latlon"
        pending &= ~given
    if has_en:
        e_c, n_c = cols["easting"], cols["northing"]
        e_t, n_t = frame[e_c].str.strip(), frame[n_c].str.strip()
        given = pending & ((e_t != "") | (n_t != "")).to_numpy()
        e_n = _parse_numbers(frame, e_c).to_numpy(dtype=float, na_value=np.nan)
        n_n = _parse_numbers(frame, n_c).to_numpy(dtype=float, na_value=np.nan)
        bad_e = given & ~np.isfinite(e_n)
        bad_n = given & ~np.isfinite(n_n) & ~bad_e
        report.add_mask(frame, bad_e, e_c, "not a number (easting)", "give metres, e.g. 429000")
        report.add_mask(frame, bad_n, n_c, "not a number (northing)", "give metres, e.g. 265000")
        num = given & ~bad_e & ~bad_n
        with np.errstate(invalid="ignore"):
            in_e = (e_n >= EASTING_RANGE[0]) & (e_n <= EASTING_RANGE[1])
            in_n = (n_n >= NORTHING_RANGE[0]) & (n_n <= NORTHING_RANGE[1])
            degrees = num & (np.abs(e_n) < 90) & (np.abs(n_n) < 90)
        report.add_mask(frame, degrees, e_c, "looks like degrees, not British National Grid "
                        "metres", "put latitude/longitude in columns named latitude, longitude")
        report.add_mask(frame, num & ~degrees & ~in_e, e_c,
                        "not a British National Grid easting (0 to 700,000 m)")
        report.add_mask(frame, num & ~degrees & in_e & ~in_n, n_c,
                        "not a British National Grid northing (0 to 1,300,000 m)")
        use = num & ~degrees & in_e & in_n
        if use.any():
            from pyproj import Transformer

            tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
            x, y = tr.transform(e_n[use], n_n[use])
            lon_pts[use], lat_pts[use] = x, y
        located_by[use] = "bng"
        pending &= ~given
    point = np.isfinite(lon_pts) & np.isfinite(lat_pts)
    if point.any():
        idx = np.flatnonzero(point)
        found_codes = _points_to_lsoa(lon_pts[idx], lat_pts[idx], lsoa_boundaries)
        lsoa[idx] = found_codes
        inside = np.array([c is not None and c in codes_ok for c in lsoa])
        outside = point & ~inside
        lsoa[outside] = None
        ll_out = outside & (located_by == "latlon")
        en_out = outside & (located_by == "bng")
        if ll_out.any():
            report.add_mask(frame, ll_out, cols["latitude"], "outside the area: check the "
                            "coordinate columns are not swapped", "drop incidents elsewhere",
                            values=frame[cols["latitude"]] + ", " + frame[cols["longitude"]])
        if en_out.any():
            report.add_mask(frame, en_out, cols["easting"], "outside the area: check the "
                            "coordinate columns are not swapped", "drop incidents elsewhere",
                            values=frame[cols["easting"]] + ", " + frame[cols["northing"]])
    if code_col is not None:
        text = frame[code_col].str.strip().str.upper()
        given = pending & (text != "").to_numpy()
        well = given & text.str.match(LSOA_RE.pattern).to_numpy()
        report.add_mask(frame, given & ~well, code_col,
                        "not an LSOA code (codes look like E01012345)")
        t = text.to_numpy()
        in21 = well & np.isin(t, list(codes_ok)) & (code_year != 2011)
        lsoa[in21] = t[in21]
        located_by[in21] = "lsoa21"
        rest = well & ~in21
        if rest.any():
            if lookup is None:
                lookup = load_code_lookup(DATA_DIR)
            mapped = np.array([lookup.largest_part.get(c) if c in lookup.codes11 else None
                               for c in t], dtype=object)
            is11 = rest & np.array([m is not None for m in mapped])
            if code_year == 2021:
                is11 &= ~np.isin(t, list(lookup.codes21))
            ok11 = is11 & np.array([m in codes_ok for m in mapped])
            lsoa[ok11] = mapped[ok11]
            located_by[ok11] = "lsoa11"
            known = np.isin(t, list(lookup.codes21)) | is11
            report.add_mask(frame, rest & known & ~ok11, code_col,
                            "LSOA outside the area", "drop incidents elsewhere")
            report.add_mask(frame, rest & ~known, code_col, "unknown LSOA code",
                            "check the code (2021 or 2011 LSOA codes)")
            if ok11.any():
                report.notes.append(f"{int(ok11.sum()):,} incident(s) located by a 2011 LSOA "
                                    "code, converted to 2021 (a split LSOA's incidents go to "
                                    "its part with the most households)")
        pending &= ~given
    no_loc = pending & ~(located_by != None)  # noqa: E711 (element-wise on an object array)
    loc_col = cols["latitude"] if has_ll else (cols["easting"] if has_en else code_col)
    report.add_mask(frame, no_loc, loc_col, "no location",
                    "give latitude/longitude, easting/northing or an LSOA code")

    source_col = cols["source"]
    src = frame[source_col].str.strip() if source_col else pd.Series("", index=frame.index)
    out = pd.DataFrame({
        "date": dates,
        "lsoa21_code": pd.Series(lsoa, index=frame.index, dtype=object),
        "located_by": pd.Series(located_by, index=frame.index, dtype=object),
        "offence": offence,
        "violence": is_violence(offence),
        "domestic": domestic,
        "knife": knife,
        "location_type": loc_type,
        "source": src,
    }, index=frame.index)
    report.rows_accepted = report.rows_read - report.rows_rejected
    report.enforce(share)
    out = out[~out.index.isin(list(report.rejected))].copy()
    synthetic = int(out["source"].str.upper().eq("SYNTHETIC").sum())
    if synthetic:
        report.notes.append(f"{synthetic:,} row(s) marked SYNTHETIC: demonstration data, not real "
                            "incidents")
    if len(out):
        report.notes.append(f"dates {out['date'].min():%Y-%m-%d} to {out['date'].max():%Y-%m-%d}")
    return out, report


def theme_masks(inc: pd.DataFrame) -> dict[str, pd.Series]:
    """Which incidents count for each theme (:data:`THEME_DEFINITIONS`), and all and violence.

    Returns
    -------
    dict
        ``incident``, ``violence``, ``knife``, ``domestic``, ``public_place`` -> boolean Series
        on ``inc``'s index: knife = knife flag; domestic = domestic flag and a violence offence;
        public_place = violence, not domestic, location type not dwelling. The one definition
        of the themes (the per-LSOA counts and the monthly trends both use it).
    """
    violence = inc["violence"].astype(bool)
    domestic = inc["domestic"].astype(bool)
    return {
        "incident": pd.Series(True, index=inc.index),
        "violence": violence,
        "knife": inc["knife"].astype(bool),
        "domestic": domestic & violence,
        "public_place": violence & ~domestic & (inc["location_type"] != "dwelling"),
    }


def theme_counts(incidents: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """Per-LSOA counts and rates per 1,000 residents for the three themes.

    Definitions (:data:`THEME_DEFINITIONS`): knife = knife flag; domestic = domestic flag and a
    violence offence; public_place = violence, not domestic, location type not dwelling. Rates
    are over the extract's whole period (not annualised): ``count / residents * 1000``.

    Parameters
    ----------
    incidents : DataFrame
        From :func:`load_incidents` (``lsoa21_code``, ``violence``, ``domestic``, ``knife``,
        ``location_type``).
    population : Series
        Residents by 2021 LSOA code (:func:`residents_lsoa21`); defines the rows.

    Returns
    -------
    DataFrame
        Indexed by ``lsoa21_code`` (every LSOA of ``population``, zeros included):
        ``residents``, ``incident_count``, ``violence_count``, ``knife_count``,
        ``domestic_count``, ``public_place_count`` (int) and ``<theme>_rate_per_1000`` (float; NaN
        where residents are 0).
    """
    pop = population.astype(float)
    inc = incidents[incidents["lsoa21_code"].isin(pop.index)]
    themes = theme_masks(inc)
    out = pd.DataFrame(index=pd.Index(pop.index, name="lsoa21_code"))
    out["residents"] = pop.to_numpy()
    for name, mask in themes.items():
        counts = inc.loc[mask.to_numpy(dtype=bool), "lsoa21_code"].value_counts()
        out[f"{name}_count"] = out.index.map(counts).fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        for theme in THEMES:
            rate = out[f"{theme}_count"] / out["residents"] * 1000.0
            out[f"{theme}_rate_per_1000"] = rate.where(out["residents"] > 0)
    return out


def theme_sources(incidents_name: str | None = None, *, synthetic: bool = False) -> dict[str, str]:
    """Say which source each theme layer uses, for metadata blocks and the app's legends.

    Parameters
    ----------
    incidents_name : str, optional
        Name of the loaded incident extract; ``None`` when the open proxies are in use.
    synthetic : bool
        The extract is the SYNTHETIC example (the text then says so).

    Returns
    -------
    dict
        ``{theme: description}`` for ``knife``, ``domestic`` and ``public_place``.
    """
    if incidents_name is None:
        return {theme: "open proxies: indicators tagged with the theme in the spec"
                for theme in THEMES}
    label = "SYNTHETIC example extract (not real data)" if synthetic else "partner extract"
    name = _safe_name(incidents_name)
    return {theme: f"{label} {name}: {THEME_DEFINITIONS[theme]}" for theme in THEMES}


def count_columns(counts: pd.DataFrame) -> list[str]:
    """Return the partner count columns of a :func:`theme_counts` table (the ones to suppress)."""
    return [c for c in counts.columns if c.endswith("_count")]


def export_theme_counts(
    counts: pd.DataFrame,
    *,
    threshold: int = 5,
    suppress_zero: bool = False,
    meta: Mapping[str, Any] | None = None,
    names: pd.Series | None = None,
) -> bytes:
    """Serialise per-LSOA theme counts as CSV, with small counts suppressed and cells made safe.

    Every count from 1 to ``threshold - 1`` becomes ``<5`` (with the default threshold) and
    every rate derived from it ``suppressed`` (:func:`profiler.disclosure.suppress`); every cell
    and header goes through :func:`profiler.export.neutralise`; a ``# key: value`` metadata block
    comes first, as in the other exports (read back with
    :func:`profiler.export.read_export_csv`).

    Parameters
    ----------
    counts : DataFrame
        From :func:`theme_counts` (indexed by ``lsoa21_code``).
    threshold : int
        Disclosure threshold (default 5).
    suppress_zero : bool
        Also hide zeros.
    meta : mapping, optional
        Extra metadata lines (e.g. the extract's name, :func:`theme_sources`).
    names : Series, optional
        LSOA names by code, added as a column.

    Returns
    -------
    bytes
        UTF-8 CSV.
    """
    from profiler.disclosure import check_threshold, display_frame, suppress
    from profiler.export import commented_csv, neutralise

    threshold = check_threshold(threshold)
    counted = count_columns(counts)
    hidden = suppress(counts, counted, threshold=threshold, suppress_zero=suppress_zero)
    shown = display_frame(hidden.drop(columns=["residents"], errors="ignore"), counted,
                          threshold=threshold)
    frame = pd.DataFrame({"lsoa21_code": counts.index.astype(str)}, index=counts.index)
    if names is not None:
        frame["lsoa21_name"] = counts.index.map(names).fillna("").astype(str)
    if "residents" in counts.columns:
        frame["residents"] = counts["residents"].round().astype("Int64").astype(str)
    frame = pd.concat([frame, shown], axis=1).reset_index(drop=True).map(neutralise)
    frame.columns = [neutralise(str(c)) for c in frame.columns]
    info = {
        "title": "Partner incident counts per 2021 LSOA",
        "disclosure": f"counts from 1 to {threshold - 1} shown as <{threshold}, and their rates "
                      f"as suppressed{'; zeros hidden too' if suppress_zero else '; 0 is shown'}",
        "rates": "per 1,000 residents (ONS mid-2020 estimates carried to 2021 LSOAs) over the "
                 "whole period of the extract, not annualised",
        "licence": PARTNER_LICENCE,
        **{f"theme {k}": v for k, v in THEME_DEFINITIONS.items()},
        **dict(meta or {}),
        "rows": len(frame),
    }
    # Metadata values may carry user text (the upload's name): neutralise them like cells.
    info = {neutralise(str(k)): neutralise(str(v)) for k, v in info.items()}
    return commented_csv(frame, info)
