"""The dashboard: ``python app.py`` (or ``make run``) serves it on http://127.0.0.1:8050."""

from __future__ import annotations

import gzip
import os
import re
import sys
from html import escape

import dash
from dash import Dash, dcc, html
from flask import Response, request
from flask_compress import Compress

from dashboard.area import scope_geometry_gz, validate_scope
from dashboard.inputs import install as install_inputs
from dashboard.security import install as install_security
from dashboard.settings import Settings
from dashboard.state import AREA_GEOMETRY_ROUTE, GEOMETRY_ROUTE, current, load_state
from profiler.errors import ProfilerError
from profiler.pipeline import WARWICKSHIRE_DISTRICTS


def _navbar() -> html.Nav:
    links = [dcc.Link("County overview", href="/", className="svrp-nav-link")]
    links += [
        dcc.Link(name, href=f"/district/{code}", className="svrp-nav-link")
        for code, name in WARWICKSHIRE_DISTRICTS.items()
    ]
    links.append(dcc.Link("England and other areas", href="/explore", className="svrp-nav-link"))
    links.append(dcc.Link("Methodology", href="/methodology", className="svrp-nav-link"))
    return html.Nav(
        [html.Span("Serious-violence risk profile", className="svrp-brand"), *links],
        className="svrp-nav",
        **{"aria-label": "Main"},
    )


WORKER_ASSET = "lsoa-worker.js"
BOOT_ASSET = "svrp-boot.js"
# Loaded by hand (the boot script in <head>, the worker by the boot script), not by Dash.
ASSETS_IGNORE = rf"(^|[/\\])({re.escape(WORKER_ASSET)}|{re.escape(BOOT_ASSET)})$"


def _early_geometry(app: Dash) -> None:
    """Start on the LSOA geometry with the page on map pages, not when the map mounts.

    The county overview's and district pages' GeoJSON layers mount only after the page callback
    and the component bundles have run (~0.5 s in): a preload link lets the download overlap
    them. The explore page instead names its scope's geometry to ``assets/svrp-boot.js``, the
    first script of every page, which has ``assets/lsoa-worker.js`` fetch, parse and project it
    on the other core while Dash starts. Only map pages get either, since Chromium warns about a
    preload that is never used.
    """

    def link(route: str) -> str:
        href = app.get_relative_path(route)
        return f'<link rel="preload" href="{href}" as="fetch" crossorigin="anonymous">'

    def boot(geometry: str | None) -> str:
        attrs = {
            "src": app.get_asset_url(BOOT_ASSET),
            "data-worker": app.get_asset_url(WORKER_ASSET),
        }
        if geometry:
            attrs["data-geometry"] = app.get_relative_path(geometry)
        return "<script " + " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items()) + "></script>"

    interpolate = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        path = request.path.rstrip("/")
        extra, geometry = "", None
        if path in ("", app.get_relative_path("/").rstrip("/")) or "/district/" in path:
            extra = link(GEOMETRY_ROUTE)
        elif path.endswith("/explore"):
            # the scope's geometry (validated: only a known scope gets one)
            try:
                scope = validate_scope(current(), request.args.get("scope") or "warwickshire")
                geometry = AREA_GEOMETRY_ROUTE.replace("<scope>", scope)
            except ProfilerError:
                geometry = None
        kwargs["metas"] = kwargs.get("metas", "") + extra + boot(geometry)
        return interpolate(**kwargs)

    app.interpolate_index = interpolate_index


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
    # before any route is added: sign-in guards every request, headers go on every response
    install_security(app, settings)
    # crafted callback bodies get 400 (no traceback), unknown routes and suite paths 404
    install_inputs(app)
    _compress_callbacks(app)
    _early_geometry(app)
    # Partner uploads arrive base64-encoded in a callback request: refuse absurd bodies before
    # they are read, leaving room for the clear "over the limit" message up to twice the limit.
    app.server.config["MAX_CONTENT_LENGTH"] = settings.partner_max_bytes * 3 + 5_000_000
    app.layout = html.Div(
        [_navbar(), html.Main(dash.page_container, className="svrp-main")], className="svrp-root"
    )

    @app.server.route(GEOMETRY_ROUTE)
    def lsoa_geometry() -> Response:
        # Served once and cached by the browser: geometry never travels in the Dash layout.
        return _gzip_response(state.geometry_gz)

    @app.server.route(AREA_GEOMETRY_ROUTE)
    def area_geometry(scope: str) -> Response:
        try:
            scope = validate_scope(state, scope)
        except ProfilerError as exc:
            return Response(str(exc), status=404, mimetype="text/plain")
        return _gzip_response(scope_geometry_gz(state, scope))

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
