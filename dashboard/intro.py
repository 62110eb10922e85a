"""Context for a newcomer on every page (issue 15): what the page is, which data and periods.

:func:`intro_line` says what the tool is and names the data editions and periods, derived from
the spec's ``source``/``period`` fields and the area's imported police.uk months, never written
by hand. :data:`GLOSSARY` explains the jargon in plain words, once, for the page glossary
(:func:`glossary`), the method drop-downs (:data:`BANDING_LABELS`, :data:`NORMALISATION_LABELS`)
and ``<abbr>`` titles (:func:`term`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dash import dcc, html

# Editions as the spec's sources and periods name them -> how a reader knows them.
_EDITIONS = (
    (re.compile(r"Indices of Deprivation (\d{4})|IoD(\d{4})"), "IoD{}"),
    (re.compile(r"Census (\d{4})"), "Census {}"),
    (re.compile(r"ONS mid-(\d{4})"), "ONS mid-{} population estimates"),
)

GLOSSARY = {
    "LSOA": "Lower layer Super Output Area: a neighbourhood of about 1,500 residents (2021 "
            "census geography), the unit every band is given for.",
    "Band": "Very High, High, Medium, Low or Very Low: where an area's score sits against the "
            "home area's spread of scores. Decision support, not a verdict.",
    "P(High+)": "How sure the High-or-above call is: the share of 1,000 what-if profiles "
                "(weights, method and indicators varied) in which the area comes out High or "
                "Very High.",
    "stddev": "Standard-deviation banding: bands cut at set distances above and below the "
              "average score (in standard deviations, the usual spread of scores).",
    "Change band": "Whether an area's band rose, fell or stayed the same between the IoD2019 "
                   "and IoD2025 comparison profiles.",
    "Gi*": "Getis-Ord Gi*, a hot-spot test: whether an area and its neighbours together score "
           "higher (hot) or lower (cold) than chance would give, after a false-discovery-rate "
           "correction.",
    "z-score": "Each indicator rescaled to 'standard deviations from the average', so "
               "indicators in different units can be added.",
}

BANDING_LABELS = {
    "stddev": "Standard deviations (stddev)",
    "quantile": "Quintiles (equal counts)",
    "natural_breaks": "Natural breaks (Fisher-Jenks)",
    "fixed": "Fixed thresholds",
}
NORMALISATION_LABELS = {
    "zscore": "z-score (standard deviations)",
    "minmax": "Min-max (0 to 1)",
    "rank": "Rank (percentile)",
    "exponential": "Exponential (stretches the top)",
}


def editions(spec) -> list[str]:
    """The data editions the spec's indicators come from, in the order they first appear."""
    seen: list[str] = []
    for ind in spec.indicators:
        for text in (ind.source, ind.period):
            for rx, fmt in _EDITIONS:
                for match in rx.finditer(text or ""):
                    name = fmt.format(next(g for g in match.groups() if g))
                    if name not in seen:
                        seen.append(name)
    return seen


def intro_line(state, what: str, element_id: str) -> html.P:
    """One line: ``what`` the page shows, the indicators, data editions and periods."""
    n = len(state.spec.indicators)
    police = (f"police.uk street crime for {state.incident_period} on the map"
              if state.incident_period else "no police.uk months imported for this area")
    return html.P(
        [
            f"{what} Each ",
            term("LSOA"),
            f" gets a score from {n} open indicators and a ",
            term("Band", "band"),
            f". Data: {', '.join(editions(state.spec))}; {police}. ",
            dcc.Link("How it is worked out", href="/methodology"),
            ".",
        ],
        className="svrp-intro",
        id=element_id,
    )


def term(key: str, text: str | None = None) -> html.Abbr:
    """``text`` (default: the term itself) with its plain-words explanation as its title."""
    return html.Abbr(text or key, title=GLOSSARY[key], className="svrp-term")


def glossary(keys: Iterable[str], element_id: str) -> html.Details:
    """The plain-words meanings of ``keys``, folded under "What the terms mean"."""
    return html.Details(
        [
            html.Summary("What the terms mean"),
            html.Dl([part for k in keys for part in (html.Dt(k), html.Dd(GLOSSARY[k]))]),
        ],
        className="svrp-glossary svrp-no-print",
        id=element_id,
    )


__all__ = ["BANDING_LABELS", "GLOSSARY", "NORMALISATION_LABELS", "editions", "glossary",
           "intro_line", "term"]
