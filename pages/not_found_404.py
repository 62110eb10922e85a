"""A clear page for unknown addresses."""

from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", title="Not found · Serious-violence risk profile")

layout = html.Div(
    [
        html.H1("Page not found"),
        html.P(
            [
                "There is no page at this address. Go to the ",
                dcc.Link("county overview", href="/"),
                ".",
            ],
            id="nf-text",
        ),
    ],
    className="svrp-page",
)
