"""Change over time: the risk profile in IoD2019 beside IoD2025, and police.uk counts then and now.

``python -m profiler change`` writes ``data/indicators/change_<area>.csv`` for a county (the
default area's is shipped): one row per 2021 LSOA with its score, rank and band in each
edition, how far its band moved,
how its 2019 figures were carried onto 2021 boundaries, and police.uk counts for the winter of
2018-19 beside January-April 2024.

What the comparison can and cannot tell you
-------------------------------------------
Read a band that "rose" as "this area now stands higher *relative to the rest of the area* on the
measures both editions share", not as "risk went up by this much". In plain words:

* **Different years.** The Indices of Deprivation 2019 describe roughly 2015-2017 (benefit
  claimants in 2015-16, mid-2015 populations, Census 2011 housing); the 2025 edition describes
  roughly 2021-2023 (benefits around 2022, Census 2021). Changes in the benefit system between
  them (Universal Credit replacing older benefits) alter who is counted as income- or
  employment-deprived: IoD2025 counts 23% of people in England as income-deprived, IoD2019 13%.
  So some movement reflects the benefit rules, not people's lives.
* **Fewer measures than the full profile.** The crime rates in the 13-indicator profile were
  not published for each area in IoD2019, so they are left out of *both* sides. The comparison
  uses only the six deprivation measures both editions share (income, children in
  income-deprived families, children's education, employment, mental health, overcrowding),
  with the spec's weights. Its bands are therefore not the dashboard's current bands: an area can
  be High in today's full profile and Medium in this comparison. Crime change is shown separately
  from police.uk counts.
* **Measures that changed definition.** Children's education is compared by each area's
  position in England (IoD2019 published only ranks for this sub-domain). Overcrowding is compared
  on the rooms-based measure (the one IoD2019 used), not the bedroom-standard one in today's
  profile. The mental health indicator was renamed and rebuilt from updated health records.
  Homelessness is left out: it is a district-wide figure and the law behind it changed in 2018.
* **Boundaries changed in 2021.** The 2019 figures are for 2011 areas. In England 31,810 areas
  are unchanged, 834 were split into 1,842 new areas and 194 merged into 97; each piece of a
  split area is given the figures of the whole old area it came from (``carried_from_2011`` =
  ``S``), so split pieces cannot show their own 2019 differences.
* **Scores are relative.** Each edition is scored against the area as it was then (mean 0,
  bands by standard deviations), so when every area improves equally nothing changes band.
* **police.uk locations are approximate.** Each crime is moved to the centre of a nearby street
  or public place before publication, so counts near a boundary can fall in the neighbouring area.
* **Recording practice changed.** Police recording of violence (especially violence without
  injury, stalking, harassment and public order) rose sharply after the 2014 national inspection
  of crime recording, and the Home Office counting rules changed again in 2023 (a stalking or
  harassment offence alongside a more serious one is no longer counted separately, which lowers
  2024 "violence and sexual offences" counts). A change in recorded crime is partly a change in
  recording, not only in offending.
* **Short windows and small numbers.** Only 5 winter months of 2018-19 and 4 months of 2024 are
  available; January and February are in both, so those are compared like for like. Per-month
  averages over the full windows mix different seasons. Counts below 5 are flagged and get no
  percentage change.

Method
------
IoD2019 values (2011 LSOAs) are carried to 2021 LSOAs with the ONS lookup: unchanged (``U``) and
split (``S``) areas copy the 2011 value (the measures are rates or scores, so each piece of a
split area inherits the whole area's rate); merged (``M``) areas take the mean of the old
areas' values weighted by their IoD2019 population denominators (total, children 0-15 or
working-age, as the measure's denominator); complex changes (``X``) take the same weighted mean
over every 2011 area the lookup links them to, each old area's weight shared among its new
pieces in proportion to their Census 2021 households. Each edition is then scored with the
existing engine (:class:`profiler.engine.RiskProfiler`): the 2019 profile is fitted on the
county's 2011 LSOAs and applied to the carried values, the 2025 profile is fitted on its 2021
LSOAs, both with the spec's normalisation and banding. Any other area works the same way
(:func:`area_change_table`, or :func:`profiler.derived.area_change`): its 2021 LSOAs are the
2025 reference and the 2011 LSOAs the lookup links to them the 2019 reference, so no 2011
boundaries are needed. police.uk counts need both windows' records, shipped in
``data/sources/police_uk/`` for some forces (:func:`police_coverage`); elsewhere those columns
are blank.

police.uk records are placed in 2021 LSOAs from the LSOA code each record carries (police.uk
assigns it from the snapped point with full-resolution boundaries): 2024 records carry 2021
codes; 2018-19 records carry 2011 codes, used directly when the 2011 area was unchanged. Only for
2018-19 records in a 2011 area that was later split is the point located in one of the new
pieces, by point-in-polygon on the 2021 boundaries (the nearest piece when the snapped point
falls just outside them, as generalised boundaries can make it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.special import ndtri

from profiler.area import DEFAULT_AREA
from profiler.build import IDACI_SUPPRESSED_VALUE, _read, slug, write_table
from profiler.codes import LSOA21_RE, lsoa11_shares
from profiler.engine import BANDS, RiskProfiler, band_index
from profiler.errors import ProfilerError
from profiler.spec import Spec

# 2011 -> 2021 change codes, strongest last: a 2021 LSOA with links of several kinds reports the
# strongest.
CHANGE_CODES = ("U", "S", "M", "X")
# File 6 population denominators (mid-2015, excluding prisoners), renamed.
DENOMINATORS_2019 = {
    "Total population: mid 2015 (excluding prisoners)": "population",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)": "children_0_15",
    "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners)": "working_age",
}
# IoD numerators are rounded to 5 and left blank below 10 in both editions; a blank is taken as
# 5, the middle of 0-9, as the build does for IoD2025.
NUMERATOR_SUPPRESSED_VALUE = IDACI_SUPPRESSED_VALUE


@dataclass(frozen=True)
class SharedIndicator:
    """How one spec indicator is measured in each edition for the comparison.

    Parameters
    ----------
    iod2019 : str
        Column of the IoD2019 2011-LSOA sources (File 8 underlying indicators or File 4
        sub-domains).
    iod2025 : str
        Column of the 2021 indicator table or of the IoD2025 sources.
    how : {"value", "rate", "rank"}
        ``value``: the column as published, in both editions. ``rate``: IoD2019 numerator over
        the File 6 ``denominator`` (times ``scale``), IoD2025 the table's rate. ``rank``: both
        editions' England rank (1 = most deprived) turned into a normal score (higher = more
        deprived), which reproduces the published sub-domain scores (r = 0.999 for IoD2025).
    denominator : {"population", "children_0_15", "working_age"}
        IoD2019 population the rate is per, and the weight when 2011 areas merge.
    caveat : str
        What differs between the editions, in plain words.
    scale : float
        Multiplier of a ``rate`` (100 for a percentage).
    """

    iod2019: str
    iod2025: str
    how: str
    denominator: str
    caveat: str
    scale: float = 1.0


# The one place that says which spec indicators the two editions share and how each is measured.
SHARED_INDICATORS: dict[str, SharedIndicator] = {
    "income_deprivation": SharedIndicator(
        iod2019="income_domain_numerator", iod2025="income_deprivation_rate", how="rate",
        denominator="population",
        caveat="Income domain numerator over population in both, but IoD2025 counts more "
               "people (Universal Credit claimants, including some in work): England mean "
               "12.8% in 2019, 22.9% in 2025. Compared by position within the county.",
    ),
    "children_income_deprived": SharedIndicator(
        iod2019="income_deprivation_affecting_children_index_idaci_numerator",
        iod2025="children_income_deprived_pct", how="rate", denominator="children_0_15",
        scale=100.0,
        caveat="IDACI numerator over children 0-15: mid-2015 children (IoD2019 File 6) for "
               "2019, ONS mid-2020 children for 2025; blank numerators (under 10) taken as 5 "
               "(4,553 of England's 32,844 areas in 2019, 815 of 33,755 in 2025). "
               "Universal Credit widened the count: England mean 15.6% in 2019, 33.0% in 2025.",
    ),
    "cyp_education": SharedIndicator(
        iod2019="Children_and_young_people_rank", iod2025="children_and_young_people_rank",
        how="rank", denominator="children_0_15",
        caveat="IoD2019 published only ranks for this sub-domain: both editions use the area's "
               "England rank as a normal score; the 2025 indicators add absence.",
    ),
    "employment_deprivation": SharedIndicator(
        iod2019="employment_domain_numerator", iod2025="employment_deprivation_rate",
        how="rate", denominator="working_age",
        caveat="Employment domain numerator over working-age population in both; benefit "
               "rules changed between editions (England mean 10.0% in 2019, 13.4% in 2025).",
    ),
    "mental_health": SharedIndicator(
        iod2019="mood_and_anxiety_disorders_indicator", iod2025="mental_health_score",
        how="value", denominator="population",
        caveat="IoD2019 'mood and anxiety disorders' indicator, renamed 'mental health' in "
               "IoD2025; both standardised scores from prescribing, hospital episodes, suicides "
               "and health benefits.",
    ),
    "overcrowding": SharedIndicator(
        iod2019="household_overcrowding_indicator",
        iod2025="household_overcrowding_indicator_rooms", how="value",
        denominator="population",
        caveat="Rooms-based overcrowding in both editions (Census 2011 vs Census 2021), not the "
               "bedroom standard of the full profile; merged areas weighted by population "
               "because 2011 household counts are not shipped.",
    ),
}
# Spec indicators left out of both sides of the comparison, and why.
DROPPED_INDICATORS: dict[str, str] = {
    **{
        i: "No IoD2019 equivalent: the 2019 crime-domain indicators were not published for "
           "each LSOA (only the crime domain rank was)."
        for i in ("violence_with_injury", "violence_without_injury", "stalking_harassment",
                  "public_order_weapons", "anti_social_behaviour", "criminal_damage")
    },
    **{
        i: "Recent police.uk violence, not an IoD indicator: the change table compares "
           "police.uk counts then and now in its own columns."
        for i in ("observed_violence_count", "observed_violence_rate")
    },
    "homelessness": "A district-wide figure in both editions (one value for every LSOA of a "
                    "district), and its definition changed with the Homelessness Reduction Act "
                    "2017 (acceptances in 2019, households owed a duty in 2025).",
}

POLICE_WINDOWS: dict[str, tuple[str, ...]] = {
    "2018_19": ("2018-10", "2018-11", "2018-12", "2019-01", "2019-02"),
    "2024": ("2024-01", "2024-02", "2024-03", "2024-04"),
}
# The LSOA code vintage police.uk used in each window's files.
POLICE_CODE_VINTAGE = {"2018_19": "2011", "2024": "2021"}
POLICE_TYPES = ("Violence and sexual offences", "Possession of weapons", "Robbery",
                "Public order")
SMALL_COUNT = 5
# The caveats of comparing editions, in plain words, for the district pages and the methodology
# (the module docstring gives the detail): (short title, sentence).
CAVEATS: tuple[tuple[str, str], ...] = (
    ("Relative, not absolute.",
     "A band that rose means the area now ranks higher within its home area than it did, on "
     "the same measures; it does not say by how much need or risk went up. If every area "
     "improved equally, no band would change."),
    ("Different years and benefit rules.",
     "IoD2019 describes roughly 2015-17 and IoD2025 roughly 2021-23. Universal Credit changed "
     "who is counted as income- or employment-deprived (23% of people in England in IoD2025, "
     "13% in IoD2019), so some movement reflects benefit rules rather than people's lives."),
    ("Six measures, not thirteen.",
     "Only the six deprivation measures both editions publish for every area are compared "
     "(income, children in income-deprived families, children's education, employment, mental "
     "health, overcrowding). These bands are not the profile's current 13-indicator bands: an "
     "area can be High today and Medium in this comparison."),
    ("Some measures changed definition.",
     "Children's education is compared by each area's position in England, overcrowding on "
     "the rooms-based measure, and the mental health measure was rebuilt from updated health "
     "records."),
    ("Boundaries changed in 2021.",
     "An area split in 2021 carries the whole old area's 2019 figures, so its pieces cannot "
     "show their own 2019 differences."),
    ("police.uk counts are a rough guide.",
     "Only January and February are in both periods (2019 and 2024), so only they are "
     "compared. Locations are moved to a nearby street before publication; recording of "
     "violence rose after 2014 and counting rules changed in 2023 (lowering 2024 violence "
     "counts); counts under 5 are too small to read as a trend."),
)

IDENTITY = ("lsoa21_code", "lsoa21_name", "msoa21_hcl_name", "lad24_code", "lad24_name")


# -- editions -------------------------------------------------------------------------------
def comparison_spec(spec: Spec) -> Spec:
    """Restrict the spec to the indicators both editions share, keeping their weights.

    Parameters
    ----------
    spec : Spec
        The full spec.

    Returns
    -------
    Spec
        The shared indicators in spec order, reading the spec's columns.

    Raises
    ------
    ProfilerError
        If the spec has none of the shared indicators.
    """
    kept = tuple(ind for ind in spec.indicators if ind.id in SHARED_INDICATORS)
    if not kept:
        raise ProfilerError(
            f"{spec.source}: no indicator the two editions share; change over time needs at "
            f"least one of {', '.join(SHARED_INDICATORS)}"
        )
    return replace(spec, indicators=kept)


def _rank_normal(rank: pd.Series, n: int) -> pd.Series:
    """Turn an England rank (1 = most deprived) into a normal score (higher = more deprived)."""
    return pd.Series(ndtri((n - rank.to_numpy(dtype=float) + 0.5) / n), index=rank.index)


def iod2019_values(data_dir: Path, spec: Spec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """IoD2019 values of the shared indicators on 2011 LSOAs, with their merge weights.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/``.
    spec : Spec
        Spec whose shared indicators to build (columns are named as in the spec).

    Returns
    -------
    values : DataFrame
        Indexed by ``lsoa11_code`` (every English 2011 LSOA), one column per shared indicator.
    weights : DataFrame
        Same shape: each indicator's IoD2019 population denominator, used when areas merge.
    """
    data_dir = Path(data_dir)
    under = _read(data_dir, "iod2019_lsoa11_underlying_indicators.csv.gz").set_index(
        "lsoa11_code")
    subdomains = _read(data_dir, "iod2019_lsoa11_subdomains_ranks_deciles.csv.gz").set_index(
        "lsoa11_code")
    denominators = _read(data_dir, "iod2019_lsoa11_file6_population_denominators.csv.gz")
    denominators = denominators.set_index("LSOA code (2011)")[list(DENOMINATORS_2019)]
    denominators = denominators.rename(columns=DENOMINATORS_2019).astype(float)
    source = under.join(subdomains, how="inner").join(denominators, how="inner")
    values, weights = {}, {}
    for ind in comparison_spec(spec).indicators:
        shared = SHARED_INDICATORS[ind.id]
        raw = source[shared.iod2019]
        if shared.how == "rate":
            raw = raw.fillna(NUMERATOR_SUPPRESSED_VALUE) / source[shared.denominator]
            raw = raw * shared.scale
            if shared.scale == 100.0:
                raw = raw.clip(upper=100.0)
        elif shared.how == "rank":
            raw = _rank_normal(raw, len(source))
        values[ind.column] = raw
        weights[ind.column] = source[shared.denominator]
    return pd.DataFrame(values).sort_index(), pd.DataFrame(weights).sort_index()


def iod2025_values(data_dir: Path, table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """IoD2025 values of the shared indicators on 2021 LSOAs, measured as for IoD2019.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/``.
    table : DataFrame
        The 2021 indicator table (``data/indicators/lsoa21_indicators.csv``).
    spec : Spec
        Spec whose shared indicators to build.

    Returns
    -------
    DataFrame
        Indexed by ``lsoa21_code`` (every LSOA in ``table``), one column per shared indicator,
        named as in the spec.
    """
    data_dir = Path(data_dir)
    under = _read(data_dir, "iod2025_lsoa21_underlying_indicators.csv.gz").set_index(
        "lsoa21_code")
    subdomains = _read(data_dir, "iod2025_lsoa21_subdomains.csv.gz").set_index("lsoa21_code")
    n_england = len(subdomains)
    source = table.set_index("lsoa21_code")
    values = {}
    for ind in comparison_spec(spec).indicators:
        shared = SHARED_INDICATORS[ind.id]
        if shared.how == "rank":
            raw = _rank_normal(subdomains[shared.iod2025], n_england)
        elif shared.iod2025 in source.columns:
            raw = source[shared.iod2025]
        else:
            raw = under[shared.iod2025]
        values[ind.column] = raw.reindex(source.index).astype(float)
    return pd.DataFrame(values).sort_index()


# -- boundaries -----------------------------------------------------------------------------
def carry_to_lsoa21(
    values: pd.DataFrame,
    weights: pd.DataFrame,
    lookup: pd.DataFrame,
    households: pd.Series | None = None,
) -> pd.DataFrame:
    """Carry area rates and scores from 2011 LSOAs to 2021 LSOAs.

    Each 2021 LSOA takes the weighted mean of the 2011 LSOAs the lookup links it to. The weight
    of a link is the 2011 LSOA's weight (its population denominator) times the share of that
    LSOA going to the 2021 piece (its Census 2021 households over those of all the pieces of the
    2011 LSOA; equal shares without household counts). So unchanged (``U``) and split (``S``)
    LSOAs copy their single parent's value, merged (``M``) LSOAs take the population-weighted
    mean of their parents, and complex (``X``) LSOAs a mean over every linked parent.

    Parameters
    ----------
    values : DataFrame
        Indexed by ``lsoa11_code``; one column per measure (rates or scores, not counts).
    weights : DataFrame
        Same index and columns: non-negative weights (e.g. population denominators).
    lookup : DataFrame
        ``lsoa11_code``, ``lsoa21_code``, ``change_code`` (``U``/``S``/``M``/``X``), one row per
        link.
    households : Series, optional
        Households per 2021 LSOA code, to share a 2011 LSOA among its pieces.

    Returns
    -------
    DataFrame
        Indexed by ``lsoa21_code`` (sorted), the measures, ``carried_from_2011`` (the link type;
        the strongest of ``U`` < ``S`` < ``M`` < ``X`` when mixed) and ``lsoa11_codes`` (the
        linked 2011 codes, ``;``-separated). A measure blank in every parent, or whose parents
        all have zero weight, falls back to the plain mean of the parents (blank if none).
    """
    links = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates(
        ["lsoa11_code", "lsoa21_code"])
    bad = sorted(set(links["change_code"]) - set(CHANGE_CODES))
    if bad:
        raise ProfilerError(
            f"lookup: change_code {', '.join(map(repr, bad))} not one of {', '.join(CHANGE_CODES)}"
        )
    links = links[links["lsoa11_code"].isin(values.index)].copy()
    if households is None:
        piece = pd.Series(1.0, index=links.index)
    else:
        piece = links["lsoa21_code"].map(households).fillna(0.0).astype(float)
    links["share"] = lsoa11_shares(links["lsoa11_code"], piece)

    out = {}
    for col in values.columns:
        v = links["lsoa11_code"].map(values[col])
        w = links["lsoa11_code"].map(weights[col]).fillna(0.0) * links["share"]
        w = w.where(v.notna(), 0.0)
        code = links["lsoa21_code"]
        # Weights are made shares of their 2021 area's total before multiplying, so tiny
        # weights cannot underflow to a zero numerator over a positive denominator.
        den = w.groupby(code).transform("sum")
        share = (w / den.where(den > 0)).fillna(0.0)
        num = (share * v.fillna(0.0)).groupby(code).sum()
        weighted = den.groupby(code).first() > 0
        plain = v.groupby(code).mean()
        out[col] = num.where(weighted).fillna(plain)
    carried = pd.DataFrame(out)
    strength = links["change_code"].map({c: i for i, c in enumerate(CHANGE_CODES)})
    carried["carried_from_2011"] = strength.groupby(links["lsoa21_code"]).max().map(
        dict(enumerate(CHANGE_CODES)))
    carried["lsoa11_codes"] = links.groupby("lsoa21_code")["lsoa11_code"].agg(
        lambda s: ";".join(sorted(s)))
    carried.index.name = "lsoa21_code"
    return carried.sort_index()


# -- scoring --------------------------------------------------------------------------------
def _rank_desc(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; ties share the best rank (as in ``score_scope``)."""
    return np.searchsorted(np.sort(-score), -score, side="left") + 1


def score_editions(
    before_reference: pd.DataFrame,
    before: pd.DataFrame,
    after: pd.DataFrame,
    spec: Spec,
) -> pd.DataFrame:
    """Score and band two editions with the same spec, each against its own reference.

    Parameters
    ----------
    before_reference : DataFrame
        The earlier edition's reference areas (e.g. a county's 2011 LSOAs), with the spec's
        columns.
    before : DataFrame
        The earlier edition's values carried to the later areas, indexed like ``after``.
    after : DataFrame
        The later edition's values; its rows are also its reference.
    spec : Spec
        The spec both are scored with (usually :func:`comparison_spec`).

    Returns
    -------
    DataFrame
        Indexed like ``after``: ``score_<e>``, ``band_<e>``, ``rank_<e>`` (1 = highest score
        among these areas; ties, such as the pieces of a split area, share the best rank) for
        ``e`` in ``before``/``after``, ``band_moved`` (band steps, positive = rose), ``band_change``
        (``rose``/``fell``/``same``) and ``rank_change`` (places moved up; positive = now ranked
        riskier).
    """
    if not before.index.equals(after.index):
        raise ProfilerError("change: the two editions must cover the same areas in the same "
                            "order; carry the earlier edition to the later areas first")
    old = RiskProfiler(spec).fit(before_reference).transform_arrays(before)
    new = RiskProfiler(spec).fit(after).transform_arrays(after)
    out = pd.DataFrame(index=after.index)
    for name, res in (("before", old), ("after", new)):
        out[f"score_{name}"] = res["score"]
        out[f"band_{name}"] = res["band"]
        out[f"rank_{name}"] = _rank_desc(res["score"])
    moved = pd.Series(
        band_index(out["band_after"]) - band_index(out["band_before"]), index=out.index
    )
    out["band_moved"] = moved.astype(np.int64)
    out["band_change"] = np.select([moved > 0, moved < 0], ["rose", "fell"], "same")
    out["rank_change"] = (out["rank_before"] - out["rank_after"]).astype(np.int64)
    return out


# -- police.uk ------------------------------------------------------------------------------
def same_calendar_months(
    before: tuple[str, ...], after: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pick the months of each window whose calendar month is in both windows.

    Parameters
    ----------
    before, after : tuple of str
        ``YYYY-MM`` months.

    Returns
    -------
    tuple of (tuple of str, tuple of str)
        The matching months of ``before`` and of ``after``, in order; for 2018-10..2019-02 and
        2024-01..04 that is (2019-01, 2019-02) and (2024-01, 2024-02).
    """
    common = {m[5:] for m in before} & {m[5:] for m in after}
    if not common:
        raise ProfilerError(
            f"police.uk: windows {before} and {after} share no calendar month; compare "
            "per-month averages instead"
        )
    return tuple(m for m in before if m[5:] in common), tuple(m for m in after if m[5:] in common)


def locate_records(
    records: pd.DataFrame,
    vintage: str,
    lookup: pd.DataFrame,
    areas: gpd.GeoDataFrame,
) -> pd.Series:
    """Place each police.uk record in a 2021 LSOA among ``areas``.

    Parameters
    ----------
    records : DataFrame
        ``lsoa_code``, ``longitude``, ``latitude``.
    vintage : {"2011", "2021"}
        Which LSOA codes the records carry.
    lookup : DataFrame
        ``lsoa11_code``, ``lsoa21_code`` (the ONS 2011-2021 lookup).
    areas : GeoDataFrame
        2021 LSOAs (``lsoa21_code``, geometry) records may fall in.

    Returns
    -------
    Series
        Indexed like ``records``: the 2021 LSOA code, blank for records outside ``areas`` or
        without a code. A record's own code is used when it names one 2021 LSOA; a 2011 code of
        an LSOA later split is resolved by point-in-polygon among its pieces (nearest piece
        when the point lies outside all of them).
    """
    if vintage not in ("2011", "2021"):
        raise ProfilerError(f"police.uk: code vintage {vintage!r}; use '2011' or '2021'")
    inside = set(areas["lsoa21_code"])
    codes = records["lsoa_code"]
    if vintage == "2021":
        return codes.where(codes.isin(inside)).astype(object)
    pieces = lookup[lookup["lsoa21_code"].isin(inside)].drop_duplicates(
        ["lsoa11_code", "lsoa21_code"])
    n_pieces = pieces.groupby("lsoa11_code").size()
    single = pieces[pieces["lsoa11_code"].map(n_pieces) == 1].set_index("lsoa11_code")
    located = codes.map(single["lsoa21_code"]).astype(object)
    split = codes.map(n_pieces).fillna(0) > 1
    if split.any():
        metric = areas.to_crs(27700).set_index("lsoa21_code").geometry
        pts = gpd.GeoSeries(
            gpd.points_from_xy(records.loc[split, "longitude"], records.loc[split, "latitude"]),
            index=records.index[split], crs=4326,
        ).to_crs(27700)
        choices = pieces.groupby("lsoa11_code")["lsoa21_code"].agg(sorted)
        for idx, point in pts.items():
            candidates = choices[codes[idx]]
            # Distance 0 means inside (or on the edge); ties go to the lowest code.
            dist = [metric[c].distance(point) for c in candidates]
            located[idx] = candidates[int(np.argmin(dist))]
    return located


def police_change(
    data_dir: Path,
    lookup: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    windows: Mapping[str, tuple[str, ...]] | None = None,
    types: tuple[str, ...] = POLICE_TYPES,
) -> pd.DataFrame:
    """police.uk counts per 2021 LSOA in two windows, like-for-like months and monthly averages.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/police_uk/``.
    lookup : DataFrame
        The ONS 2011-2021 LSOA lookup.
    areas : GeoDataFrame
        The 2021 LSOAs to count in (``lsoa21_code``, geometry).
    windows : mapping of str to tuple of str, optional
        Two windows, earlier first; default :data:`POLICE_WINDOWS`. Their code vintages are in
        :data:`POLICE_CODE_VINTAGE`.
    types : tuple of str
        police.uk crime types to count.

    Returns
    -------
    DataFrame
        Indexed by ``lsoa21_code`` (every area, zero-filled). Per type ``t`` (slugged) and the
        windows ``a``, ``b``: ``t_same_months_a``, ``t_same_months_b`` (counts in the calendar
        months both windows cover), ``t_same_months_change`` (``b - a``),
        ``t_same_months_pct_change`` (blank when the earlier count is under 5),
        ``t_small_numbers`` (either same-months count under 5), ``t_per_month_a``,
        ``t_per_month_b`` (mean monthly count over each whole window) and
        ``t_per_month_change``.
    """
    from profiler.geo import load_police_points

    windows = dict(windows or POLICE_WINDOWS)
    if len(windows) != 2:
        raise ProfilerError(f"police.uk: need two windows to compare, got {len(windows)}")
    (a, months_a), (b, months_b) = windows.items()
    same_a, same_b = same_calendar_months(months_a, months_b)
    index = pd.Index(sorted(areas["lsoa21_code"]), name="lsoa21_code")
    counts = {}
    for name, months in ((a, months_a), (b, months_b)):
        rec = load_police_points(data_dir, months)
        rec = rec[rec["crime_type"].isin(types)].reset_index(drop=True)
        rec["lsoa21_code"] = locate_records(rec, POLICE_CODE_VINTAGE.get(name, "2021"), lookup,
                                            areas)
        counts[name] = rec.dropna(subset=["lsoa21_code"])
    out = {}
    for crime in types:
        t = slug(crime)

        def count(frame: pd.DataFrame, months: tuple[str, ...], crime: str = crime) -> pd.Series:
            hit = frame[(frame["crime_type"] == crime) & frame["month"].isin(months)]
            return hit.groupby("lsoa21_code").size().reindex(index, fill_value=0).astype(np.int64)

        before, after = count(counts[a], same_a), count(counts[b], same_b)
        out[f"{t}_same_months_{a}"] = before
        out[f"{t}_same_months_{b}"] = after
        out[f"{t}_same_months_change"] = after - before
        out[f"{t}_same_months_pct_change"] = (100.0 * (after - before) / before).where(
            before >= SMALL_COUNT)
        out[f"{t}_small_numbers"] = (before < SMALL_COUNT) | (after < SMALL_COUNT)
        per_a = count(counts[a], months_a) / len(months_a)
        per_b = count(counts[b], months_b) / len(months_b)
        out[f"{t}_per_month_{a}"] = per_a
        out[f"{t}_per_month_{b}"] = per_b
        out[f"{t}_per_month_change"] = per_b - per_a
    return pd.DataFrame(out, index=index)


# -- the table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangeSources:
    """England-wide inputs of the comparison, read once and reused for any number of areas.

    Reading them is most of the time :func:`area_change_table` takes (~0.3 s of gzipped CSVs);
    their frames hold about 18 MB (~40 MB of resident memory). Build with
    :func:`load_change_sources`.

    Parameters
    ----------
    lookup : DataFrame
        ``lsoa11_code``, ``lsoa21_code``, ``change_code``: the ONS 2011-2021 LSOA lookup.
    values19, weights19 : DataFrame
        :func:`iod2019_values` (every English 2011 LSOA).
    values25 : DataFrame
        :func:`iod2025_values` for every LSOA of the table it was built from.
    columns : tuple of str
        The spec columns of the shared indicators these were built for.
    """

    lookup: pd.DataFrame
    values19: pd.DataFrame
    weights19: pd.DataFrame
    values25: pd.DataFrame
    columns: tuple[str, ...]


def load_change_sources(data_dir: Path, spec: Spec, table: pd.DataFrame) -> ChangeSources:
    """Read the England-wide inputs of :func:`area_change_table` once.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/``.
    spec : Spec
        The spec (only which shared indicators it has, and their columns, matter: what-if
        weights and methods can reuse the same sources).
    table : DataFrame
        England's 2021 indicator table.

    Returns
    -------
    ChangeSources
    """
    data_dir = Path(data_dir)
    lookup = _read(data_dir, "lsoa11_lsoa21_lad22_ew.csv.gz",
                   usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    values19, weights19 = iod2019_values(data_dir, spec)
    values25 = iod2025_values(data_dir, table, spec)
    columns = tuple(ind.column for ind in comparison_spec(spec).indicators)
    return ChangeSources(lookup, values19, weights19, values25, columns)


def police_columns(
    windows: Mapping[str, tuple[str, ...]] | None = None,
    types: tuple[str, ...] = POLICE_TYPES,
) -> list[str]:
    """Name the columns :func:`police_change` writes, in its order.

    Parameters
    ----------
    windows : mapping of str to tuple of str, optional
        Two windows, earlier first; default :data:`POLICE_WINDOWS`.
    types : tuple of str
        police.uk crime types.

    Returns
    -------
    list of str
    """
    (a, _), (b, _) = dict(windows or POLICE_WINDOWS).items()
    names = []
    for crime in types:
        t = slug(crime)
        names += [f"{t}_same_months_{a}", f"{t}_same_months_{b}", f"{t}_same_months_change",
                  f"{t}_same_months_pct_change", f"{t}_small_numbers", f"{t}_per_month_{a}",
                  f"{t}_per_month_{b}", f"{t}_per_month_change"]
    return names


def police_coverage(
    data_dir: Path,
    table: pd.DataFrame,
    lsoa_codes: Sequence[str],
    windows: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.Series:
    """Say which 2021 LSOAs have police.uk records shipped for both windows.

    An LSOA is covered when its district's police force (``lad24_csp24_pfa24_ew``) has a
    ``<month>-<force>-street.csv.gz`` file in ``data/sources/police_uk/`` for every month of
    both windows (:func:`profiler.geo.shipped_police_forces`). Counting a force's records in
    an LSOA policed by another force would undercount it, so nothing else is covered.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder.
    table : DataFrame
        The 2021 indicator table (``lsoa21_code``, ``lad24_code``).
    lsoa_codes : sequence of str
        The LSOAs to check.
    windows : mapping of str to tuple of str, optional
        Default :data:`POLICE_WINDOWS`.

    Returns
    -------
    Series
        Boolean, indexed by ``lsoa21_code`` in the order given.
    """
    from profiler.geo import shipped_police_forces
    from profiler.police import force_slug

    data_dir = Path(data_dir)
    months = [m for ms in dict(windows or POLICE_WINDOWS).values() for m in ms]
    shipped = set(shipped_police_forces(data_dir, months))
    codes = pd.Index(list(lsoa_codes), name="lsoa21_code")
    if not shipped:
        return pd.Series(False, index=codes)
    forces = _read(data_dir, "lad24_csp24_pfa24_ew.csv.gz", usecols=["ltla24_code",
                                                                    "pfa24_name"])
    force_of_lad = forces.drop_duplicates("ltla24_code").set_index("ltla24_code")["pfa24_name"]
    lad = table.set_index("lsoa21_code")["lad24_code"].reindex(codes)
    force = lad.map(force_of_lad).map(lambda n: force_slug(n) if isinstance(n, str) else "")
    return force.isin(shipped).rename(None)


def _police_frame(
    data_dir: Path,
    lookup: pd.DataFrame,
    codes: pd.Index,
    police_areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """police.uk columns for ``codes``: counted in ``police_areas``, blank elsewhere."""
    columns = police_columns()
    if police_areas is None or police_areas.empty:
        frame = pd.DataFrame(np.nan, index=codes, columns=columns)
    else:
        frame = police_change(data_dir, lookup, police_areas).reindex(codes)
    if frame.isna().any().any():
        # Counts of LSOAs without records are unknown, not zero: keep them blank (and the
        # small-number flags blank rather than a misleading True).
        flags = [c for c in columns if c.endswith("_small_numbers")]
        frame[flags] = frame[flags].astype("boolean")
    return frame


def area_change_table(
    data_dir: Path,
    spec: Spec,
    table: pd.DataFrame,
    lsoa_codes: Sequence[str],
    *,
    police_areas: gpd.GeoDataFrame | None = None,
    sources: ChangeSources | None = None,
) -> pd.DataFrame:
    """Build the IoD2019 and IoD2025 profiles side by side for any set of 2021 LSOAs.

    The area is its own reference in each edition: the 2025 profile is fitted on the given
    2021 LSOAs, the 2019 profile on the 2011 LSOAs the ONS lookup links to them (the same
    area as it was in 2011), so neither needs boundaries.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder (``sources/``).
    spec : Spec
        The spec; only its shared indicators (:data:`SHARED_INDICATORS`) and their weights,
        normalisation and banding are used.
    table : DataFrame
        The England 2021 indicator table (identity columns, ``households_2021`` and the
        IoD2025 columns of the shared indicators).
    lsoa_codes : sequence of str
        The area's 2021 LSOA codes (every one must be in ``table``).
    police_areas : GeoDataFrame, optional
        2021 LSOAs of the area (``lsoa21_code``, geometry) whose police.uk records are shipped
        for both windows (see :func:`police_coverage`); their police.uk columns are counted,
        the other LSOAs' are blank. ``None``: every police.uk column is blank.
    sources : ChangeSources, optional
        The England-wide inputs from :func:`load_change_sources` (same spec columns); read
        from ``data_dir`` when not given.

    Returns
    -------
    DataFrame
        One row per LSOA, sorted by ``lsoa21_code``; the columns of :func:`change_table`.
    """
    data_dir = Path(data_dir)
    sub = comparison_spec(spec)
    wanted = pd.Index(pd.unique(pd.Series(list(lsoa_codes), dtype=object)))
    absent = wanted.difference(pd.Index(table["lsoa21_code"]))
    if wanted.empty:
        raise ProfilerError("change: no LSOA codes given; pass the area's 2021 LSOA codes")
    if len(absent):
        raise ProfilerError(f"change: {len(absent)} LSOA code(s) not in the indicator table, "
                            f"first {sorted(absent)[:3]}; pass 2021 LSOA codes (E01...) of "
                            "England")
    scope = table[table["lsoa21_code"].isin(wanted)].sort_values("lsoa21_code")
    columns = [ind.column for ind in sub.indicators]
    if sources is None:
        sources = load_change_sources(data_dir, spec, scope)
    elif list(sources.columns) != columns:
        raise ProfilerError(f"change: sources were built for columns {list(sources.columns)}, "
                            f"the spec compares {columns}; rebuild them with "
                            "load_change_sources for this spec")
    lookup = sources.lookup
    links = lookup[lookup["lsoa21_code"].isin(scope["lsoa21_code"])]
    unlinked = sorted(set(scope["lsoa21_code"]) - set(links["lsoa21_code"]))
    if unlinked:
        raise ProfilerError(f"change: 2021 LSOA(s) {unlinked[:3]} not in the 2011-2021 lookup; "
                            "restore data/sources/lsoa11_lsoa21_lad22_ew.csv.gz")

    values19, weights19 = sources.values19, sources.weights19
    parents = sorted(set(links["lsoa11_code"]))
    missing = sorted(set(parents) - set(values19.index))
    if missing:
        raise ProfilerError(f"change: 2011 LSOA(s) {missing[:3]} not in IoD2019; check the "
                            "lookup and the IoD2019 sources")
    households = scope.set_index("lsoa21_code")["households_2021"].astype(float)
    carried = carry_to_lsoa21(values19.loc[parents], weights19.loc[parents], links, households)
    carried = carried.reindex(scope["lsoa21_code"])
    values25 = sources.values25.reindex(scope["lsoa21_code"])
    if values25[columns].isna().all(axis=1).any():
        raise ProfilerError("change: sources lack IoD2025 values for some of the area's LSOAs; "
                            "build them with load_change_sources from England's table")

    scored = score_editions(values19.loc[parents, columns], carried[columns], values25[columns],
                            sub)
    scored.columns = [c.replace("_before", "_2019").replace("_after", "_2025")
                      for c in scored.columns]
    out = scope.set_index("lsoa21_code")[list(IDENTITY[1:])]
    out = out.join(carried[["carried_from_2011", "lsoa11_codes"]]).join(scored)
    for ind in sub.indicators:
        out[f"{ind.id}_2019"] = carried[ind.column]
        out[f"{ind.id}_2025"] = values25[ind.column]

    if police_areas is not None:
        outside = sorted(set(police_areas["lsoa21_code"]) - set(scope["lsoa21_code"]))
        if outside:
            raise ProfilerError(f"change: police_areas has LSOA(s) outside the area, first "
                                f"{outside[:3]}; pass only the area's covered LSOAs")
    police = _police_frame(data_dir, lookup, out.index, police_areas)
    out = out.join(police).reset_index()
    if out[["band_2019", "band_2025"]].isna().any().any():
        raise ProfilerError("change: blank band after scoring; check the IoD2019 sources")
    return out.sort_values("lsoa21_code").reset_index(drop=True)


def change_table(
    data_dir: Path,
    spec: Spec,
    table: pd.DataFrame | None = None,
    county: str = DEFAULT_AREA,
) -> pd.DataFrame:
    """Build the IoD2019 and IoD2025 profiles and police.uk counts side by side per 2021 LSOA.

    The county case of :func:`profiler.derived.area_change` (which finds the most detailed
    shipped boundaries and the police.uk coverage), with police.uk counts required for every
    LSOA.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder (sources, boundaries, ``indicators/lsoa21_indicators.csv``).
    spec : Spec
        The spec; only its shared indicators (:data:`SHARED_INDICATORS`) and their weights,
        normalisation and banding are used. Each edition is scored against the county.
    table : DataFrame, optional
        The 2021 indicator table; read from ``data_dir`` when not given.
    county : str
        Upper-tier authority code (default the default area's); its LSOAs are scored, and
        both windows' police.uk records must be shipped for its force.

    Returns
    -------
    DataFrame
        One row per 2021 LSOA of the county, sorted by ``lsoa21_code``: ``lsoa21_code``,
        ``lsoa21_name``, ``msoa21_hcl_name``, ``lad24_code``, ``lad24_name``,
        ``carried_from_2011``, ``lsoa11_codes``; ``score_2019``, ``band_2019``, ``rank_2019``,
        ``score_2025``, ``band_2025``, ``rank_2025``, ``band_moved``, ``band_change``,
        ``rank_change``; ``<indicator id>_2019`` and ``<indicator id>_2025`` for each shared
        indicator; then the police.uk columns of :func:`police_change` (windows ``2018_19`` and
        ``2024``).
    """
    from profiler.derived import area_change

    data_dir = Path(data_dir)
    if table is None:
        path = data_dir / "indicators" / "lsoa21_indicators.csv"
        if not path.exists():
            raise ProfilerError(f"{path}: indicator table missing; run `python -m profiler build`")
        table = pd.read_csv(path, dtype={c: str for c in IDENTITY})
    codes = table.loc[table["utla_code"] == county, "lsoa21_code"]
    if codes.empty:
        raise ProfilerError(f"change: no LSOAs in county {county!r}; use a UTLA code like "
                            f"{DEFAULT_AREA}")
    out = area_change(data_dir, spec, table, codes, police=True)
    out.attrs.clear()
    return out


CHANGE_COLUMNS = (
    *IDENTITY, "carried_from_2011", "lsoa11_codes", "score_2019", "band_2019", "rank_2019",
    "score_2025", "band_2025", "rank_2025", "band_moved", "band_change", "rank_change",
)


def load_change_table(path: str | Path) -> pd.DataFrame:
    """Read and check a change table written by :func:`run_change` (for the dashboard).

    Parameters
    ----------
    path : str or Path
        Normally ``data/indicators/change_<area>.csv``.

    Returns
    -------
    DataFrame
        The table, codes and names as strings, ``*_small_numbers`` as booleans.

    Raises
    ------
    ProfilerError
        If the file is missing or unreadable, a core column is absent, an LSOA code is
        malformed or repeated, or a band is not one of the five.
    """
    path = Path(path)
    if not path.exists():
        raise ProfilerError(f"{path}: change table missing; run `python -m profiler change`")
    text = {c: str for c in (*IDENTITY, "carried_from_2011", "lsoa11_codes", "band_2019",
                             "band_2025", "band_change")}
    try:
        df = pd.read_csv(path, dtype=text)
    except (ValueError, OSError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfilerError(f"{path}: cannot read change table ({first}); rebuild it with "
                            "`python -m profiler change`") from None
    absent = [c for c in CHANGE_COLUMNS if c not in df.columns]
    if absent:
        raise ProfilerError(f"{path}: missing column(s) {', '.join(absent[:5])}; rebuild it "
                            "with `python -m profiler change`")
    codes = df["lsoa21_code"]
    bad = ~codes.str.fullmatch(LSOA21_RE.pattern, na=False) | codes.duplicated()
    if bad.any():
        raise ProfilerError(f"{path}: malformed or repeated lsoa21_code, first "
                            f"{codes[bad].head(3).tolist()}")
    for col in ("band_2019", "band_2025"):
        wrong = ~df[col].isin(BANDS)
        if wrong.any():
            raise ProfilerError(f"{path}: {col}: {int(wrong.sum())} value(s) not one of "
                                f"{', '.join(BANDS)}, first {df.loc[wrong, col].head(3).tolist()}")
    for col in df.columns:
        if col.endswith("_small_numbers"):
            df[col] = df[col].astype(bool)
    return df


def change_summary(change: pd.DataFrame, by: str = "lad24_name") -> pd.DataFrame:
    """Count LSOAs whose band rose, fell or stayed, per group, with a total row.

    Parameters
    ----------
    change : DataFrame
        Output of :func:`change_table`.
    by : str
        Grouping column (default: district name).

    Returns
    -------
    DataFrame
        Columns ``rose``, ``same``, ``fell``, ``LSOAs``; one row per group and ``Total``.
    """
    counts = pd.crosstab(change[by], change["band_change"]).reindex(
        columns=["rose", "same", "fell"], fill_value=0)
    counts.loc["Total"] = counts.sum()
    counts["LSOAs"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.astype(np.int64)


def run_change(data_dir: Path, spec: Spec, out_path: Path, county: str = DEFAULT_AREA
               ) -> tuple[pd.DataFrame, float]:
    """Build the change table for a county and write it deterministically.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder.
    spec : Spec
        The spec (see :func:`change_table`).
    out_path : Path
        Output CSV, normally ``data/indicators/change_<area>.csv``; floats to 6
        significant digits, LF line ends, written atomically.
    county : str
        Upper-tier authority code (see :func:`change_table`).

    Returns
    -------
    table : DataFrame
        The table as written.
    seconds : float
        Time taken to build it (not counting the write).
    """
    start = time.perf_counter()
    df = change_table(Path(data_dir), spec, county=county)
    elapsed = time.perf_counter() - start
    write_table(df, Path(out_path))
    return df, elapsed
