"""Methodology page, generated from the indicator spec (the single source of truth)."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.backtests import flat_ids, state_backtests
from dashboard.state import current
from profiler.docs import methodology_markdown

dash.register_page(
    __name__,
    path="/methodology",
    title="Methodology · Serious-violence risk profile",
    name="Methodology",
)


def layout(**_query) -> html.Div:
    """Render ``methodology_markdown(spec, backtests, flat)`` as Markdown (no raw HTML)."""
    state = current()
    text = methodology_markdown(state.spec, state_backtests(state), flat_ids(state))
    return html.Div(
        dcc.Markdown(text, dangerously_allow_html=False, id="mth-text"),
        className="svrp-page svrp-methodology",
    )
