"""Monthly series of serious violence and monitoring tables in the form partnership boards read.

A board reviews violence quarter by quarter in tables like "count | same period last year |
change | % change | three-year average | status", with a red/amber/green status by a ±5% rule.
This module computes those figures from monthly counts, for any set of 2021 LSOAs (one LSOA, a
district or ward, a home area), from one *source* at a time.

Sources are never added together
--------------------------------
``police.uk`` (street-level recorded crime, public) and ``partner`` (a partner's incident
extract) count different things (recorded crimes against incidents; different definitions and
coverage). Every count here carries its ``source`` and a function reads one source only: a
caller that wants both shows two series side by side, labelled.

Gaps are gaps
-------------
A month the source does not cover (police.uk: not imported for the force; partner: outside the
extract's dates) is a **gap**: NaN in a series and ``None`` in a table, never zero. A period sum
over a gap is not computed ("months missing: ..."), so a board never reads a partial quarter as
a fall. A covered month with no incident in the LSOAs is a real zero.

Measures
--------
:data:`MEASURES` declares each measure once with its source. police.uk can tell the four
serious-violence crime types (:data:`profiler.observed.SV_TYPES`) and their total; it cannot tell
the themes (knife, domestic, public place: police.uk carries no flags or location type), so those
are partner measures only (:data:`THEME_MEASURES`), with the definitions of
:func:`profiler.partner.theme_masks`.

Periods
-------
For an end month ``YYYY-MM`` (:data:`PERIODS`): ``month`` (that month); ``quarter`` (the UK
financial quarter holding it, April-June, July-September, October-December, January-March, up to
that month); ``fytd`` (financial year to date: from the April that starts the UK financial year,
April-March); ``rolling12`` (the twelve months ending with it). The **same period last year** is
every month twelve months earlier. The **three-year average** is the mean count of the period
in the three years ending with this one (this year and the two before): with fewer than three
full years of the period covered it is "not enough history".

Status (the ±5% rule)
---------------------
Status compares the count with the same period last year: **Red** when it is up by more than
``rag_pct`` percent, **Green** when down by more than ``rag_pct`` percent, **Amber** otherwise
(:data:`DEFAULT_RAG_PCT` = 5, the rule of North Warwickshire's quarterly performance report;
the dashboard's ``SVRP_TREND_RAG_PCT`` setting changes it). No status is given, and the row says
why, when either count is under the disclosure threshold (too few to call, and for partner data
hidden), when last year is not covered, or when last year's count is 0 (no percentage).

Recording changes
-----------------
Police-recorded counts move when the Home Office Counting Rules change. :data:`RECORDING_CHANGES`
declares the known changes affecting police.uk's "Violence and sexual offences" once, with their
month and a plain-words note; :func:`recording_notes` names those a compared span crosses.

Rates are per 1,000 residents, with the one denominator the backtest uses: residents per 2021
LSOA from :func:`profiler.partner.residents_lsoa21` (ONS mid-2020, carried to 2021 LSOAs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError
from profiler.observed import PER, SV_TYPES

SOURCES: dict[str, str] = {
    "police.uk": "police.uk street-level recorded crime (public)",
    "partner": "partner incident extract",
}


@dataclass(frozen=True)
class Measure:
    """One monitored count: its id, label, source and (police.uk) the crime types it sums."""

    id: str
    label: str
    source: str
    crime_types: tuple[str, ...] = ()


MEASURES: dict[str, Measure] = {m.id: m for m in (
    Measure("sv_all", "Serious violence (4 police.uk types)", "police.uk", SV_TYPES),
    Measure("violence_sexual", "Violence and sexual offences", "police.uk",
            ("Violence and sexual offences",)),
    Measure("robbery", "Robbery", "police.uk", ("Robbery",)),
    Measure("weapons", "Possession of weapons", "police.uk", ("Possession of weapons",)),
    Measure("public_order", "Public order", "police.uk", ("Public order",)),
    Measure("violence", "Violence (all)", "partner"),
    Measure("knife", "Knife crime", "partner"),
    Measure("domestic", "Domestic violence", "partner"),
    Measure("public_place", "Public-place violence", "partner"),
    Measure("incident", "All incidents in the extract", "partner"),
)}
#: The themes each source can tell (police.uk: none; see the module docstring).
THEME_MEASURES: dict[str, tuple[str, ...]] = {
    "police.uk": (),
    "partner": ("knife", "domestic", "public_place"),
}
PERIODS: tuple[str, ...] = ("month", "quarter", "fytd", "rolling12")
PERIOD_LABELS: dict[str, str] = {
    "month": "Month",
    "quarter": "Quarter (financial, to date)",
    "fytd": "Financial year to date (April-March)",
    "rolling12": "Rolling 12 months",
}
DEFAULT_RAG_PCT = 5.0
STATUSES: tuple[str, ...] = ("Red", "Amber", "Green")
AVERAGE_YEARS = 3
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class RecordingChange:
    """A change to how police record crime that moves a series: from ``month`` on."""

    month: str
    crime_types: tuple[str, ...]
    note: str
    source: str


RECORDING_CHANGES: tuple[RecordingChange, ...] = (
    RecordingChange(
        "2018-04", ("Violence and sexual offences",),
        "Home Office Counting Rules from April 2018: a course of conduct amounting to stalking, "
        "harassment or controlling or coercive behaviour is recorded in addition to the most "
        "serious other offence against the same victim, so violence counts rose",
        "Home Office, police recorded crime appendix tables, Table A4 notes (stalking and "
        "harassment)",
    ),
    RecordingChange(
        "2023-05", ("Violence and sexual offences",),
        "Home Office Counting Rules from May 2023 for 'conduct crimes': stalking, harassment "
        "(including malicious communications) and controlling or coercive behaviour reported "
        "with a more serious offence are no longer counted as well (the principal crime rule), "
        "so violence counts fell without any fall in harm",
        "ONS, Crime in England and Wales: year ending March 2024 (section 'Stalking and "
        "harassment')",
    ),
)


# -- months ---------------------------------------------------------------------------------
def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_month(month: object, what: str = "month") -> str:
    """Return ``month`` if it is ``YYYY-MM`` (raise :class:`ProfilerError` naming it otherwise)."""
    text = str(month)
    if not (isinstance(month, str) and len(text) == 7 and text[4] == "-" and text[:4].isdigit()
            and text[5:].isdigit() and 1 <= int(text[5:]) <= 12):
        raise ProfilerError(f"{what}: got {text[:20]!r}; give a month as YYYY-MM, e.g. 2022-10")
    return text


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` is before)."""
    return [_month(i) for i in range(_index(first), _index(last) + 1)]


def shift(months: Sequence[str], years: int) -> list[str]:
    """``months`` moved ``years`` years back (positive) or forward (negative)."""
    return [_month(_index(m) - 12 * years) for m in months]


def month_label(month: str) -> str:
    """``Oct 2022``."""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def financial_year(month: str) -> str:
    """Return the UK financial year holding ``month``: ``2022/23`` for 2022-04 .. 2023-03."""
    start = int(month[:4]) - (int(month[5:7]) < 4)
    return f"{start}/{(start + 1) % 100:02d}"


def period_months(kind: str, end: str) -> list[str]:
    """Return the months of a ``kind`` period (:data:`PERIODS`) ending with ``end``, in order."""
    end = check_month(end, "end month")
    if kind not in PERIODS:
        raise ProfilerError(f"period {str(kind)[:20]!r}: use one of {', '.join(PERIODS)}")
    i = _index(end)
    if kind == "month":
        return [end]
    if kind == "rolling12":
        return [_month(j) for j in range(i - 11, i + 1)]
    # financial months count from April: April is 0
    fin = (i - 3) % 12
    start = i - (fin % 3 if kind == "quarter" else fin)
    return [_month(j) for j in range(start, i + 1)]


def period_label(kind: str, end: str) -> str:
    """How a table names a period: ``FYTD 2022/23 (Apr-Oct 2022)``, ``Q3 2022/23 (Oct 2022)``."""
    months = period_months(kind, end)
    span = month_span(months)
    if kind == "month":
        return span
    if kind == "rolling12":
        return f"12 months to {month_label(end)} ({span})"
    fy = financial_year(end)
    if kind == "fytd":
        return f"FYTD {fy} ({span})"
    quarter = (_index(end) - 3) % 12 // 3 + 1
    full = len(months) == 3
    return f"Q{quarter} {fy} ({span}{'' if full else ', to date'})"


def month_span(months: Sequence[str]) -> str:
    """``Apr-Oct 2022``, ``Dec 2021-Feb 2022``, ``Oct 2022``."""
    if not months:
        return ""
    first, last = months[0], months[-1]
    if first == last:
        return month_label(first)
    if first[:4] == last[:4]:
        return f"{MONTH_NAMES[int(first[5:]) - 1]}-{month_label(last)}"
    return f"{month_label(first)}-{month_label(last)}"


def gaps_text(months: Iterable[str]) -> str:
    """Missing months as runs: ``Mar 2019-Dec 2023, Jun 2024``."""
    ordered = sorted(set(months))
    runs: list[list[str]] = []
    for m in ordered:
        if runs and _index(m) - _index(runs[-1][-1]) == 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(month_span([r[0], r[-1]]) for r in runs)


# -- monthly counts -------------------------------------------------------------------------
COUNT_COLUMNS = ("lsoa21_code", "month", "measure", "count")


def police_monthly(incidents: pd.DataFrame) -> pd.DataFrame:
    """Monthly counts of the police.uk measures per 2021 LSOA.

    Parameters
    ----------
    incidents : DataFrame
        One row per record with ``lsoa21_code``, ``month`` (``YYYY-MM``) and ``crime_type``
        (the shape of :func:`profiler.police.load_incidents`; other crime types are ignored).

    Returns
    -------
    DataFrame
        ``lsoa21_code``, ``month``, ``measure`` (str) and ``count`` (int64), only non-zero
        combinations, sorted by the three keys.
    """
    frame = pd.DataFrame({
        "lsoa21_code": incidents["lsoa21_code"].astype(str).to_numpy(),
        "month": incidents["month"].astype(str).to_numpy(),
        "crime_type": incidents["crime_type"].astype(str).to_numpy(),
    })
    parts = []
    for m in MEASURES.values():
        if m.source == "police.uk":
            parts.append(frame.loc[frame["crime_type"].isin(m.crime_types),
                                   ["lsoa21_code", "month"]].assign(measure=m.id))
    return _tally(parts)


def partner_monthly(incidents: pd.DataFrame) -> pd.DataFrame:
    """Monthly counts of the partner measures per 2021 LSOA.

    Parameters
    ----------
    incidents : DataFrame
        From :func:`profiler.partner.load_incidents` (``date``, ``lsoa21_code``, ``violence``,
        ``domestic``, ``knife``, ``location_type``).

    Returns
    -------
    DataFrame
        As :func:`police_monthly`.
    """
    from profiler.partner import theme_masks

    month = pd.to_datetime(incidents["date"]).dt.strftime("%Y-%m")
    base = pd.DataFrame({"lsoa21_code": incidents["lsoa21_code"].astype(str).to_numpy(),
                         "month": month.to_numpy()})
    parts = [base[np.asarray(mask, dtype=bool)].assign(measure=name)
             for name, mask in theme_masks(incidents).items()]
    return _tally(parts)


def _tally(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "count" else object)
                             for c in COUNT_COLUMNS})
    long = pd.concat(parts, ignore_index=True)
    keys = ["lsoa21_code", "month", "measure"]
    out = long.groupby(keys).size().rename("count").reset_index()
    out["count"] = out["count"].astype("int64")
    return out.sort_values(keys, ignore_index=True)


def partner_covered(dates: pd.Series) -> tuple[str, ...]:
    """Months an extract covers: every month from its first date's to its last date's."""
    if not len(dates):
        return ()
    d = pd.to_datetime(dates)
    return tuple(month_range(d.min().strftime("%Y-%m"), d.max().strftime("%Y-%m")))


@dataclass(frozen=True)
class Trends:
    """Monthly counts of one source, the months it covers, and the residents per LSOA.

    Parameters
    ----------
    source : {"police.uk", "partner"}
    counts : DataFrame
        From :func:`police_monthly` or :func:`partner_monthly`.
    covered : sequence of str
        The months the source covers (police.uk: imported; partner: the extract's span). Any
        other month is a gap.
    residents : Series
        Residents by 2021 LSOA code (:func:`profiler.partner.residents_lsoa21`).
    name : str
        What the source is called in a table (e.g. the extract's file name).
    """

    source: str
    counts: pd.DataFrame
    covered: tuple[str, ...]
    residents: pd.Series = field(repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ProfilerError(f"trends: source {self.source!r}; use one of "
                                f"{', '.join(SOURCES)}")
        missing = [c for c in COUNT_COLUMNS if c not in self.counts.columns]
        if missing:
            raise ProfilerError(f"trends: counts lack column(s) {', '.join(missing)}; build them "
                                "with police_monthly or partner_monthly")
        object.__setattr__(self, "covered", tuple(sorted(set(map(str, self.covered)))))
        # one index lookup per call, not a scan of the frame
        object.__setattr__(self, "_by", self.counts.set_index(["measure", "lsoa21_code"])
                           .sort_index())

    @property
    def measures(self) -> list[str]:
        """The measures this source has, in :data:`MEASURES` order."""
        return [m for m, v in MEASURES.items() if v.source == self.source]

    @property
    def label(self) -> str:
        """``police.uk`` or ``partner: <name>``."""
        return self.source if self.source == "police.uk" or not self.name \
            else f"{self.source}: {self.name}"

    def _check(self, measure: str) -> None:
        if measure not in MEASURES or MEASURES[measure].source != self.source:
            raise ProfilerError(f"trends: measure {str(measure)[:30]!r} is not a {self.source} "
                                f"measure; use one of {', '.join(self.measures)}")

    def span(self) -> list[str]:
        """Every month from the first covered to the last (gaps included)."""
        return month_range(self.covered[0], self.covered[-1]) if self.covered else []

    def month_counts(self, codes: Iterable[str], measure: str) -> pd.Series:
        """Return counts per month over ``codes`` for every month of :meth:`span`; NaN for gaps."""
        self._check(measure)
        codes = list(dict.fromkeys(map(str, codes)))
        span = self.span()
        out = pd.Series(np.nan, index=pd.Index(span, name="month"), name="count")
        if not span:
            return out
        out[list(self.covered)] = 0.0
        try:
            rows = self._by.loc[measure]
        except KeyError:
            return out
        rows = rows[rows.index.isin(codes)]
        sums = rows.groupby("month")["count"].sum()
        sums = sums[sums.index.isin(self.covered)]
        out[sums.index] = sums.to_numpy(dtype=float)
        return out

    def series(self, codes: Iterable[str], measure: str) -> pd.DataFrame:
        """Monthly series over ``codes``: ``count`` (NaN for gaps) and ``rate_per_1000``.

        Returns
        -------
        DataFrame
            Indexed by month (``YYYY-MM``, every month of :meth:`span`), with ``count``,
            ``residents`` and ``rate_per_1000`` (NaN where the count is a gap or no residents).
        """
        codes = list(dict.fromkeys(map(str, codes)))
        counts = self.month_counts(codes, measure)
        residents = float(self.residents.reindex(codes).fillna(0).sum())
        out = counts.to_frame()
        out["residents"] = residents
        out["rate_per_1000"] = counts / residents * PER if residents > 0 else np.nan
        return out

    def lsoa_matrix(self, codes: Sequence[str], measure: str) -> pd.DataFrame:
        """Return counts per LSOA (rows, in ``codes`` order) by month; NaN columns for gaps."""
        self._check(measure)
        codes = [str(c) for c in codes]
        span = self.span()
        out = pd.DataFrame(np.nan, index=pd.Index(codes, name="lsoa21_code"), columns=span)
        if not span:
            return out
        out[list(self.covered)] = 0.0
        try:
            rows = self._by.loc[measure]
        except KeyError:
            return out
        rows = rows[rows.index.isin(codes) & rows["month"].isin(self.covered).to_numpy()]
        if len(rows):
            wide = rows.reset_index().pivot_table(index="lsoa21_code", columns="month",
                                                  values="count", aggfunc="sum")
            out.loc[wide.index, wide.columns] = wide.fillna(0).to_numpy(dtype=float)
        return out

    def total(self, codes: Iterable[str], measure: str, months: Sequence[str]) -> float | None:
        """Return the count over ``months``, or None when any of them is a gap."""
        if not months or any(m not in self.covered for m in months):
            return None
        counts = self.month_counts(codes, measure)
        return float(counts.reindex(list(months)).sum())

    def missing(self, months: Sequence[str]) -> list[str]:
        """Return the months of ``months`` this source does not cover."""
        have = set(self.covered)
        return [m for m in months if m not in have]


def recording_notes(measure: str, months: Iterable[str]) -> list[RecordingChange]:
    """Return the :data:`RECORDING_CHANGES` a span of ``months`` of ``measure`` crosses."""
    m = MEASURES.get(measure)
    months = sorted(set(months))
    if m is None or m.source != "police.uk" or not months:
        return []
    return [c for c in RECORDING_CHANGES
            if set(c.crime_types) & set(m.crime_types) and months[0] < c.month <= months[-1]]


# -- monitoring tables ----------------------------------------------------------------------
def rag_status(count: float, last_year: float, rag_pct: float = DEFAULT_RAG_PCT) -> str:
    """Red (up by more than ``rag_pct`` %), Green (down by more), Amber (within)."""
    pct = (count - last_year) / last_year * 100.0
    if pct > rag_pct:
        return "Red"
    if pct < -rag_pct:
        return "Green"
    return "Amber"


def check_rag_pct(value: object) -> float:
    """Validate a ±% status threshold (a number from 0 to 100)."""
    ok = (not isinstance(value, bool) and isinstance(value, int | float)
          and math.isfinite(value) and 0 <= value <= 100)
    if not ok:
        raise ProfilerError(f"status threshold: got {value!r}; give a percentage from 0 to 100 "
                            f"(default {DEFAULT_RAG_PCT:g}: up more than 5% is Red)")
    return float(value)


ROW_KEYS = ("source", "measure", "label", "period", "months", "count", "rate_per_1000",
            "last_year", "change", "pct_change", "average_3y", "pct_vs_average", "status", "why",
            "why_average", "years", "recording")


def monitoring_rows(
    trends: Trends,
    codes: Iterable[str],
    kind: str,
    end: str,
    measures: Sequence[str] | None = None,
    *,
    threshold: int = 5,
    rag_pct: float = DEFAULT_RAG_PCT,
) -> list[dict]:
    """One monitoring-table row per measure for the period ``kind`` ending ``end``.

    Parameters
    ----------
    trends : Trends
        One source's counts.
    codes : iterable of str
        The 2021 LSOAs the row covers (an LSOA, a district or ward, a home area).
    kind : {"month", "quarter", "fytd", "rolling12"}
    end : str
        The period's last month, ``YYYY-MM``.
    measures : sequence of str, optional
        Default: every measure of the source.
    threshold : int
        Disclosure threshold: no status when a count is from 1 to ``threshold - 1``.
    rag_pct : float
        The ± percentage of the status rule.

    Returns
    -------
    list of dict
        Keys :data:`ROW_KEYS`: ``count``, ``last_year``, ``change``, ``pct_change`` (rounded to
        one decimal), ``average_3y``, ``pct_vs_average``, ``rate_per_1000`` (None when not
        computable); ``status`` (Red/Amber/Green or None); ``why`` (plain words when a figure
        or the status is missing; empty otherwise); ``why_average`` (why no three-year
        average); ``years`` (this period's count in this year and the two before, None where
        not covered: the terms of the average); ``recording`` (the months of the
        :data:`RECORDING_CHANGES` that lie between the figures compared).
    """
    from profiler.disclosure import check_threshold

    threshold = check_threshold(threshold)
    rag_pct = check_rag_pct(rag_pct)
    codes = list(dict.fromkeys(map(str, codes)))
    months = period_months(kind, end)
    ly_months = shift(months, 1)
    residents = float(trends.residents.reindex(codes).fillna(0).sum())
    rows = []
    for measure in (measures if measures is not None else trends.measures):
        trends._check(measure)
        counts = trends.month_counts(codes, measure)

        def total(ms: list[str], counts=counts) -> float | None:
            if any(m not in trends.covered for m in ms):
                return None
            return float(counts.reindex(ms).sum())

        count = total(months)
        last = total(ly_months)
        years = [total(shift(months, k)) for k in range(AVERAGE_YEARS)]
        why: list[str] = []
        row = dict.fromkeys(ROW_KEYS)
        row.update(source=trends.source, measure=measure, label=MEASURES[measure].label,
                   period=period_label(kind, end), months=month_span(months), why="",
                   why_average="", recording=[])
        if count is None:
            why.append(f"months not covered by {trends.source}: "
                       f"{gaps_text(trends.missing(months))}")
        else:
            row["count"] = int(count)
            row["rate_per_1000"] = round(count / residents * PER, 2) if residents > 0 else None
        if last is None:
            why.append("no same period last year: "
                       f"{gaps_text(trends.missing(ly_months))} not covered")
        else:
            row["last_year"] = int(last)
        row["years"] = [None if y is None else int(y) for y in years]
        if all(y is not None for y in years):
            row["average_3y"] = round(sum(years) / AVERAGE_YEARS, 1)
        else:
            gone = [m for k in range(AVERAGE_YEARS) for m in trends.missing(shift(months, k))]
            row["why_average"] = ("not enough history: three years of this period needed; "
                                  f"{gaps_text(gone)} not covered")
        if count is not None and last is not None:
            row["change"] = int(count - last)
            if last > 0:
                row["pct_change"] = round((count - last) / last * 100.0, 1)
            small = [c for c in (count, last) if 0 < c < threshold]
            if small:
                why.append(f"no status: a count under {threshold} is too few to call")
            elif last == 0:
                why.append("no status: none last year, so no percentage change")
            else:
                row["status"] = rag_status(count, last, rag_pct)
        if count is not None and row["average_3y"]:
            row["pct_vs_average"] = round((count - row["average_3y"]) / row["average_3y"] * 100, 1)
        # only spans whose figures are shown side by side: a change between this period and a
        # year with no figure compares nothing
        compared = (months if count is not None else []) \
            + (ly_months if last is not None else []) \
            + ([m for k in range(AVERAGE_YEARS) for m in shift(months, k)]
               if row["average_3y"] is not None else [])
        row["recording"] = [c.month for c in recording_notes(measure, compared)]
        row["why"] = "; ".join(why)
        rows.append(row)
    return rows


def latest_end(trends: Trends) -> str | None:
    """Return the last covered month: the default end of a period."""
    return trends.covered[-1] if trends.covered else None


def residents_of(residents: pd.Series, groups: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Residents of each group of LSOAs (a missing LSOA counts 0)."""
    return {k: float(residents.reindex(list(v)).fillna(0).sum()) for k, v in groups.items()}


__all__ = [
    "MEASURES", "THEME_MEASURES", "PERIODS", "PERIOD_LABELS", "RECORDING_CHANGES", "SOURCES",
    "DEFAULT_RAG_PCT", "Trends", "police_monthly", "partner_monthly", "partner_covered",
    "period_months", "period_label", "monitoring_rows", "rag_status", "recording_notes",
    "shift", "month_range", "gaps_text", "month_span", "month_label",
]
