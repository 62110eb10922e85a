"""How a sub-area compares: with its home area, England and the most similar districts.

One table (``dst-benchmark``) on the district or ward profile, on screen and in print: the
share of LSOAs High or Very High when banded against England and against the home area, for
the sub-area, the home area, the average of the similar districts (:mod:`profiler.similar`)
and England, with the method in words beneath. For a ward of a single-district area the
similar districts are those of that district. Built once per state and sub-area (cached).
"""

from __future__ import annotations

from functools import lru_cache

from dash import html

from dashboard.state import state_by_id
from profiler.codes import LAD_RE
from profiler.similar import (
    METHOD,
    K,
    district_profiles,
    high_share,
    iod_indicators,
    nearest_districts,
    similar_average,
)


@lru_cache(maxsize=4)
def _profiles(state_id: int):
    state = state_by_id(state_id)
    return district_profiles(state.table, state.spec)


def similar_to(state, code: str) -> tuple[str | None, object]:
    """The district whose neighbours are shown for sub-area ``code``, and those neighbours.

    A district sub-area: its own; a ward: the home area when that is one district; else none.
    """
    target = code if LAD_RE.fullmatch(code) else (
        state.home.code if LAD_RE.fullmatch(state.home.code) else None)
    if target is None:
        return None, None
    return target, nearest_districts(_profiles(id(state)), target, K)


def _pct(high: int, n: int) -> str:
    return f"{high / n:.0%} ({high:,} of {n:,})" if n else "–"


def comparison_section(state, code: str) -> html.Section:
    """:func:`_comparison_section` for a state (cached by the state's id)."""
    return _comparison_section(id(state), code)


@lru_cache(maxsize=16)
def _comparison_section(state_id: int, code: str) -> html.Section:
    state = state_by_id(state_id)
    sub = state.home.subarea(code)
    home = state.home
    england = state.score_area("england", "england")
    target, near = similar_to(state, code)
    sub_codes, home_codes = list(sub.lsoa_codes), list(home.lsoa_codes)
    columns = [sub.name, f"{home.name} (home area)"]
    vs_england = [_pct(*high_share(england, sub_codes)), _pct(*high_share(england, home_codes))]
    vs_home = [_pct(*high_share(state.county, sub_codes)), _pct(*high_share(state.county))]
    if near is not None and len(near):
        columns.append(f"Similar districts (average of {len(near)})")
        avg = similar_average(england, near["lad24_code"])
        vs_england.append("–" if avg is None else f"{avg:.0%}")
        vs_home.append("–")
    columns.append("England")
    vs_england.append(_pct(*high_share(england)))
    vs_home.append("–")
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th("Share of LSOAs High or Very High")]
                               + [html.Th(c, scope="col") for c in columns])),
            html.Tbody([
                html.Tr([html.Th("Banded against England", scope="row")]
                        + [html.Td(v) for v in vs_england]),
                html.Tr([html.Th(f"Banded against {home.name}", scope="row")]
                        + [html.Td(v) for v in vs_home]),
            ]),
        ],
        id="dst-benchmark",
        className="svrp-counts svrp-benchmark",
    )
    parts = [
        html.H2(f"How {sub.name} compares", className="svrp-h2"),
        table,
        html.P(
            "Banded against England, every LSOA is compared with all of England's, so the "
            "shares can be read side by side; banded against the home area, they describe the "
            "area against itself (the profile shown on this page). – : not comparable (each "
            "other area would be banded against itself).",
            className="svrp-note",
        ),
    ]
    if near is not None and len(near):
        name = state.lad_names.get(target, target)
        parts += [
            html.P(
                [html.Strong(f"Most similar to {name}: "),
                 "; ".join(f"{r.lad24_name} (distance {r.distance:.2f})"
                           for r in near.itertuples())],
                id="dst-similar",
            ),
            html.P(METHOD.format(k=len(near), name=name, n=len(iod_indicators(state.spec)),
                                 districts=len(_profiles(id(state)))),
                   id="dst-similar-method", className="svrp-note"),
        ]
    return html.Section(parts, className="svrp-card svrp-hide-present", id="dst-compare-others",
                        style={"marginTop": "12px"})
