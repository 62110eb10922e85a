"""Monitoring tables and monthly trend charts in the boards' form, for the overview and sub-areas.

One builder for both pages (``prefix`` ``ovw`` or ``dst``): :func:`monitoring_section` lays out
a period control (period kind and end month), one table per source (police.uk, and a loaded
partner extract, each labelled; never added together), a trend chart per measure with the same
months last year beside it, and CSV/Excel export through :func:`profiler.export.table_bytes`.
:func:`register` adds the page's callbacks. The figures come from :mod:`profiler.trends`; this
module only picks the LSOAs, the source and the settings, and formats.

Component ids (``p`` is the prefix): ``p-mon-kind`` and ``p-mon-end`` (the period), ``p-mon-out``
(tables and notes), ``p-mon-chart`` (the chart slot), ``p-mon-export-csv`` /
``p-mon-export-xlsx``, ``p-mon-download``, ``p-mon-msg``. The district page also carries the
tab's ``ovw-partner`` session store so an extract loaded on the overview shows here too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime

import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import partner_state as ps
from dashboard.inputs import PARTNER_STORE, check, one_of, text
from dashboard.state import AppState, current
from profiler import police, trends
from profiler.errors import ProfilerError
from profiler.export import table_bytes

KIND = one_of(lambda v: v is None, text(10, "|".join(trends.PERIODS)))
END = one_of(lambda v: v is None, text(7, r"\d{4}-(0[1-9]|1[0-2])"))
DEFAULT_KIND = "fytd"
# Status cells: the word is always shown; the colour only repeats it (contrast >= 4.5:1).
RAG_STYLE = {
    "Red": {"backgroundColor": "#b2182b", "color": "#ffffff"},
    "Amber": {"backgroundColor": "#fdb863", "color": "#000000"},
    "Green": {"backgroundColor": "#1a7837", "color": "#ffffff"},
}
SPARKS = "▁▂▃▄▅▆▇█"
_LOCK = threading.Lock()
_POLICE: OrderedDict = OrderedDict()
_RESIDENTS: dict = {}


# -- the series of an area --------------------------------------------------------------------
def residents(state: AppState) -> pd.Series:
    """Residents per 2021 LSOA: the backtest's denominator (ONS mid-2020, carried), read once."""
    key = str(state.settings.data_dir)
    if key not in _RESIDENTS:
        _RESIDENTS[key] = ps.residents_lsoa21(ps._lookup_for(state))
    return _RESIDENTS[key]


def police_trends(state: AppState) -> trends.Trends:
    """The home area's police.uk series: its own forces' imported months (kept for 8 areas).

    A month counts as covered only when every force of the area has it imported.
    """
    from dashboard.home import area_forces

    key = (str(state.settings.data_dir), state.home.code)
    with _LOCK:
        if key in _POLICE:
            _POLICE.move_to_end(key)
            return _POLICE[key]
    data = state.settings.data_dir
    forces = area_forces(data, state.home)
    manifest = police.imported(data)["forces"]
    covered = set.intersection(*(set(manifest[f]["months"]) for f in forces)) if forces else set()
    incidents = police.load_incidents(data, lsoa_codes=state.home.lsoa_codes,
                                      forces=list(forces),
                                      crime_types=list(trends.SV_TYPES)) if forces else \
        pd.DataFrame(columns=["lsoa21_code", "month", "crime_type"])
    names = ", ".join(manifest[f].get("name", f) for f in forces)
    made = trends.Trends("police.uk", trends.police_monthly(incidents), tuple(covered),
                         residents(state), name=names)
    with _LOCK:
        _POLICE[key] = made
        while len(_POLICE) > 8:
            _POLICE.popitem(last=False)
    return made


def partner_trends(state: AppState, store) -> trends.Trends | None:
    """The session's partner extract as a series, when one is loaded for this area."""
    if not isinstance(store, dict) or store.get("area", state.default_area) != state.home.code:
        return None
    try:
        data = ps.cache_for(state).get(store.get("key"))
    except Exception:  # noqa: BLE001 - the shared store not answering: show police.uk only
        return None
    extract = getattr(data, "extract", None)
    if extract is None or getattr(extract, "monthly", None) is None:
        return None
    name = extract.name + (" (SYNTHETIC)" if extract.synthetic and "SYNTHETIC" not in
                           extract.name.upper() else "")
    return trends.Trends("partner", extract.monthly, extract.covered, residents(state), name=name)


def scope_codes(state: AppState, sub: str | None) -> tuple[str, list[str]]:
    """The name and LSOA codes of the home area (``sub`` None) or one of its sub-areas."""
    if sub:
        s = state.home.subarea(sub)
        return s.name, list(s.lsoa_codes)
    return state.home.name, list(state.home.lsoa_codes)


# -- formatting -------------------------------------------------------------------------------
def _fmt(value, suffix: str = "", signed: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:+,.1f}{suffix}" if signed else f"{value:,.1f}{suffix}"
    return f"{int(value):+,}{suffix}" if signed else f"{int(value):,}{suffix}"


def display_rows(rows: list[dict], threshold: int, suppress: bool) -> list[dict]:
    """Format table cells as text.

    With ``suppress`` (partner data) a count from 1 to ``threshold - 1`` shows as
    ``<threshold`` and every figure derived from it as ``suppressed``.
    """
    out = []
    for r in rows:
        small = suppress and any(
            c is not None and 0 < c < threshold
            for c in (r["count"], r["last_year"], *(r["years"] or ())))
        hide_count = suppress and r["count"] is not None and 0 < r["count"] < threshold
        hide_last = suppress and r["last_year"] is not None and 0 < r["last_year"] < threshold
        derived = "suppressed" if small else None
        notes = [n for n in (r["why"], r["why_average"] and f"Three-year average: "
                             f"{r['why_average']}") if n]
        notes += [f"counting-rule change of {trends.month_label(m)} lies between the "
                  "periods compared (see below)" for m in r["recording"]]
        out.append({
            "Measure": r["label"],
            "Period": r["period"],
            "Count": f"<{threshold}" if hide_count else _fmt(r["count"]),
            "Rate per 1,000 residents": derived or _fmt(r["rate_per_1000"]),
            "Same period last year (baseline)": f"<{threshold}" if hide_last
            else _fmt(r["last_year"]),
            "Change on last year": derived or _fmt(r["change"], signed=True),
            "% change": derived or _fmt(r["pct_change"], "%", signed=True),
            "Three-year average": derived or (_fmt(r["average_3y"]) if r["average_3y"]
                                              is not None else "not enough history"),
            "% vs three-year average": derived or _fmt(r["pct_vs_average"], "%", signed=True),
            "Status (vs last year)": r["status"] or "no status",
            "Notes": "; ".join(notes) or "",
        })
    return out


COLUMNS = ("Measure", "Count", "Rate per 1,000 residents", "Same period last year (baseline)",
           "Change on last year", "% change", "Three-year average", "% vs three-year average",
           "Status (vs last year)", "Notes")


def table_view(table_id: str, cells: list[dict], caption: str) -> html.Table:
    """An accessible HTML table of :func:`display_rows` cells (status in words, not colour)."""
    head = html.Thead(html.Tr([html.Th(c, scope="col") for c in COLUMNS]))
    body = []
    for cell in cells:
        status = cell["Status (vs last year)"]
        tds = [html.Th(cell["Measure"], scope="row")]
        for c in COLUMNS[1:]:
            rag = c.startswith("Status") and status in trends.STATUSES
            tds.append(html.Td(cell[c], className=f"svrp-rag svrp-rag-{status.lower()}"
                               if rag else None, style=RAG_STYLE[status] if rag else None))
        body.append(html.Tr(tds))
    return html.Table([html.Caption(caption), head, html.Tbody(body)], id=table_id,
                      className="svrp-mon-table")


def sparkline(values) -> str:
    """A unicode sparkline of monthly counts; a gap (NaN) is a space, never a zero bar."""
    vals = [None if pd.isna(v) else float(v) for v in values]
    have = [v for v in vals if v is not None]
    if not have:
        return ""
    top = max(have) or 1.0
    return "".join(" " if v is None else SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS)
                                                                                     - 1)))]
                   for v in vals)


def lsoa_sparklines(state: AppState, codes, months: int = 12) -> dict[str, str]:
    """Each LSOA's police.uk serious-violence sparkline over the last ``months`` of the span."""
    t = police_trends(state)
    if not t.covered:
        return {}
    m = t.lsoa_matrix(list(codes), "sv_all")
    m = m.iloc[:, -months:]
    return {code: sparkline(row) for code, row in zip(m.index, m.to_numpy(), strict=True)}


TREND_COLUMN = {"name": "Serious violence by month (police.uk, 12 months)", "id": "trend"}
TREND_STYLE = {"if": {"column_id": "trend"}, "whiteSpace": "pre", "fontFamily": "monospace",
               "letterSpacing": "-1px", "minWidth": "8em"}


def with_sparklines(state: AppState, rows: list[dict]) -> list[dict]:
    """List rows (``dashboard.components.high_risk_rows``) with a ``trend`` sparkline each."""
    if not rows:
        return rows
    try:
        sparks = lsoa_sparklines(state, [r["lsoa21_code"] for r in rows])
    except ProfilerError:
        return rows
    return [{**r, "trend": sparks.get(r["lsoa21_code"], "")} for r in rows]


# -- the map's period ----------------------------------------------------------------------------
ALL_MONTHS = "all"
_POINTS: OrderedDict = OrderedDict()


def incident_months(state: AppState) -> list[str]:
    """The months of the area's incident points (the map's latest run), in order."""
    return sorted({f["properties"]["month"] for f in state.incidents_geojson.get("features", [])})


def period_options(state: AppState) -> list[dict]:
    """The map's period choices: every month shown, or one of them."""
    span = trends.month_span(incident_months(state))
    return [{"label": f"All months ({span})" if span else "All months", "value": ALL_MONTHS}] + [
        {"label": trends.month_label(m), "value": m} for m in incident_months(state)]


def incident_points(state: AppState, period: str | None) -> dict:
    """The area's incident points of one month (``period``), or all of them.

    Only points: the LSOA geometry is served once and never resent when the period changes.
    """
    if not period or period == ALL_MONTHS:
        return state.incidents_geojson
    key = (id(state.incidents_geojson), period)
    with _LOCK:
        if key in _POINTS:
            return _POINTS[key]
    made = {"type": "FeatureCollection",
            "features": [f for f in state.incidents_geojson.get("features", [])
                         if f["properties"]["month"] == period]}
    with _LOCK:
        _POINTS[key] = made
        while len(_POINTS) > 32:
            _POINTS.popitem(last=False)
    return made


# -- chart --------------------------------------------------------------------------------------
def trend_figure(sources: list[tuple[trends.Trends, bool]], codes: list[str], end: str,
                 threshold: int):
    """Monthly counts of each measure over the 12 months to ``end``, with last year beside.

    One small chart per (source, measure); gaps break the lines (never drawn as zero); with
    ``suppress`` (partner) a month from 1 to ``threshold - 1`` is left out and said so.
    """
    from plotly.subplots import make_subplots

    panels = [(t, m, hide) for t, hide in sources for m in t.measures]
    cols = 2
    nrows = max(1, -(-len(panels) // cols))
    titles = [f"{trends.MEASURES[m].label} ({t.source})" for t, m, _ in panels]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles, vertical_spacing=0.1)
    months = trends.period_months("rolling12", end)
    last = trends.shift(months, 1)
    x = [trends.MONTH_NAMES[int(mm[5:]) - 1] for mm in months]
    for i, (t, measure, hide) in enumerate(panels):
        counts = t.month_counts(codes, measure)

        def y(ms, counts=counts, hide=hide):
            vals = [counts.get(mm) for mm in ms]
            return [None if v is None or pd.isna(v) or (hide and 0 < v < threshold) else v
                    for v in vals]

        row, col = i // cols + 1, i % cols + 1
        fig.add_scatter(x=x, y=y(months), mode="lines+markers", name=f"12 months to "
                        f"{trends.month_label(end)}", line={"color": "#1f4dd8", "width": 2.5},
                        legendgroup="now", showlegend=i == 0, row=row, col=col,
                        connectgaps=False)
        fig.add_scatter(x=x, y=y(last), mode="lines+markers", name="Same months last year",
                        line={"color": "#5a5a5a", "width": 1.5, "dash": "dash"},
                        legendgroup="last", showlegend=i == 0, row=row, col=col,
                        connectgaps=False)
    fig.update_layout(height=220 * nrows + 60, margin={"l": 40, "r": 10, "t": 50, "b": 30},
                      legend={"orientation": "h", "y": 1.02 + 0.02 * nrows, "x": 0},
                      font={"size": 11}, plot_bgcolor="#ffffff")
    fig.update_yaxes(rangemode="tozero", gridcolor="#e5e5e5")
    fig.update_annotations(font_size=11)
    return fig


# -- layout -----------------------------------------------------------------------------------
def end_options(state: AppState, partner: trends.Trends | None = None) -> list[dict]:
    """The end months offered: every month police.uk (or the loaded extract) covers, newest first.

    A month only the extract covers is labelled so (police.uk has no figures for it).
    """
    police_months = set(police_trends(state).covered)
    months = police_months | set(partner.covered if partner is not None else ())
    return [{"label": trends.month_label(m) + ("" if m in police_months else " (partner only)"),
             "value": m} for m in sorted(months, reverse=True)]


def monitoring_section(prefix: str, state: AppState, sub: str | None = None) -> html.Section:
    """The monitoring card of a page: controls, tables (filled by a callback), chart, export."""
    name, _ = scope_codes(state, sub)
    options = end_options(state)
    p = f"{prefix}-mon"
    return html.Section(
        [
            *([dcc.Store(id="ovw-partner", storage_type="session")] if prefix == "dst" else []),
            html.H2(f"Monitoring: {name} against last year", className="svrp-h2",
                    id=f"{p}-title"),
            html.P(
                "Counts for a period beside the same period last year and the three-year "
                "average, in the form partnership boards review. Status follows the "
                f"±{state.settings.trend_rag_pct}% rule against last year (Red: up by more; "
                "Green: down by more; Amber: within). police.uk and partner figures are shown "
                "separately and never added together; months not imported are gaps, not zeros.",
                className="svrp-note",
            ),
            html.Div(
                [
                    html.Label("Period", htmlFor=f"{p}-kind"),
                    dcc.Dropdown(id=f"{p}-kind", clearable=False, value=DEFAULT_KIND,
                                 options=[{"label": v, "value": k}
                                          for k, v in trends.PERIOD_LABELS.items()],
                                 style={"minWidth": "260px"}),
                    html.Label("Ending", htmlFor=f"{p}-end"),
                    dcc.Dropdown(id=f"{p}-end", clearable=False, options=options,
                                 value=options[0]["value"] if options else None,
                                 placeholder="no police.uk months imported",
                                 style={"minWidth": "140px"}),
                ],
                className="svrp-mon-controls svrp-hide-present",
            ),
            dcc.Loading(html.Div(id=f"{p}-out", role="region",
                                 **{"aria-live": "polite", "aria-label": "monitoring tables"})),
            html.Div(
                [
                    html.Span("Export: "),
                    html.Button("CSV (zip with notes)", id=f"{p}-export-csv",
                                className="svrp-button"),
                    html.Button("Excel", id=f"{p}-export-xlsx", className="svrp-button"),
                ],
                className="svrp-exports svrp-hide-present",
            ),
            html.P(id=f"{p}-msg", role="status", className="svrp-note"),
            dcc.Download(id=f"{p}-download"),
            html.Div(id=f"{p}-chart", className="svrp-mon-chart"),
        ],
        # presentation mode shows the map and its list only
        className="svrp-card svrp-monitoring svrp-hide-present",
        id=f"{p}-section",
        **{"aria-label": f"Monitoring for {name}"},
    )


def _sources(state: AppState, store) -> list[tuple[trends.Trends, bool]]:
    out = [(police_trends(state), False)]
    partner = partner_trends(state, store)
    if partner is not None:
        out.append((partner, True))
    return out


def monitoring_tables(state: AppState, sub: str | None, kind: str, end: str | None,
                      store=None, table_prefix: str = "mon") -> tuple[list, list[dict]]:
    """The tables of each source (components) and their rows as text (for export)."""
    name, codes = scope_codes(state, sub)
    threshold = state.settings.disclosure_threshold
    rag = state.settings.trend_rag_pct
    parts: list = []
    export: list[dict] = []
    for t, suppress in _sources(state, store):
        title = ("police.uk recorded crime" + (f" ({t.name})" if t.name else "")
                 if t.source == "police.uk" else f"Partner extract: {t.name}")
        parts.append(html.H3(title, className="svrp-h3"))
        if not t.covered:
            parts.append(html.P(f"No {t.source} months for {state.home.name}: nothing to "
                                "monitor.", className="svrp-note"))
            continue
        parts.append(html.P(f"Months covered: {trends.gaps_text(t.covered)}"
                            + (f"; not covered: {trends.gaps_text(t.missing(t.span()))} "
                               "(gaps, not zeros)" if t.missing(t.span()) else "") + ".",
                            className="svrp-note"))
        if end is None:
            continue
        rows = trends.monitoring_rows(t, codes, kind, end, threshold=threshold, rag_pct=rag)
        cells = display_rows(rows, threshold, suppress)
        export += [{"Source": t.label, "Area": name, **c} for c in cells]  # every note kept
        # a reason every row shares (months not imported) is said once, above the table
        shared = set.intersection(*(set(filter(None, c["Notes"].split("; "))) for c in cells)) \
            if cells else set()
        if shared and len(cells) > 1:
            order = [n for n in cells[0]["Notes"].split("; ") if n in shared]
            parts.append(html.P("Every measure: " + "; ".join(order) + ".",
                                className="svrp-note svrp-mon-shared"))
            for c in cells:
                c["Notes"] = "; ".join(n for n in c["Notes"].split("; ") if n not in shared)
        themes = trends.THEME_MEASURES[t.source]
        caption = (f"{name}, {rows[0]['period']}: {t.label}" if rows else name)
        parts.append(table_view(f"{table_prefix}-{t.source.replace('.', '')}", cells, caption))
        crossed = sorted({m for r in rows for m in r["recording"]})
        for change in trends.RECORDING_CHANGES:
            if change.month in crossed:
                parts.append(html.P(f"Recording change, {trends.month_label(change.month)}: "
                                    f"{change.note}. Source: {change.source}.",
                                    className="svrp-note svrp-recording-change"))
        if not themes:
            parts.append(html.P("police.uk cannot tell the themes (knife, domestic, public "
                                "place): its records carry no such flags. Load a partner "
                                "extract for them.", className="svrp-note"))
    if partner_trends(state, store) is None:
        parts.append(html.P("No partner extract loaded: load one on the overview (Partner "
                            "data) to see its series here, beside police.uk's, never added "
                            "to it.", className="svrp-note"))
    return parts, export


# -- callbacks --------------------------------------------------------------------------------
def register(prefix: str, area_store: str, code_store: str | None, drawn: str,
             focus: str | None = None) -> None:
    """Add the page's callbacks: tables on a period change, chart once the map is drawn, export.

    Reads ``<area_store>`` (the home area), ``<code_store>`` (the sub-area of a district page)
    or ``<focus>`` (the overview's "Focus on a district" dropdown: a sub-area code, anything
    else meaning the whole area), ``ovw-partner`` and ``<drawn>`` (plotly waits for the map).
    """
    p = f"{prefix}-mon"
    code_state = [State(code_store, "data")] if code_store else []
    code_input = [Input(focus, "value")] if focus else []
    code_kept = code_state or ([State(focus, "value")] if focus else [])

    def _state(area, code):
        state = current(area)
        if focus:  # the overview's focus: an unknown value is the whole area
            return state, code if isinstance(code, str) and state.home.has_subarea(code) \
                else None
        if code is not None and not state.home.has_subarea(code):
            raise ProfilerError(f"unknown {state.sub_level} {str(code)[:20]!r}")
        return state, code

    @callback(
        Output(f"{p}-out", "children"),
        Output(f"{p}-title", "children"),
        Input(f"{p}-kind", "value"),
        Input(f"{p}-end", "value"),
        Input("ovw-partner", "data"),
        State(area_store, "data"),
        *code_state,
        *code_input,
    )
    def show_tables(kind, end, store, area, code=None):
        """Fill ``p-mon-out`` for the period chosen in ``p-mon-kind`` / ``p-mon-end``."""
        check((kind, KIND), (end, END), (store, PARTNER_STORE))
        try:
            state, code = _state(area, code)
            parts, _ = monitoring_tables(state, code, kind or DEFAULT_KIND, end, store,
                                         table_prefix=p)
        except ProfilerError as exc:
            return html.P(str(exc), className="svrp-error"), no_update
        return parts, f"Monitoring: {scope_codes(state, code)[0]} against last year"

    @callback(
        Output(f"{p}-end", "options"),
        Input("ovw-partner", "data"),
        State(area_store, "data"),
        prevent_initial_call=True,
    )
    def end_months(store, area):
        """Offer in ``p-mon-end`` the months of police.uk and of the loaded extract."""
        check((store, PARTNER_STORE))
        try:
            state = current(area)
            return end_options(state, partner_trends(state, store))
        except ProfilerError:
            return no_update

    @callback(
        Output(f"{p}-chart", "children"),
        Input(drawn, "data"),
        Input(f"{p}-end", "value"),
        Input("ovw-partner", "data"),
        State(area_store, "data"),
        *code_state,
        *code_input,
        prevent_initial_call=True,
    )
    def show_chart(is_drawn, end, store, area, code=None):
        """Draw the trend chart in ``p-mon-chart`` (after ``drawn``) for ``p-mon-end``."""
        check((end, END), (store, PARTNER_STORE))
        if not is_drawn or not end:
            return no_update
        try:
            state, code = _state(area, code)
            _, codes = scope_codes(state, code)
            fig = trend_figure(_sources(state, store), codes, end,
                               state.settings.disclosure_threshold)
        except ProfilerError as exc:
            return html.P(str(exc), className="svrp-error")
        return [html.H3(f"Monthly trend: 12 months to {trends.month_label(end)} and the same "
                        "months last year", className="svrp-h3"),
                dcc.Graph(figure=fig, config={"displayModeBar": False}, id=f"{p}-graph")]

    @callback(
        Output(f"{p}-download", "data"),
        Output(f"{p}-msg", "children"),
        Input(f"{p}-export-csv", "n_clicks"),
        Input(f"{p}-export-xlsx", "n_clicks"),
        State(f"{p}-kind", "value"),
        State(f"{p}-end", "value"),
        State("ovw-partner", "data"),
        State(area_store, "data"),
        *code_kept,
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, kind, end, store, area, code=None):
        """Send the monitoring tables to ``p-mon-download`` (CSV or Excel, with metadata)."""
        check((kind, KIND), (end, END), (store, PARTNER_STORE))
        fmt = str(ctx.triggered_id).rsplit("-", 1)[-1]
        try:
            state, code = _state(area, code)
            if not end:
                return no_update, "Export unavailable: no months to monitor."
            _, cells = monitoring_tables(state, code, kind or DEFAULT_KIND, end, store)
            name, _ = scope_codes(state, code)
            meta = {
                "title": f"Monitoring table: {name}",
                "area": f"{name} in {state.home.label}" if code else state.home.label,
                "period": trends.period_label(kind or DEFAULT_KIND, end),
                "status_rule": f"Red: up on the same period last year by more than "
                               f"{state.settings.trend_rag_pct}%; Green: down by more; Amber: "
                               "within; no status under the disclosure threshold "
                               f"({state.settings.disclosure_threshold}) or without last year",
                "three_year_average": "mean of this period in the three years ending with it",
                "sources": "police.uk and partner rows are separate sources, never summed",
                "denominator": "residents per 2021 LSOA (ONS mid-2020, carried to 2021 LSOAs)",
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            blob = table_bytes(pd.DataFrame(cells), meta, fmt, sheet="Monitoring")
        except ProfilerError as exc:
            return no_update, f"Export failed: {exc}"
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        slug = code or state.home.slug
        filename = f"monitoring-{slug}-{kind or DEFAULT_KIND}-{end}-{stamp}." + (
            "zip" if fmt == "csv" else fmt)  # the CSV travels zipped with its notes
        return dcc.send_bytes(blob, filename), f"Prepared {filename}."
