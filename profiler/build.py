"""Build the LSOA indicator table from the shipped open sources (``python -m profiler build``).

The build is deterministic: the same sources give a byte-identical
``data/indicators/lsoa21_indicators.csv``, and a test rebuilds it and compares.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.codes import lsoa11_shares
from profiler.errors import ProfilerError

POLICE_2024_MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04")
# IoD2025 publishes the IDACI numerator rounded to 5 and leaves it blank below 10: a blank is
# taken as 5, the middle of 0-9.
IDACI_SUPPRESSED_VALUE = 5.0

_UNDERLYING = {
    "violence_with_injury_rate_per_1_000_at_risk_population": "violence_with_injury_per_1000",
    "violence_without_injury_rate_per_1_000_at_risk_population": "violence_without_injury_per_1000",
    "stalking_and_harassment_rate_per_1_000_at_risk_population": "stalking_harassment_per_1000",
    "public_order_and_possession_of_weapons_rate_per_1_000_at_risk_population":
        "public_order_weapons_per_1000",
    "anti_social_behaviour_rate_per_1_000_at_risk_population": "anti_social_behaviour_per_1000",
    "criminal_damage_rate_per_1_000_at_risk_population": "criminal_damage_per_1000",
    "mental_health_indicator": "mental_health_score",
    "homelessness_indicator_rate_per_1_000_households": "homelessness_per_1000_households",
    "household_overcrowding_indicator_bedrooms": "overcrowding_rate",
}
INDICATOR_COLUMNS = (
    "violence_with_injury_per_1000",
    "violence_without_injury_per_1000",
    "stalking_harassment_per_1000",
    "public_order_weapons_per_1000",
    "anti_social_behaviour_per_1000",
    "criminal_damage_per_1000",
    "income_deprivation_rate",
    "children_income_deprived_pct",
    "cyp_education_score",
    "employment_deprivation_rate",
    "mental_health_score",
    "homelessness_per_1000_households",
    "overcrowding_rate",
)
# Observed-violence indicators: blank where no police.uk months are imported for the LSOA's force.
OBSERVED_INDICATOR_COLUMNS = ("observed_sv_count", "observed_sv_eb_per_1000")
IDENTITY_COLUMNS = (
    "lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "msoa21_hcl_name",
    "ward24_code", "ward24_name", "lad24_code", "lad24_name", "utla_code", "utla_name",
    "ruc21_class",
)


def _read(data_dir: Path, name: str, **kw) -> pd.DataFrame:
    path = data_dir / "sources" / name
    if not path.exists():
        raise ProfilerError(
            f"{path}: source file missing; restore data/sources from the repository "
            "(git checkout -- data/sources)"
        )
    try:
        return pd.read_csv(path, **kw)
    except (ValueError, OSError, EOFError) as exc:
        # A truncated gzip or a missing column should say which file to restore, not show a
        # pandas traceback.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfilerError(
            f"{path}: cannot read source ({first}); restore it with `git checkout -- {path}`"
        ) from None


def slug(text: str) -> str:
    """Lower-case identifier from a label: ``"Violence and sexual offences"`` -> ``violence_and_sexual_offences``."""  # noqa: E501
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def children_0_15_lsoa21(data_dir: Path, households: pd.Series) -> pd.Series:
    """Children aged 0-15 per 2021 LSOA, carried from ONS mid-2020 estimates on 2011 LSOAs.

    Unchanged LSOAs copy the count; a 2011 LSOA split (or part of a complex change) is shared
    among its 2021 pieces in proportion to their Census 2021 household counts; merged LSOAs sum.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder.
    households : Series
        Census 2021 households per 2021 LSOA code.

    Returns
    -------
    Series
        Estimated children aged 0-15, indexed by 2021 LSOA code.
    """
    pop = _read(data_dir, "ons_mid2020_population_syoa_lsoa11.csv.gz",
                usecols=["lsoa11_code", *map(str, range(16))])
    pop = pop.set_index("lsoa11_code").sum(axis=1).rename("children")
    look = _read(data_dir, "lsoa11_lsoa21_lad22_ew.csv.gz",
                 usecols=["lsoa11_code", "lsoa21_code"]).drop_duplicates()
    look = look[look["lsoa21_code"].str.startswith("E")]
    look["households"] = look["lsoa21_code"].map(households).fillna(0.0)
    # U copies (one piece, share 1); M sums several 2011 LSOAs into one 2021 LSOA; S and X share
    # the 2011 count among all its 2021 links by Census 2021 households.
    # Share of the 2011 LSOA going to each 2021 piece: by households, equal if none recorded.
    look["share"] = lsoa11_shares(look["lsoa11_code"], look["households"])
    look["children"] = look["lsoa11_code"].map(pop) * look["share"]
    return look.groupby("lsoa21_code")["children"].sum()


def police_counts(data_dir: Path, months: tuple[str, ...] = POLICE_2024_MONTHS) -> pd.DataFrame:
    """Count police.uk street-level records per 2021 LSOA and crime type.

    Every force whose files for all ``months`` are shipped is counted
    (:func:`profiler.geo.shipped_police_forces`). Records without an LSOA code are dropped
    here; records whose LSOA is not an English 2021 LSOA (or, in the table, not one policed by
    a counted force) drop out when the counts are joined.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/police_uk/``.
    months : tuple of str
        ``YYYY-MM`` months to count (their files carry 2021 LSOA codes from 2024 on).

    Returns
    -------
    DataFrame
        Indexed by LSOA code, one ``policeuk_2024_<crime type slug>`` column per type (sorted)
        plus ``policeuk_2024_total``.
    """
    from profiler.geo import shipped_police_forces

    forces = shipped_police_forces(data_dir, months)
    if not forces:
        raise ProfilerError(f"{data_dir / 'sources' / 'police_uk'}: no force's police.uk files "
                            f"for {', '.join(months)}; restore data/sources from the "
                            "repository (git checkout -- data/sources)")
    frames = [
        _read(data_dir, f"police_uk/{m}-{force}-street.csv.gz",
              usecols=["LSOA code", "Crime type"])
        for force in forces for m in months
    ]
    crimes = pd.concat(frames).dropna(subset=["LSOA code"])
    counts = pd.crosstab(crimes["LSOA code"], crimes["Crime type"])
    counts.columns = [f"policeuk_2024_{slug(c)}" for c in counts.columns]
    counts = counts[sorted(counts.columns)]
    counts["policeuk_2024_total"] = counts.sum(axis=1)
    return counts


def observed_columns(data_dir: Path, df: pd.DataFrame) -> pd.DataFrame:
    """Compute the observed-violence indicators and residents of each LSOA (police.uk store).

    For each imported force, the LSOAs of its police force area (by district, from the ONS
    district to police force area lookup) get the serious-violence records
    (:data:`profiler.observed.SV_TYPES`) of the force's latest run of consecutive months (at
    most :data:`profiler.observed.OBSERVED_MONTHS`): ``observed_sv_count``, records per month,
    and ``observed_sv_eb_per_1000``, Marshall global empirical-Bayes records per 1,000 residents
    a year, shrunk toward the force area's rate; ``observed_sv_months`` names the window. LSOAs
    of forces not imported stay blank (the profile then renormalises its weights over the
    indicators it has).

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder.
    df : DataFrame
        The table so far (``lsoa21_code``, ``lad24_code``, ``households_2021``).

    Returns
    -------
    DataFrame
        Indexed like ``df``: ``residents_2020``, ``observed_sv_count``,
        ``observed_sv_eb_per_1000``, ``observed_sv_months``.
    """
    from profiler import police
    from profiler.observed import OBSERVED_MONTHS, SV_TYPES, count_incidents, observed_rate
    from profiler.partner import load_code_lookup, residents_lsoa21

    households = df.set_index("lsoa21_code")["households_2021"]
    pop = residents_lsoa21(load_code_lookup(data_dir, households))
    out = pd.DataFrame(index=df.index)
    out["residents_2020"] = df["lsoa21_code"].map(pop).round(1).to_numpy()
    out["observed_sv_count"] = np.nan
    out["observed_sv_eb_per_1000"] = np.nan
    out["observed_sv_months"] = pd.Series(pd.NA, index=df.index, dtype="string")
    pfa = _read(data_dir, "lad24_csp24_pfa24_ew.csv.gz", usecols=["ltla24_code", "pfa24_name"]
                ).drop_duplicates("ltla24_code")
    force_of = df["lad24_code"].map(pfa.set_index("ltla24_code")["pfa24_name"].map(
        police.force_slug)).to_numpy()
    for slug, entry in sorted(police.imported(data_dir)["forces"].items()):
        here = (force_of == slug) | (force_of == police.force_slug(entry.get("name", "")))
        months = police.latest_block(entry["months"], OBSERVED_MONTHS)
        if not here.any() or not months:
            continue
        codes = df.loc[here, "lsoa21_code"].to_numpy()
        records = police.load_incidents(data_dir, forces=slug, months=months,
                                        crime_types=SV_TYPES)
        counts = count_incidents(records.astype({"month": str, "crime_type": str,
                                                 "lsoa21_code": str}),
                                 codes, months).to_numpy(dtype=float)
        residents = out.loc[here, "residents_2020"].to_numpy(dtype=float)
        out.loc[here, "observed_sv_count"] = counts / len(months)
        out.loc[here, "observed_sv_eb_per_1000"] = observed_rate(
            counts, residents, "eb_global", months=len(months))
        out.loc[here, "observed_sv_months"] = f"{months[0]}..{months[-1]}"
    return out


def build_indicator_table(data_dir: Path) -> pd.DataFrame:
    """Join the sources into one row per English 2021 LSOA.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder holding ``sources/``.

    Returns
    -------
    DataFrame
        Identity columns (names, MSOA with its House of Commons Library name, ward, district,
        county, rural-urban class), the 13 indicator columns and context columns, sorted by
        ``lsoa21_code``.

    Raises
    ------
    ProfilerError
        If a source is missing or malformed, an LSOA has no MSOA or no children, or any of the
        13 indicators is blank after the joins.
    """
    data_dir = Path(data_dir)
    under = _read(data_dir, "iod2025_lsoa21_underlying_indicators.csv.gz")
    scores = _read(data_dir, "iod2025_lsoa21_scores_ranks_deciles.csv.gz",
                   usecols=["lsoa21_code", "Income_score", "Employment_score"])
    subdomains = _read(data_dir, "iod2025_lsoa21_subdomains.csv.gz",
                       usecols=["lsoa21_code", "children_and_young_people_score"])
    wards = _read(data_dir, "lsoa21_ward24_lad24_ew.csv.gz")
    msoa = _read(data_dir, "msoa_names_hcl_ew.csv.gz",
                 usecols=["MSOANM", "MSOA21CD", "MSOAHCLNM", "UTLACD", "UTLANM"])
    ruc = _read(data_dir, "ruc21_lsoa21_ew.csv.gz", usecols=["lsoa21_code", "classification"])
    census = _read(data_dir, "census21_household_deprivation_dimensions_lsoa21.csv.gz")

    base = wards[wards["lsoa21_code"].str.startswith("E")].rename(
        columns={"ltla24_code": "lad24_code", "ltla24_name": "lad24_name"}
    )
    base["msoa21_name"] = base["lsoa21_name"].str[:-1]
    msoa = msoa.dropna(subset=["MSOA21CD"]).drop_duplicates("MSOANM").rename(
        columns={"MSOANM": "msoa21_name", "MSOA21CD": "msoa21_code",
                 "MSOAHCLNM": "msoa21_hcl_name", "UTLACD": "utla_code", "UTLANM": "utla_name"}
    )
    df = base.merge(msoa, on="msoa21_name", how="left", validate="many_to_one")
    df = df.merge(ruc.rename(columns={"classification": "ruc21_class"}), on="lsoa21_code",
                  how="left", validate="one_to_one")
    unmatched = df["msoa21_code"].isna()
    if unmatched.any():
        raise ProfilerError(
            f"build: {int(unmatched.sum())} LSOA(s) have no MSOA, first "
            f"{df.loc[unmatched, 'lsoa21_code'].head(3).tolist()}; check the MSOA names lookup"
        )

    ind = under[["lsoa21_code", *_UNDERLYING]].rename(columns=_UNDERLYING)
    ind = ind.merge(scores, on="lsoa21_code", validate="one_to_one").merge(
        subdomains, on="lsoa21_code", validate="one_to_one"
    )
    ind = ind.rename(columns={"Income_score": "income_deprivation_rate",
                              "Employment_score": "employment_deprivation_rate",
                              "children_and_young_people_score": "cyp_education_score"})

    # Households = the sum of TS011's five categories (0, 1, 2, 3, 4 deprivation dimensions).
    households = census.groupby("lsoa21_code")["count"].sum()
    children = children_0_15_lsoa21(data_dir, households)
    # 815 English LSOAs have a suppressed (blank) IDACI numerator: impute 5.
    idaci = under.set_index("lsoa21_code")[
        "income_deprivation_affecting_children_index_idaci_numerator"
    ].fillna(IDACI_SUPPRESSED_VALUE)
    ind["children_0_15"] = ind["lsoa21_code"].map(children).round(1)
    no_children = ~(ind["children_0_15"] > 0)
    if no_children.any():
        raise ProfilerError(
            f"build: {int(no_children.sum())} LSOA(s) have no estimated children aged 0-15, first "
            f"{ind.loc[no_children, 'lsoa21_code'].head(3).tolist()}; check "
            "ons_mid2020_population_syoa_lsoa11.csv.gz and lsoa11_lsoa21_lad22_ew.csv.gz"
        )
    ind["households_2021"] = ind["lsoa21_code"].map(households)
    pct = 100.0 * ind["lsoa21_code"].map(idaci) / ind["children_0_15"]
    ind["children_income_deprived_pct"] = pct.clip(upper=100.0)

    df = df.merge(ind, on="lsoa21_code", how="inner", validate="one_to_one")
    counts = police_counts(data_dir)
    from profiler.change import police_coverage  # change imports this module

    # Counted where a counted force polices the LSOA (0 if it recorded nothing), blank elsewhere.
    policed = police_coverage(data_dir, df, df["lsoa21_code"],
                              {"2024": POLICE_2024_MONTHS}).to_numpy()
    for col in counts.columns:
        values = df["lsoa21_code"].map(counts[col])
        df[col] = values.where(~policed, values.fillna(0)).where(policed)

    observed = observed_columns(data_dir, df)
    df = pd.concat([df, observed], axis=1)
    df = df[[*IDENTITY_COLUMNS, *INDICATOR_COLUMNS, *OBSERVED_INDICATOR_COLUMNS,
             "children_0_15", "households_2021", "residents_2020", "observed_sv_months",
             *counts.columns]]
    df = df.sort_values("lsoa21_code").reset_index(drop=True)
    missing = df[list(INDICATOR_COLUMNS)].isna().sum()
    if missing.any():
        blanks = missing[missing > 0].to_dict()
        raise ProfilerError(f"build: blank indicator values after the join: {blanks}")
    return df


def write_table(df: pd.DataFrame, out_path: Path) -> None:
    """Write the table deterministically and atomically.

    Floats are written to 6 significant digits with LF line ends, to a temporary file in the
    same folder that then replaces ``out_path``, so a reader never sees a half-written table.

    Parameters
    ----------
    df : DataFrame
        The table from :func:`build_indicator_table`.
    out_path : Path
        Where to write the CSV; its folder is created if needed.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent)
    os.close(fd)
    try:
        df.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the table is a shared, public file
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_build(data_dir: Path, out_path: Path) -> pd.DataFrame:
    """Build the indicator table from ``data_dir/sources`` and write it to ``out_path``.

    Parameters
    ----------
    data_dir : Path
        The ``data`` folder (``python -m profiler build`` passes ``Path("data")``).
    out_path : Path
        Output CSV, normally ``data/indicators/lsoa21_indicators.csv``.

    Returns
    -------
    DataFrame
        The table as written.

    Raises
    ------
    ProfilerError
        If a source file is missing or unreadable, or a join leaves a blank indicator.
    """
    df = build_indicator_table(Path(data_dir))
    write_table(df, Path(out_path))
    return df
