"""Sign-in and security headers for every route of the Dash server.

:func:`install` adds, from the :class:`~dashboard.settings.Settings`:

- with ``SVRP_AUTH=basic`` or ``proxy``, a Flask ``before_request`` hook put *first* in the app-wide
  list, so it runs before Dash's own hooks and guards every request: pages, ``/_dash-*``
  callbacks, ``/assets/*``, ``/_dash-component-suites/*``, ``/data/*``, exports, unknown URLs, and
  any route registered later. A request without valid credentials gets 401 (with
  ``WWW-Authenticate`` for basic) and never reaches a view. ``Cache-Control: public`` becomes
  ``private``, so a shared cache never hands a signed-in response to someone else.
- with ``SVRP_CSP=true`` (the default), a Content-Security-Policy allowing scripts only from this
  site and Dash's own inline scripts (by hash, :meth:`dash.Dash.csp_hashes`), images from this
  site, ``data:`` and the basemap's host, and no framing; plus ``X-Content-Type-Options``,
  ``Referrer-Policy`` and ``X-Frame-Options``.

``python -m dashboard.security hash`` prints a password hash for ``SVRP_AUTH_PASSWORD_HASH``.
"""

from __future__ import annotations

import getpass
import hmac
import math
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Response, g, has_request_context, request
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.settings import Settings

REALM = "Serious-violence risk profile"
_VERIFIED_MAX = 256  # credentials remembered as verified (HMACs), per process
_CLIENTS_MAX = 10_000  # clients whose recent wrong sign-ins are remembered, per process
_CONCURRENT_CHECKS = 2  # password hash checks at once; more wait for none, they get 429


class FailureLimiter:
    """Wrong sign-ins per client over a sliding window, in a bounded table (in process).

    A client with ``max_failures`` wrong sign-ins in the last ``window`` seconds is refused
    (429) without a password check until the oldest of them leaves the window, so wrong
    passwords cannot keep the CPU busy with scrypt. Signed-in users are never counted: their
    credentials are recognised before the limiter is asked.
    """

    def __init__(self, max_failures: int, window: float, max_clients: int = _CLIENTS_MAX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.max_clients = max_failures, window, max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(client)
            if not times:
                return 0.0
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.max_failures:
                return 0.0
            return max(times[0] + self.window - now, 0.001)

    def failed(self, client: str) -> None:
        """Record one wrong sign-in by ``client``."""
        with self._lock:
            times = self._failures.pop(client, None) or deque(maxlen=self.max_failures)
            times.append(self._clock())
            self._failures[client] = times
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)


def signed_in_user() -> str | None:
    """The user the current request signed in as (None without sign-in or outside a request)."""
    return g.get("svrp_user") if has_request_context() else None


def install(app, settings: Settings) -> None:
    """Guard every route of ``app.server`` and add the security headers ``settings`` ask for."""
    server: Flask = app.server
    if settings.auth != "none":
        from dashboard import partner_state

        # partner data is bound to the signed-in user as well as to the session key
        partner_state.set_user_source(signed_in_user)
        guard = basic_guard(settings) if settings.auth == "basic" else proxy_guard(settings)
        server.before_request_funcs.setdefault(None, []).insert(0, guard)
        server.after_request(_private_cache)
    if settings.csp:
        server.after_request(security_headers(lambda: app.csp_hashes(), settings.tiles_url))


def basic_guard(settings: Settings) -> Callable[[], Response | None]:
    """A ``before_request`` hook accepting only ``SVRP_AUTH_USER`` and its password (HTTP Basic).

    The user name and password are always both compared, each with :func:`hmac.compare_digest`
    (``check_password_hash`` uses it for a hash), so the time taken does not tell which was
    wrong. Checking a scrypt hash takes ~0.1 s, and a page makes dozens of requests, so the
    check is paid once per session: credentials once verified are remembered (least recently
    used first out, at most 256), as an HMAC of the header under a per-process random key, never
    as the password. Wrong sign-ins are throttled per client (:class:`FailureLimiter`,
    ``SVRP_AUTH_MAX_FAILURES`` per ``SVRP_AUTH_LOCKOUT_SECONDS``) and at most two hash checks run
    at once, so wrong passwords cannot slow signed-in users; a throttled client gets 429 with
    ``Retry-After``.
    """
    user = settings.auth_user.encode()
    digest, plain = settings.auth_password_hash, settings.auth_password.encode()
    key = secrets.token_bytes(32)
    verified: OrderedDict[bytes, None] = OrderedDict()
    lock = threading.Lock()
    limiter = FailureLimiter(settings.auth_max_failures, float(settings.auth_lockout_seconds))
    checks = threading.BoundedSemaphore(_CONCURRENT_CHECKS)

    def remembered(tag: bytes) -> bool:
        with lock:
            if tag in verified:
                verified.move_to_end(tag)
                return True
        return False

    def check(username: str, password: str, tag: bytes) -> bool:
        user_ok = hmac.compare_digest(username.encode(), user)
        if digest:
            password_ok = check_password_hash(digest, password)
        else:
            password_ok = hmac.compare_digest(password.encode(), plain)
        if not (user_ok and password_ok):
            return False
        with lock:
            verified[tag] = None
            while len(verified) > _VERIFIED_MAX:
                verified.popitem(last=False)
        return True

    def too_many(seconds: float) -> Response:
        return Response("Too many wrong sign-ins: wait and try again.\n", status=429,
                        mimetype="text/plain",
                        headers={"Retry-After": str(max(1, math.ceil(seconds)))})

    def require_basic_auth() -> Response | None:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            username, password = auth.username or "", auth.password or ""
            header = request.headers.get("Authorization", "")
            tag = hmac.new(key, header.encode("utf-8", "surrogateescape"), "sha256").digest()
            if remembered(tag):
                g.svrp_user = username
                return None
            client = request.remote_addr or "unknown"
            wait = limiter.retry_after(client)
            if wait:
                return too_many(wait)
            if not checks.acquire(blocking=False):
                return too_many(1)
            try:
                ok = check(username, password, tag)
            finally:
                checks.release()
            if ok:
                g.svrp_user = username
                return None
            limiter.failed(client)
        return Response(
            "Sign in required.\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        )

    return require_basic_auth


def proxy_guard(settings: Settings) -> Callable[[], Response | None]:
    """A ``before_request`` hook accepting a request only when the proxy's user header is set.

    The header is trusted only because ``SVRP_AUTH=proxy`` says a proxy sets it: the app must then
    be reachable through that proxy alone (listen on 127.0.0.1), and the proxy must drop the
    header from what clients send.
    """
    header = settings.auth_header

    def require_proxy_user() -> Response | None:
        user = request.headers.get(header, "").strip()
        if user:
            g.svrp_user = user
            return None
        return Response(
            "Sign in required: open the dashboard through your organisation's sign-in.\n",
            status=401,
            mimetype="text/plain",
        )

    return require_proxy_user


def _private_cache(response: Response) -> Response:
    cache = response.headers.get("Cache-Control")
    if cache and "public" in cache:
        response.headers["Cache-Control"] = cache.replace("public", "private")
    return response


def tiles_source(tiles_url: str) -> str | None:
    """The CSP source of a tile URL template's host (``{s}`` subdomains become ``*``), if any."""
    if not tiles_url or tiles_url.startswith("/"):
        return None  # no basemap, or tiles from this site ('self')
    parts = urlsplit(tiles_url)
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}"


def content_security_policy(hashes: list[str], tiles_url: str = "") -> str:
    """The Content-Security-Policy value: this site, Dash's inline scripts and the tiles' host.

    ``style-src`` needs ``'unsafe-inline'``: Dash components and plotly set inline styles and add
    ``<style>`` elements. Neither dash-leaflet nor plotly's SVG charts evaluate strings as code,
    so there is no ``'unsafe-eval'`` (the browser tests fail on any violation).
    """
    # blob: images are made by the page's own scripts only: plotly's "Download plot as a PNG"
    # draws the chart's SVG through one (dashboard/slides.py)
    images = ["'self'", "data:", "blob:"]
    tiles = tiles_source(tiles_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(hashes: Callable[[], list[str]], tiles_url: str):
    """An ``after_request`` hook adding the CSP and the other security headers to every response.

    The hashes are taken for each response (a few SHA-256 of short strings): Dash registers some
    inline scripts only in its own first-request hooks (the pages' title callback), which a
    request refused by the sign-in never reaches, so a policy fixed at the first response could
    lack them.
    """

    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy",
                           content_security_policy(list(hashes()), tiles_url))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # the origin alone to other sites: tile servers ask for a referrer, paths stay private
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
        return response

    return add_security_headers


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.security hash``: print a hash for ``SVRP_AUTH_PASSWORD_HASH``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["hash"]:
        print("usage: python -m dashboard.security hash", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 2
    print(generate_password_hash(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
