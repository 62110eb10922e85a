"""Presentation mode of a sub-area profile: the whole High/Very High list beside the map.

Built for a 1280x720 screen share (Teams): the list is compact rows in two columns, grouped in
slides of :data:`PER_SLIDE` rows when a district has more than fit (Left/Right arrow or Page
Up/Down turn them, handled by ``assets/district.js``); a row is a button (keyboard and pointer)
whose id ``{"type": "dst-prow", "id": <LSOA code>}`` the district page's panel callback reads,
and the why-panel (``dst-panel``) opens over the list in the same view ("Back to the list",
Esc). Rows come from :func:`dashboard.components.high_risk_rows`, the one list of every page;
band colours from :data:`dashboard.state.PALETTE`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import html

from dashboard.state import PALETTE
from profiler.engine import BANDS

ROWS_PER_COLUMN = 20  # rows of one column that fit 1280x720 at the presentation type size
PER_SLIDE = 2 * ROWS_PER_COLUMN
ROW_TYPE = "dst-prow"


def _row(position: int, row: dict, names: Mapping[str, str]) -> html.Li:
    band = row["band"]
    i = BANDS.index(band)
    # the neighbourhood name people know, and the LSOA name's own suffix ("012A") to tell
    # apart the LSOAs of one neighbourhood; the code is in the title and the why-panel
    suffix = str(names.get(row["lsoa21_code"], "")).rsplit(" ", 1)[-1]
    name = f"{row['msoa']} {suffix}".strip()
    return html.Li(
        html.Button(
            [
                html.Span(f"{position}", className="svrp-prow-n"),
                html.Span(band, className=f"svrp-prow-band band-{i}",
                          style={"background": PALETTE[i]}),
                html.Span(name, className="svrp-prow-name"),
                # shown where a slide has one column (room for it): the top two drivers
                html.Span(", ".join(str(row["drivers"]).split(", ")[:2]),
                          className="svrp-prow-why"),
            ],
            id={"type": ROW_TYPE, "id": row["lsoa21_code"]},
            n_clicks=0,
            className="svrp-prow",
            title=f"{name} ({row['lsoa21_code']}): {band}; top drivers {row['drivers']}. "
                  "Select to see why.",
            **{"data-code": row["lsoa21_code"]},
        )
    )


def present_list(rows: Sequence[dict], names: Mapping[str, str] | None = None,
                 sub_level: str = "district") -> html.Div:
    """The compact High/Very High list (``dst-slides``): slides of :data:`PER_SLIDE` rows.

    ``names`` maps LSOA codes to LSOA names (their suffix tells a neighbourhood's LSOAs apart).

    Each slide is an ordered list starting at its first position; only the first is shown
    until the arrow keys or the Previous/Next buttons turn it.
    """
    if not rows:
        return html.Div(html.P(f"No High or Very High LSOAs in this {sub_level}."),
                        id="dst-slides", className="svrp-slides")
    chunks = [rows[i:i + PER_SLIDE] for i in range(0, len(rows), PER_SLIDE)]
    slides = [
        html.Ol(
            [_row(k * PER_SLIDE + j + 1, r, names or {}) for j, r in enumerate(chunk)],
            start=k * PER_SLIDE + 1,
            # a short list gets one wide column, with room for each row's drivers
            className="svrp-slide" + (" svrp-slide-1col" if len(chunk) <= ROWS_PER_COLUMN
                                      else ""),
            hidden=k > 0,
            **{"data-slide": str(k + 1), "aria-label": f"Slide {k + 1} of {len(chunks)}"},
        )
        for k, chunk in enumerate(chunks)
    ]
    nav = []
    if len(chunks) > 1:
        nav = [html.Div(
            [
                html.Button("◀ Previous", id="dst-slide-prev", className="svrp-button",
                            n_clicks=0),
                html.Span(f"Slide 1 of {len(chunks)}", id="dst-slide-label",
                          **{"aria-live": "polite"}),
                html.Button("Next ▶", id="dst-slide-next", className="svrp-button", n_clicks=0),
                html.Span("(← → keys)", className="svrp-note"),
            ],
            className="svrp-slide-nav",
        )]
    return html.Div([*nav, *slides], id="dst-slides", className="svrp-slides",
                    **{"data-slides": str(len(chunks))})


def why_overlay(panel) -> html.Div:
    """The why-panel (``panel``, the page's ``dst-panel``) over the list.

    Closed until a row or an area of the map is chosen; ``dst-why-close`` or Esc goes back.
    """
    return html.Div(
        [
            html.Button("◀ Back to the list (Esc)", id="dst-why-close", className="svrp-button",
                        n_clicks=0),
            panel,
        ],
        id="dst-why",
        className="svrp-why",
        role="region",
        **{"aria-label": "Why this area scores as it does"},
    )
