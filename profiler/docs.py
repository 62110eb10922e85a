"""Documentation generated from the spec, so the README and the methodology page cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from profiler.change import CAVEATS
from profiler.engine import THEME_LABELS
from profiler.errors import ProfilerError
from profiler.spec import Spec

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


def methodology_markdown(spec: Spec) -> str:
    """Write the methodology page: indicators with rationale, the method, and attributions.

    Parameters
    ----------
    spec : Spec

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
        "edition is banded against Warwickshire as it was then. An LSOA whose band rose is "
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
