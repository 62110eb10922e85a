"""Accessibility statement, in the GOV.UK model statement's pattern (PSBAR 2018, WCAG 2.2 AA).

Linked from every page's footer. The sections follow the model: how accessible the site is, what
to do if you cannot use it, reporting problems, the enforcement procedure, technical information,
compliance status, non-accessible content, and how the site was tested.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.state import current

dash.register_page(
    __name__,
    path="/accessibility",
    title="Accessibility statement · Serious-violence risk profile",
    name="Accessibility statement",
)

TESTED = "December 2026"  # when the checks below were last run in full (update with them)


def _section(title: str, *body) -> html.Section:
    return html.Section([html.H2(title, className="svrp-h2"), *body])


def layout(**_query) -> html.Div:
    """The statement; the home area is named from the state, the rest is fixed text."""
    state = current()
    return html.Div(
        [
            html.H1("Accessibility statement for the serious-violence risk profile"),
            html.P(
                f"This statement applies to this deployment of the serious-violence risk "
                f"profile for {state.home.name} and any other area it offers: the overview, "
                "district and ward profiles, England and other areas, and the methodology."
            ),
            html.P(
                "We want as many people as possible to be able to use it. For example, you "
                "should be able to:"
            ),
            html.Ul(
                [
                    html.Li("zoom in up to 400% without the text spilling off the screen; a "
                            "district profile reflows to a 320 px wide window"),
                    html.Li("reach every area, its explanation and every export with a keyboard "
                            "alone: 'Skip to the list of areas', Enter on a row opens its "
                            "explanation, Escape closes it"),
                    html.Li("use the site with a screen reader: the map's areas are listed in "
                            "the table below it, and each chart has its values as text"),
                    html.Li("turn district names on the map off, and fold the map key away"),
                ]
            ),
            _section(
                "How accessible this website is",
                html.P("We know some parts are not fully accessible:"),
                html.Ul(
                    [
                        html.Li("the map itself is a picture drawn on a canvas: a screen reader "
                                "cannot read its areas one by one; the list of areas and the "
                                "panel give the same information as text"),
                        html.Li("hovering over the map shows details that the keyboard reaches "
                                "only through the list"),
                        html.Li("the what-if sliders are standard controls from the Dash "
                                "framework, repaired on the page (names, roles, tab order); "
                                "each has a number box you can type into instead"),
                    ]
                ),
            ),
            _section(
                "Feedback and contact information",
                html.P(
                    "If you need information from this site in a different format, such as a "
                    "spreadsheet of the areas, use the CSV or Excel exports on each map page, "
                    "or contact the team that gave you access to this deployment."
                ),
            ),
            _section(
                "Reporting accessibility problems with this website",
                html.P(
                    "We are always looking to improve the accessibility of this website. If you "
                    "find any problems not listed on this page or think we are not meeting "
                    "accessibility requirements, tell the team that runs this deployment; "
                    "problems in the software itself can be reported on the project's issue "
                    "tracker."
                ),
            ),
            _section(
                "Enforcement procedure",
                html.P(
                    "The Equality and Human Rights Commission (EHRC) is responsible for "
                    "enforcing the Public Sector Bodies (Websites and Mobile Applications) (No. "
                    "2) Accessibility Regulations 2018 (the 'accessibility regulations'). If "
                    "you are not happy with how we respond to your complaint, contact the "
                    "Equality Advisory and Support Service (EASS)."
                ),
            ),
            _section(
                "Technical information about this website's accessibility",
                html.P(
                    "The organisation running this deployment is committed to making its "
                    "website accessible, in accordance with the Public Sector Bodies (Websites "
                    "and Mobile Applications) (No. 2) Accessibility Regulations 2018."
                ),
                html.H3("Compliance status", className="svrp-h3"),
                html.P(
                    "This website is partially compliant with the Web Content Accessibility "
                    "Guidelines version 2.2 AA standard, due to the non-compliances listed "
                    "below."
                ),
            ),
            _section(
                "Non-accessible content",
                html.H3("Non-compliance with the accessibility regulations", className="svrp-h3"),
                html.Ul(
                    [
                        html.Li("The map's areas cannot be focused one by one (WCAG 2.1.1 "
                                "Keyboard for the map itself); every area's details are reached "
                                "by keyboard through the list of areas and the panel."),
                        html.Li("Colour bands on the map are told apart by colour and by "
                                "outline weight; the lighter bands (Very Low, Low, Medium) by "
                                "colour alone, with their names in the key and the list "
                                "(WCAG 1.4.1 Use of colour)."),
                    ]
                ),
            ),
            _section(
                "What we're doing to improve accessibility",
                html.P(
                    "Every page and state (each map layer, an open panel, presentation mode, "
                    "other areas) is checked automatically with axe-core against WCAG 2.0, "
                    "2.1 and 2.2 A and AA on every change to the software, and a keyboard-only "
                    "test opens an area's explanation and downloads an export on each map page."
                ),
            ),
            _section(
                "Preparation of this accessibility statement",
                html.P(
                    f"This statement was prepared in {TESTED}. The website was last tested in "
                    f"{TESTED}, automatically (axe-core, headless Chromium) and by hand "
                    "(keyboard only, at 1280×720, 1920×1080 and 320 px wide)."
                ),
                html.P(["See also the ", dcc.Link("methodology", href="/methodology"), "."]),
            ),
        ],
        className="svrp-page svrp-methodology",
        id="a11y-statement",
    )
