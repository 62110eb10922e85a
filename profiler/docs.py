"""Documentation generated from the spec, so the README and the methodology page cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from profiler.change import CAVEATS
from profiler.engine import THEME_LABELS
from profiler.errors import ProfilerError
from profiler.spec import REQUIREMENTS, Spec

# The attribution texts of data/PROVENANCE.md, verbatim, with what each covers; "[year]" is the
# year of the boundary set. A unit test checks that each text still appears in PROVENANCE.md.
BOUNDARY_YEARS = "2011, 2021 and 2025"  # LSOA 2011; LSOA, MSOA, district 2021; ward 2025 sets
ATTRIBUTIONS = (
    (
        "Boundaries",
        "Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
        "Contains OS data © Crown copyright and database right [year]",
    ),
    (
        "ONS lookups, population estimates, Census 2021",
        "Source: Office for National Statistics licensed under the OGL v3.0.",
    ),
    (
        "English Indices of Deprivation 2019 and 2025",
        "Ministry of Housing, Communities and Local Government (MHCLG, formerly DLUHC), English "
        "Indices of Deprivation, licensed under the OGL v3.0.",
    ),
    (
        "Police recorded crime",
        "Contains public sector information licensed under the OGL v3.0 — data.police.uk "
        "(Warwickshire Police).",
    ),
    (
        "MSOA names (House of Commons Library)",
        "Contains Parliamentary information licensed under the Open Parliament Licence v3.0.",
    ),
)
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
DIRECTION_TEXT = {"higher_is_riskier": "higher = riskier", "lower_is_riskier": "lower = riskier"}


def _cell(text: str) -> str:
    """Escape a value for a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _themes(themes: tuple[str, ...]) -> str:
    return ", ".join(THEME_LABELS.get(t, "Causal factor") for t in themes) or "overall only"


def attribution_texts() -> list[str]:
    """Attribution texts to reproduce with anything derived from the data.

    Returns
    -------
    list of str
        ``'<what it covers>: "<text>"'``, with the boundary years filled in.
    """
    return [f'{what}: "{text.replace("[year]", BOUNDARY_YEARS)}"' for what, text in ATTRIBUTIONS]


_MISSING_TEXT = {
    "error": "a blank indicator value stops the build with an error (none is imputed)",
    "median": "a blank indicator value is replaced by the reference median",
}


def _settings_text(prof) -> str:
    cap = (
        f"raw values are capped at the {prof.cap:g} and {1 - prof.cap:g} reference quantiles"
        if prof.cap
        else "no capping"
    )
    missing = _MISSING_TEXT.get(prof.missing, f"missing values: {prof.missing}")
    fixed = (
        "; fixed cut points " + ", ".join(f"{t:g}" for t in prof.fixed_thresholds)
        if prof.fixed_thresholds and prof.banding == "fixed"
        else ""
    )
    return (
        f"This profile's settings: normalisation **{prof.normalisation}**, banding "
        f"**{prof.banding}**{fixed}, reference **{prof.reference}**; {cap}; {missing}."
    )


def data_dictionary_markdown(spec: Spec) -> str:
    """Markdown table of the spec's indicators (the README data dictionary).

    Parameters
    ----------
    spec : Spec

    Returns
    -------
    str
    """
    rows = [
        "| # | id | indicator | unit | direction | weight | themes | source | period |",
        "|---|---|---|---|---|---:|---|---|---|",
    ]
    for i, ind in enumerate(spec.indicators, 1):
        rows.append(
            "| " + " | ".join(_cell(v) for v in (
                i, f"`{ind.id}`", ind.label, ind.unit, DIRECTION_TEXT[ind.direction],
                f"{ind.weight:g}", _themes(ind.themes), ind.source, ind.period,
            )) + " |"
        )
    return "\n".join(rows) + "\n"


BACKTEST_HEADING = "How well does this profile find where violence happens?"
_BT_METRICS = (("hit_rate", "share of later incidents", True), ("pai", "PAI", False),
               ("pei", "PEI*", False), ("resident_index", "resident index", False),
               ("spearman", "Spearman", False))


#: Plain names of the backtest rankings on the page (the JSON keeps the CLI's names).
RANKING_LABELS = {
    "profile": "this profile",
    "compared: spec_iod_only.toml": "previous default (IoD2025 only)",
    "previous period counts": "last period's counts",
    "random (expected)": "random",
    "ceiling (test counts)": "ceiling (the later counts)",
}


def _bt_cell(row: dict, metric: str, pct: bool) -> str:
    v, lo, hi = row.get(metric), row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
    if v is None or v != v:
        return "-"
    f = (lambda x: f"{100 * x:.1f}%") if pct else (lambda x: f"{x:.2f}")
    if lo is None or lo != lo:
        return f(v)
    return f"{f(v)} ({f(lo)}-{f(hi)})"


def backtest_table_markdown(record: dict, sets: tuple[str, ...] = ("top 10%",)) -> str:
    """Markdown table of one backtest summary (``backtests.json``): every ranking, each set.

    Parameters
    ----------
    record : dict
        One entry of ``backtests.json``'s ``backtests`` (:func:`profiler.backtest.summary_record`).
    sets : tuple of str
        Flagged sets shown (``top 5%``, ``top 10%``, ``top 20%``, ``High+``).

    Returns
    -------
    str
    """
    head = "| ranking | set | " + " | ".join(label for _, label, _ in _BT_METRICS) + " |"
    lines = [head, "|---|---|" + "---:|" * len(_BT_METRICS)]
    for row in record["rows"]:
        if row["set"] not in sets:
            continue
        cells = [_bt_cell(row, m, pct) for m, _, pct in _BT_METRICS]
        name = RANKING_LABELS.get(row["ranking"], row["ranking"])
        lines.append(f"| {_cell(name)} | {row['set']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def backtest_sentence(record: dict) -> str:
    """One plain sentence: the profile's top-10% share against the two targets."""
    rows = {(r["ranking"], r["set"]): r for r in record["rows"]}
    prof, prev = rows.get(("profile", "top 10%")), rows.get(("previous period counts", "top 10%"))
    crime = rows.get(("IoD2025 crime domain", "top 10%"))
    if prof is None:
        return ""
    text = (f"The 10% of LSOAs the profile ranks highest had **{100 * prof['hit_rate']:.1f}%** "
            f"of the {record['n_incidents']:,} later incidents")
    if prev is not None:
        text += f" (last period's counts alone: {100 * prev['hit_rate']:.1f}%)"
    if crime is not None:
        text += (f"; its rank correlation with later incidents is {prof['spearman']:.2f} "
                 f"(the IoD2025 crime domain's: {crime['spearman']:.2f})")
    met = record.get("targets_met", {})
    if met:
        ok = all(met.values())
        text += ". Both targets met." if ok else ". Not every target is met: " + "; ".join(
            name for key, name in (("top10_vs_previous_counts", "top 10% below last period's "
                                    "counts"), ("spearman_vs_crime_domain", "Spearman below "
                                                "the IoD2025 crime domain"))
            if met.get(key) is False) + "."
    return text


def backtest_markdown(backtests: dict | None, spec: Spec, area: str | None = None,
                      heading: str = "##") -> str:
    """Write the "How well does this profile find where violence happens?" section.

    Parameters
    ----------
    backtests : dict or None
        ``data/indicators/backtests.json`` (:func:`profiler.backtest_data.load_backtests`).
    spec : Spec
        The profile shown; figures are for the spec they were run with (said when it differs).
    area : str, optional
        Only the backtests of this area code (a district page shows its county's); when it
        has none, the section says so.
    heading : str
        Markdown heading level.

    Returns
    -------
    str
    """
    parts = [f"{heading} {BACKTEST_HEADING}", ""]
    records = list((backtests or {}).get("backtests", ()))
    if area is not None:
        records = [r for r in records if r.get("area") == area]
    if not records:
        parts += [
            "No backtest for this area: it needs police.uk months for the area's force, at "
            "least two to observe and two later ones to test. With them imported (`python -m "
            "profiler police import`), run `python -m profiler backtest --area CODE "
            "--fit-before YYYY-MM --test MONTHS --observed MONTHS`; a partner's extract can be "
            "judged with `--incidents FILE.csv`.", ""]
        return "\n".join(parts)
    parts += [
        "Each backtest fits the profile only on data from before some months (the IoD2025 "
        "indicators, and police.uk months before them) and counts where the serious-violence "
        "incidents of those later months happened (violence and sexual offences, possession of "
        "weapons, robbery, public order). *Share of later incidents* (hit rate) is the share "
        "in the LSOAs flagged; *PAI* divides it by the share of land area flagged; PEI\\* by "
        "the best share any set of as many LSOAs had (1 = perfect); *resident index* compares "
        "incidents per resident in the flagged LSOAs with the whole area; *Spearman* is the "
        "rank correlation over all LSOAs. Baselines: last period's counts (the naive "
        "forecaster), the IoD2025 crime domain, IMD 2025, random and the ceiling (the later "
        "counts themselves). Brackets: 95% intervals from paired bootstrap draws over LSOAs.",
        ""]
    if backtests.get("spec_sha256") and backtests["spec_sha256"] != spec.sha256:
        parts += ["These figures are for the shipped default spec; the profile shown here uses "
                  "another spec or weights.", ""]
    for record in records:
        parts += [f"**{record['label']}** ({record['n_areas']} LSOAs). "
                  + backtest_sentence(record), "",
                  backtest_table_markdown(record, ("top 10%",))]
    parts += ["Full tables (top 5%, 10%, 20% and the High and Very High set): "
              "`docs/backtest.md`.", ""]
    return "\n".join(parts)


def _availability_markdown(spec: Spec, flat: tuple[str, ...]) -> list[str]:
    optional = [ind for ind in spec.indicators if ind.optional]
    parts: list[str] = []
    if optional:
        labels = ", ".join(f"*{ind.label}*" for ind in optional)
        parts += [
            "## Areas without police.uk data",
            "",
            f"{labels} need imported police.uk months for the area's force (each force's "
            "latest run of consecutive months, at most 12). Where an LSOA has none, it is "
            "scored on the other indicators, with the weights renormalised over them (each "
            "remaining weight divided by their total), and its panel says so; its risk vs "
            "observed chart shows the risk axis only.",
            "",
        ]
    parts += ["## Indicators that do not vary within a district", ""]
    if flat:
        names = ", ".join(f"*{spec.indicator(i).label}*" for i in flat)
        parts += [f"{names}: one value for every LSOA of a district. It lifts or lowers every "
                  "neighbourhood of a district alike, so it says which district, not which "
                  "streets. The area panel flags it.", ""]
    else:
        parts += ["None in this profile. IoD2025's homelessness indicator has one value per "
                  "district in 294 of 295 English districts, so the default profile leaves it "
                  "out; a spec that includes such an indicator has it flagged here and in the "
                  "area panel.", ""]
    return parts


def methodology_markdown(spec: Spec, backtests: dict | None = None,
                         flat: tuple[str, ...] = ()) -> str:
    """Write the methodology page: indicators with rationale, the method, and attributions.

    Parameters
    ----------
    spec : Spec
    backtests : dict, optional
        ``backtests.json``: adds "How well does this profile find where violence happens?".
    flat : tuple of str
        Ids of the spec's indicators with one value per district
        (:func:`profiler.backtest.flat_within`).

    Returns
    -------
    str
        Markdown (no raw HTML).
    """
    prof = spec.profile
    parts = [
        f"# Methodology: {prof.name}",
        "",
        "This profile ranks every LSOA (a neighbourhood of about 1,500 residents) by a composite "
        "score built from the indicators below, and gives it a risk level — Very High, High, "
        "Medium, Low or Very Low — overall, for each theme and for each indicator. The levels "
        "are decision support for partnership meetings: professional judgement and partners' "
        "own data always come first.",
        "",
        "## The method in plain words",
        "",
        "1. **Normalisation.** Each indicator is put on a common scale relative to a reference "
        f"population (default: **{prof.reference}**). The default, **{prof.normalisation}**, "
        "is explained with the alternatives: *z-score* (standard deviations from the reference "
        "average), *min-max* (0 at the reference minimum, 1 at its maximum), *rank* (the "
        "reference percentile, 0-1) and *exponential* (the English Indices of Deprivation "
        "transformation: the rank R, scaled to (0, 1], becomes -23 ln(1 - R(1 - e^(-100/23))), "
        "0-100, stretching the riskiest tail). Indicators where a lower value is riskier are "
        "flipped so that higher always means riskier. Outliers can be capped (winsorised) at "
        "reference quantiles.",
        "2. **Weighting.** The overall score is the weighted average of the normalised "
        "indicators. An indicator's *contribution* is its share of the total weight times its "
        "normalised value; the contributions add up to the score, which is how the dashboard "
        "explains why an area scores as it does.",
        "3. **Themes.** Knife crime, domestic violence and public-place violence each have a "
        "score: the weighted average of the indicators tagged with that theme. Indicators "
        "tagged only as causal factors (deprivation, education, mental health, housing) count "
        "towards the overall score, not towards a theme.",
        "4. **Bands.** The default scheme, *stddev*, puts an area in **Very High** when its score "
        "is more than two standard deviations above the reference mean, **High** between one "
        "and two, **Medium** within one, **Low** between one and two below, and **Very Low** "
        "more than two below. Alternatives: *quantile* (five equal-sized groups), "
        "*natural breaks* (Fisher-Jenks: groups that are as different from each other as "
        "possible) and *fixed* thresholds on the score. Class edges are upper-inclusive.",
        "5. **Reference population.** Bands are fitted on the whole reference area (the county, "
        "each district, all England, or the home area itself) and applied to any view, so a "
        "district profile uses the "
        "county's bands and stays comparable with it.",
        "",
        _settings_text(prof),
        "",
        "## How sure is a band?",
        "",
        "A composite index depends on the analyst's choices. The dashboard repeats the profile "
        "1,000 times, each time drawing new weights around the spec's (a Dirichlet draw), a "
        "normalisation and a banding scheme at random, and in half the draws leaving one "
        "indicator out. For each LSOA it reports the share of these what-if profiles in which "
        "the LSOA is High or above, the band it gets most often, and the range of ranks it takes "
        "in 90% of them. An LSOA that is Very High in 95% of draws is a firm priority; one that "
        "is High in 55% sits on a boundary and deserves professional judgement. The same "
        "analysis leaves each indicator out in turn to show which ones move the ranking most.",
        "",
        "The shipped analysis is for the spec's weights. After changing the weights on the "
        "county overview, **How sure are these bands?** repeats it around your weights (a few "
        "seconds, with a progress bar); the \"How sure\" layer, the P(High+) column and the "
        "area panel then use your result. Every run already varies the normalisation and the "
        "banding scheme, so changing only those needs no new run.",
        "",
        "## Hot spots",
        "",
        "A high score in one LSOA may be chance; a cluster of neighbouring high scores is a hot "
        "spot. The Getis-Ord Gi* statistic compares the scores of an LSOA and its neighbours "
        "(LSOAs sharing a boundary or a corner) with the county as a whole. Because hundreds of "
        "LSOAs are tested at once, the Benjamini-Hochberg false-discovery-rate correction is "
        "applied, so that at the 95% level no more than about 5% of the hot and cold spots "
        "shown are expected to be false alarms.",
        "",
        "The map has a hot-spot layer for the overall score and one for each theme score "
        "(knife crime, domestic violence, public-place violence). Each is tested on its own: a "
        "cluster can be a hot spot for one theme and not for another. The legend gives three "
        "levels of significance (99%, 95% and 90%, after the correction); the strongest are the "
        "darkest red (hot) and darkest blue (cold). Hot spots use the spec's weights and do not "
        "change with what-if weights.",
        "",
        "## Incident heat layer",
        "",
        "police.uk incident points (which police.uk snaps to the nearest street or public place "
        "for anonymity) are smoothed with a kernel of 500 m on a 400 m grid in British National "
        "Grid metres, giving incidents per square kilometre.",
        "",
        "## Change since IoD2019",
        "",
        "The \"Change since IoD2019\" layer shows which LSOAs moved band between the English "
        "Indices of Deprivation 2019 and 2025. Both editions are scored the same way, with the "
        "spec's weights, on the six deprivation measures both publish for every area, and each "
        "edition is banded against the home area as it was then. An LSOA whose band rose is "
        "orange with a solid outline, one whose band fell is purple with a dashed outline, and "
        "the rest are near-white. District pages list the LSOAs that rose or fell, with their "
        "band then and now and police.uk counts of violence and sexual offences, possession of "
        "weapons, robbery and public order for January-February 2019 beside January-February "
        "2024. Read them with these caveats:",
        "",
        *[f"- **{title}** {text}" for title, text in CAVEATS],
        "",
        "## Comparing banding methods",
        "",
        "District profiles list the LSOAs whose band depends on the banding scheme (standard "
        "deviations, quintiles, natural breaks or fixed thresholds). Quintiles always put 40% "
        "of areas in High or above; standard deviations only flag areas that stand out from "
        "the county.",
        "",
        *_availability_markdown(spec, tuple(flat)),
        *([backtest_markdown(backtests, spec)] if backtests is not None else []),
        "## Indicators",
        "",
    ]
    for ind in spec.indicators:
        parts += [
            f"### {ind.label} (`{ind.id}`)",
            "",
            f"- **Unit:** {ind.unit}; {DIRECTION_TEXT[ind.direction]}; weight {ind.weight:g}",
            f"- **Themes:** {_themes(ind.themes)}",
            f"- **Source:** {ind.source}",
            f"- **Period:** {ind.period}",
            f"- **Licence:** {ind.licence}",
            f"- **Why it is here:** {ind.rationale}",
            *([f"- **Needs:** {REQUIREMENTS[ind.requires]}; blank where the force has none "
               "(weights renormalised over the other indicators)"] if ind.optional else []),
            *(["- **Flat within districts:** one value for every LSOA of a district"]
              if ind.id in flat else []),
            "",
        ]
    licences = sorted({ind.licence for ind in spec.indicators})
    parts += ["## Licences", ""] + [f"- {_cell(lic)}" for lic in licences] + [""]
    parts += [
        f"Open Government Licence v3.0: {OGL_URL}",
        "",
        "## Attributions",
        "",
        "Reproduce these wherever the data or anything derived from it is published (exports, "
        "printed profiles, screenshots):",
        "",
    ]
    parts += [f"- {a}" for a in attribution_texts()] + [""]
    return "\n".join(parts)


def replace_block(text: str, name: str, body: str) -> str:
    """Replace the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers.

    Parameters
    ----------
    text : str
        The document.
    name : str
        Block name.
    body : str
        New content (a trailing newline is added if missing).

    Returns
    -------
    str
        The document with the block replaced.

    Raises
    ------
    ValueError
        If the markers are missing.
    """
    pattern = re.compile(
        rf"(<!-- BEGIN {re.escape(name)} -->\n)(.*?)(<!-- END {re.escape(name)} -->)", re.S
    )
    if not pattern.search(text):
        raise ValueError(f"no <!-- BEGIN {name} --> ... <!-- END {name} --> markers found")
    if not body.endswith("\n"):
        body += "\n"
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def update_readme(readme_path: str | Path, spec: Spec) -> bool:
    """Regenerate the README's data-dictionary block from the spec.

    Parameters
    ----------
    readme_path : str or Path
        The README; it must contain ``<!-- BEGIN data-dictionary -->`` and
        ``<!-- END data-dictionary -->`` markers.
    spec : Spec

    Returns
    -------
    bool
        True when the file changed (it is only written then).

    Raises
    ------
    ProfilerError
        When the markers are missing.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8")
    try:
        new = replace_block(text, "data-dictionary", data_dictionary_markdown(spec))
    except ValueError as exc:
        raise ProfilerError(f"{path}: {exc}; add them where the table should go") from None
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
