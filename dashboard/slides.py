"""Slide-ready PNGs: each chart and the map at 1280x720, with title, legend, period, attribution.

Charts: plotly's own "Download plot as a PNG" (the modebar's toImage) with a file name and a
slide size (:func:`chart_config`), the caption written into the figure (:func:`captioned`), so
the saved image says what it is without the page around it. Server-side rendering (kaleido) was
not taken: kaleido 1.x drives a Chrome on the server at run time, a heavy dependency for what
the browser already draws. The map: ``assets/svrp-snapshot.js`` draws the LSOA canvas, the SVG
outlines, the district labels and the page's legend onto one canvas with the title and the
caption from the button's ``data-*`` attributes (:func:`map_button`), all text set from here.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import UTC, datetime
from html import escape as html_escape

from dash import html

from profiler.docs import attribution_texts

SLIDE = {"width": 1280, "height": 720}
# The map slide's own colours (paper, text, frames, label halo), sent in the button's data-style
# so that assets/svrp-snapshot.js holds no colour of its own.
SLIDE_STYLE = {"paper": "#ffffff", "ink": "#111111", "muted": "#333333", "frame": "#999999",
               "halo": "rgba(255, 255, 255, 0.85)", "legend_bg": "rgba(255, 255, 255, 0.94)"}
_QUOTED = re.compile(r'"(.*)"')


_EDITION = re.compile(r"English Indices of Deprivation \d{4}|IoD\d{4}|Census \d{4}|"
                      r"ONS mid-\d{4} population|police\.uk")


def editions(spec) -> str:
    """The data editions named in the spec's sources and periods ("Census 2021, ...")."""
    found = set()
    for ind in spec.indicators:
        for name in _EDITION.findall(f"{ind.source} {ind.period}"):
            found.add(re.sub(r"^IoD(\d{4})$", r"English Indices of Deprivation \1", name))
    return ", ".join(sorted(found)) or "see the methodology page"


def attribution(kinds: tuple[str, ...] = ("Boundaries", "English Indices")) -> str:
    """The attribution texts to print on a slide (boundaries and IoD by default)."""
    texts = [t for t in attribution_texts() if t.startswith(kinds)]
    return " ".join(m.group(1) if (m := _QUOTED.search(t)) else t for t in texts)


def caption(state, extra: str = "") -> str:
    """The period/data line of a slide: profile, data editions, made on (date), ``extra``."""
    made = datetime.now(UTC).strftime("%-d %B %Y")
    parts = [state.spec.profile.name, f"Data: {editions(state.spec)}", f"Made {made}"]
    return ". ".join(p for p in [*parts, extra] if p) + "."


def slug(text: str) -> str:
    """A file-name-safe lower-case slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "chart"


def chart_config(name: str) -> dict:
    """A ``dcc.Graph`` config with only the PNG download, saved as ``<name>.png`` at 1280x720."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": slug(name), "scale": 1, **SLIDE},
    }


def captioned(fig: dict, text: str, width: int = 80, gap: int = 0) -> dict:
    """``fig`` (plotly JSON) with ``text`` (period and attribution) as a caption under the plot.

    Wrapped at ``width`` characters; ``<`` and ``>`` are escaped, since plotly reads a few tags
    in annotation text. ``gap`` moves the caption that many pixels further down (under tall
    tick labels and an axis title). Returns ``fig``, changed in place.
    """
    layout = fig.setdefault("layout", {})
    safe = html_escape(text, quote=False)
    lines = textwrap.wrap(safe, width) or [""]
    title = (layout.get("xaxis") or {}).get("title")
    axis_title = bool(title.get("text") if isinstance(title, dict) else title)
    layout["annotations"] = [*layout.get("annotations", []), {
        "text": "<br>".join(lines), "xref": "paper", "yref": "paper", "x": 0, "y": 0,
        "xanchor": "left", "yanchor": "top", "yshift": (-44 if axis_title else -26) - gap,
        "showarrow": False, "align": "left", "font": {"size": 9, "color": "#444444"},
    }]
    margin = dict(layout.get("margin") or {})
    extra = 18 if axis_title else 0
    margin["b"] = max(margin.get("b", 30), 30) + 14 * len(lines) + 4 + extra + gap
    layout["margin"] = margin
    return fig


def map_button(button_id: str, map_id: str, title: str, state, extra: str = "") -> html.Button:
    """The "Map as PNG" button: ``assets/svrp-snapshot.js`` reads its ``data-*`` attributes."""
    return html.Button(
        "Map as PNG (slide)",
        id=button_id,
        n_clicks=0,
        className="svrp-button svrp-map-png svrp-hide-present",
        title="Save the map with its title, legend, period and attribution as a 1280x720 PNG",
        **{
            "data-map": map_id,
            "data-title": title,
            "data-caption": caption(state, extra),
            "data-attribution": attribution(),
            "data-filename": slug(title) + ".png",
            "data-style": json.dumps(SLIDE_STYLE),
        },
    )
