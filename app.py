"""The dashboard: ``python app.py`` (or ``make run``) serves it on http://127.0.0.1:8050."""

from __future__ import annotations

import gzip
import logging
import os
import re
import sys
from collections import OrderedDict
from html import escape

import dash
from dash import Dash, Input, Output, callback, dcc, html, no_update
from flask import Response, request
from flask_compress import Compress

from dashboard import shared
from dashboard import shell as first_paint
from dashboard.area import area_href, scope_geometry_gz, validate_scope
from dashboard.inputs import install as install_inputs
from dashboard.security import install as install_security
from dashboard.settings import Settings
from dashboard.state import AREA_GEOMETRY_ROUTE, current, load_state, resolve_area
from profiler.area import LEVEL_LABELS
from profiler.errors import ProfilerError

AREA_PATH_RE = re.compile(r"^/area/([^/]+)(?:/(district|ward)/([^/]+))?/?$")
NAV_SUBAREAS = 12  # sub-area links in the navigation bar at most (wards: use the list instead)


def page_area(path: str | None) -> str | None:
    """The area code an address names (``/area/<code>/...``), or None for the default area."""
    match = AREA_PATH_RE.match(path or "")
    return match.group(1) if match else None


def _navbar() -> html.Nav:
    """The navigation bar, with an area chooser (``svrp-area-pick``).

    The area's overview and sub-area links (``svrp-nav-area``) follow the address
    (:func:`nav_links`); then explore and methodology.
    """
    state = current()
    areas = state.offered or tuple(
        a for level in ("county", "csp", "force", "district") for a in state.catalogue.areas(level)
    )
    options = sorted(
        ({"label": f"{a.name} ({LEVEL_LABELS[a.level]})", "value": a.code} for a in areas),
        key=lambda o: o["label"],
    )
    return html.Nav(
        [
            html.Span("Serious-violence risk profile", className="svrp-brand"),
            html.Span(_area_links(state), id="svrp-nav-area"),
            dcc.Link("England and other areas", href="/explore", className="svrp-nav-link"),
            dcc.Link("Methodology", href="/methodology", className="svrp-nav-link"),
            html.Label("Choose an area", htmlFor="svrp-area-pick",
                       className="svrp-visually-hidden"),
            html.Div(
                dcc.Dropdown(id="svrp-area-pick", options=options, value=None,
                             placeholder="Choose an area…", clearable=False,
                             className="svrp-area-pick"),
                className="svrp-nav-pick",
                title="Any county, police force area, partnership or district in England",
            ),
            dcc.Location(id="svrp-location", refresh=False),
            dcc.Location(id="svrp-go", refresh=True),
        ],
        className="svrp-nav",
        **{"aria-label": "Main"},
    )


def _area_links(state) -> list:
    code = state.home.code
    links = [dcc.Link(f"{state.home.name} overview", href=area_href(code),
                      className="svrp-nav-link")]
    if len(state.home.subareas) <= NAV_SUBAREAS:
        links += [
            dcc.Link(sub.name, href=area_href(code, sub.code, state.sub_level),
                     className="svrp-nav-link")
            for sub in state.home.subareas
        ]
    return links


@callback(Output("svrp-nav-area", "children"), Input("svrp-location", "pathname"))
def nav_links(pathname):
    """The area links for the address in ``svrp-location`` (the default area's elsewhere)."""
    try:
        state = current(page_area(pathname))
    except ProfilerError:
        state = current()
    return _area_links(state)


@callback(Output("svrp-go", "href"), Input("svrp-area-pick", "value"), prevent_initial_call=True)
def pick_area(code):
    """Open the overview of the area chosen in ``svrp-area-pick``."""
    try:
        return area_href(current(code).home.code) if code else no_update
    except ProfilerError:
        return no_update


def page_exists(path: str) -> bool:
    """Whether a page address names something: an offered area, one of its sub-areas.

    Read by ``dashboard.inputs`` for the HTTP status (404 for a bad link), without building
    an area's state. ``/404`` itself is the "not found" page.
    """
    path = "/" + path.strip("/")
    if path == "/404":
        return False
    state = current()
    if path.startswith("/district/"):
        return state.home.has_subarea(path.removeprefix("/district/"))
    match = AREA_PATH_RE.match(path)
    if path.startswith("/area/") and not match:
        return False
    if match:
        try:
            home = resolve_area(state, match.group(1))
        except ProfilerError:
            return False
        level, sub = match.group(2), match.group(3)
        return level is None or (level == home.sub_level and home.has_subarea(sub))
    return True


WORKER_ASSET = "lsoa-worker.js"
# Lazily loaded component chunks each map page needs (dash-leaflet's GeoJSON, the list, and the
# overview's and explore's controls), by page.
_MAP_CHUNKS = (
    "dash_leaflet/async-GeoJSON.js",
    "dash/dash_table/async-table.js",
    "dash/dash_table/async-highlight.js",
)
_CONTROL_CHUNKS = ("dash/dcc/async-dropdown.js", "dash/dcc/async-slider.js")
ASYNC_CHUNKS = {
    "overview": _MAP_CHUNKS + _CONTROL_CHUNKS + ("dash/dcc/async-upload.js",),
    "district": _MAP_CHUNKS,
    "explore": _MAP_CHUNKS + _CONTROL_CHUNKS,
}
BOOT_ASSET = "svrp-boot.js"
PAINT_ASSET = "svrp-paint.js"
# Loaded by hand (the paint and boot scripts in <head>, the worker by the boot script), not by
# Dash.
HEAD_ASSETS = (PAINT_ASSET, BOOT_ASSET)
ASSETS_IGNORE = (rf"(^|[/\\])({'|'.join(re.escape(a) for a in (WORKER_ASSET, *HEAD_ASSETS))})$")
# First paints (dashboard.shell) for scopes of at most this many LSOAs: a county or force area,
# not England, whose view alone would be ~100 kB in every page.
PAINT_MAX_LSOAS = 5_000
PAINT_CACHE = 64  # first paints kept per app (address and query string), least recent dropped
log = logging.getLogger(__name__)


def _page_layout(path: str, query: dict):
    """The layout a Dash page gives for ``path`` and ``query``, as Dash's page router calls it."""
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            match = re.match("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", template) + "/?$", path)
            variables = match.groupdict() if match else None
        else:
            variables = {} if page.get("path") == path else None
        if variables is not None:
            layout = page["layout"]
            return layout(**variables, **query) if callable(layout) else layout
    return None


def _early_geometry(app: Dash) -> None:
    """Start on the LSOA geometry with the page on map pages, not when the map mounts.

    Every map page (the county overview, district pages, explore) names its scope's geometry to
    ``assets/svrp-boot.js``, the first script of every page, which has ``assets/lsoa-worker.js``
    fetch, parse and project it on the other core while Dash starts; ``assets/svrp-canvas.js``
    draws it once the map and its view are there. Other pages name none.
    """

    def boot(geometry: str | None, on_page: bool) -> str:
        # on_page: a scope small enough for a first paint (a county, not England) has its
        # geometry parsed on the page, at once, by the worker's code loaded as a script: ~10 ms
        # for a county, against a worker's start-up and its own script request behind the bundles
        scripts = [PAINT_ASSET, WORKER_ASSET] if on_page else [PAINT_ASSET]
        head = "".join(f'<script src="{escape(app.get_asset_url(a))}"></script>' for a in scripts)
        attrs = {
            "src": app.get_asset_url(BOOT_ASSET),
            "data-worker": app.get_asset_url(WORKER_ASSET),
        }
        if geometry:
            attrs["data-geometry"] = app.get_relative_path(geometry)
        if on_page:
            attrs["data-on-page"] = "true"
        return head + "<script " + " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items()) \
            + "></script>"

    # The page's first paint (dashboard.shell): its static copy and first view, made from the
    # page's own layout once per address and query string.
    paints: OrderedDict = OrderedDict()

    def paint_for(path: str, query: dict) -> tuple[str, str]:
        key = (path, tuple(sorted(query.items())))
        if key in paints:
            paints.move_to_end(key)
            return paints[key]
        try:
            page = _page_layout(path, query)
            first = first_paint.first_view(page)
            if first is None or len(first["view"].get("band_string") or "") > PAINT_MAX_LSOAS:
                made = ("", "")
            else:
                state = current(page_area(path))
                made = (first_paint.first_view_script(first), first_paint.shell(
                    app.layout, {"_pages_content": page, "svrp-nav-area": _area_links(state)}))
        except Exception:  # noqa: BLE001 - an optional head start: the page works without it
            log.exception("no first paint for %s", path)
            made = ("", "")
        paints[key] = made
        while len(paints) > PAINT_CACHE:
            paints.popitem(last=False)
        return made

    # The map pages' lazily loaded component chunks, fetched with the page instead of one after
    # another as React meets them (the map waits for dash-leaflet's GeoJSON chunk).
    def chunks(page: str) -> str:
        return "".join(
            f'<link rel="preload" as="script" '
            f'href="{escape(app.get_relative_path("/_dash-component-suites/" + chunk))}">'
            for chunk in ASYNC_CHUNKS[page]
        )

    # The app's own stylesheets by URL, read once: Dash's asset URLs carry the file's modification
    # time (``/assets/x.css?m=...``), so a changed file is a new URL.
    styles: dict = {}
    assets = os.path.realpath(app.config.assets_folder)

    def stylesheet(href: str) -> str | None:
        if href not in styles:
            prefix = app.get_asset_url("")
            path = href.split("?", 1)[0]
            file = os.path.realpath(os.path.join(assets, path.removeprefix(prefix)))
            text = None
            ours = path.startswith(prefix) and file.startswith(assets + os.sep)
            if ours and path.endswith(".css"):
                try:
                    with open(file, encoding="utf-8") as f:
                        text = f.read()
                except OSError:
                    text = None
            styles[href] = text
        return styles[href]

    interpolate = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        path = app.strip_relative_path(request.path) or ""
        path = "/" + path.strip("/")
        scope = page = None
        default = current().default_area
        match = AREA_PATH_RE.match(path)
        # the scope's geometry (validated: only a known, offered scope gets one)
        try:
            if path == "/":
                scope, page = default, "overview"
            elif path.startswith("/district/"):
                scope, page = default, "district"  # the district drawn within its area
            elif match:
                scope = current(match.group(1)).home.code
                page = "district" if match.group(2) else "overview"
            elif path == "/explore":
                page = "explore"
                scope = validate_scope(current(), request.args.get("scope") or default)
        except ProfilerError:
            scope = None
        geometry = AREA_GEOMETRY_ROUTE.replace("<scope>", scope) if scope else None
        view, copy = paint_for(path, dict(request.args)) if scope else ("", "")
        # The geometry first, at high priority, before the bundles take the browser's six
        # connections: the page's or the worker's request for it is then answered from the
        # preload or the HTTP cache.
        early = (f'<link rel="preload" as="fetch" crossorigin fetchpriority="high" '
                 f'href="{escape(app.get_relative_path(geometry))}">' if geometry else "")
        kwargs["metas"] = (early + kwargs.get("metas", "") + view + boot(geometry, bool(view)))
        kwargs["app_entry"] = copy + kwargs.get("app_entry", "")
        # with a first paint, Dash's bundles and chunks wait for it (dashboard.shell.held_scripts)
        early_chunks = chunks(page) if scope else ""
        held = (first_paint.held_scripts(kwargs["scripts"], kwargs["renderer"], early_chunks)
                if view else None)
        if held:
            kwargs["scripts"], kwargs["renderer"] = held
            early_chunks = ""
        kwargs["metas"] += early_chunks
        if view:  # and its CSS is in the page, not a render-blocking request behind the others
            kwargs["css"] = first_paint.inline_styles(kwargs.get("css", ""), stylesheet)
        return interpolate(**kwargs)

    app.interpolate_index = interpolate_index
    app.first_paint = paint_for  # for start-up (the default area's overview) and tests


def create_app(settings: Settings | None = None) -> Dash:
    """Load the data once, then build the Dash app with its pages and the geometry route.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :meth:`Settings.from_env`.
    """
    settings = settings or Settings.from_env()
    state = load_state(settings)
    here = os.path.dirname(os.path.abspath(__file__))
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=os.path.join(here, "pages"),
        assets_folder=os.path.join(here, "assets"),
        assets_ignore=ASSETS_IGNORE,
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="Serious-violence risk profile",
        update_title=None,
    )
    # the page's language (WCAG 3.1.1): screen readers pick their voice from it
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)
    # before any route is added: sign-in guards every request, headers go on every response
    install_security(app, settings)
    # crafted callback bodies get 400 (no traceback), unknown routes and suite paths 404
    install_inputs(app, exists=page_exists)
    _compress_callbacks(app)
    _early_geometry(app)
    # Partner uploads arrive base64-encoded in a callback request: refuse absurd bodies before
    # they are read, leaving room for the clear "over the limit" message up to twice the limit.
    app.server.config["MAX_CONTENT_LENGTH"] = settings.partner_max_bytes * 3 + 5_000_000
    app.layout = html.Div(
        [
            # first in the tab order (assets/svrp-a11y.js moves focus; the list link shows on
            # map pages only)
            html.A("Skip to main content", href="#svrp-main", className="svrp-skip"),
            html.A("Skip to the list of areas", href="#svrp-main", id="svrp-skip-list",
                   className="svrp-skip", hidden=True),
            _navbar(),
            html.Main(dash.page_container, className="svrp-main", id="svrp-main", tabIndex="-1"),
            html.Footer(
                [dcc.Link("Accessibility statement", href="/accessibility"),
                 html.Span(" · Contains public sector information licensed under the Open "
                           "Government Licence v3.0.")],
                className="svrp-footer svrp-no-print",
            ),
        ],
        className="svrp-root",
    )

    @app.server.route(AREA_GEOMETRY_ROUTE)
    def area_geometry(scope: str) -> Response:
        # Served once and cached by the browser: geometry never travels in the Dash layout.
        try:
            scope = validate_scope(state, scope)
        except ProfilerError as exc:
            return Response(str(exc), status=404, mimetype="text/plain")
        return _gzip_response(scope_geometry_gz(state, scope))

    @app.server.route("/healthz")
    def healthz() -> Response:
        # For a proxy's or an orchestrator's health check: 503 while Redis does not answer.
        store = shared.active()
        try:
            if store is not None:
                store.count("healthz")
        except ProfilerError:
            return Response("session store not answering\n", status=503, mimetype="text/plain")
        return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})

    with app.server.test_request_context("/"):  # the default overview's first paint, made now
        app.first_paint("/", {})
    return app


def _compress_callbacks(app: Dash) -> None:
    """Gzip JSON responses (Dash callbacks) over 1 kB.

    An England recolour answers with one band character per LSOA: 157 kB as sent by Dash, about
    20 kB gzipped. Scripts and styles are left alone (compressing plotly.js on every request
    would cost more than it saves on a local network); geometry routes are gzipped already.
    """
    app.server.config.update(
        COMPRESS_MIMETYPES=["application/json"],
        COMPRESS_ALGORITHM="gzip",
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=1024,
    )
    Compress(app.server)


def _gzip_response(body: bytes) -> Response:
    """A gzipped GeoJSON body, decompressed only for a client that cannot take gzip."""
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = Response(body, mimetype="application/geo+json")
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(gzip.decompress(body), mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


def main() -> int:
    """Start the development server with settings from the environment."""
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except ProfilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Serious-violence risk profile: http://{settings.host}:{settings.port}/")
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
