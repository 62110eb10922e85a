"""Settings from the environment, declared once with their defaults and help, parsed strictly.

Each setting is one field of :class:`Settings`, read from ``SVRP_<FIELD>``; its default, help text
and allowed values are declared on the field (:func:`setting`). Anything not allowed stops start-up
with a one-line :class:`~profiler.errors.ProfilerError` naming the variable, the value received
and what to do.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profiler.area import DEFAULT_AREA  # the one default home area
from profiler.errors import ProfilerError
from profiler.trends import DEFAULT_RAG_PCT  # the one default of the monitoring status rule

if TYPE_CHECKING:
    from profiler.area import AreaCatalogue, HomeArea

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
ENVIRONMENTS = ("development", "production")
AUTH_MODES = ("none", "basic", "proxy")
# werkzeug.security hash formats (generate_password_hash): "method$salt$hash"
PASSWORD_HASH_RE = re.compile(r"^(scrypt|pbkdf2):[^$]+\$[^$]+\$[0-9a-f]+$")
HEADER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*$"
)
MEMORY_RE = re.compile(r"^[1-9][0-9]*(kb|mb|gb)$")
TILES_RE = re.compile(r"^(https?://[^/\s]+)?/(?!/)\S*$")  # absolute http(s), or a path on this site


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | None = None,
    between: tuple[int, int] | None = None,
    secret: bool = False,
):
    """Declare one setting: its default, help text and allowed values (``choices``/``between``).

    A ``secret`` one is left out of the repr, so it never reaches a log or a traceback.
    """
    meta = {"help": help, "choices": choices, "between": between}
    return field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """Dashboard settings; each field is read from ``SVRP_<FIELD>`` in the environment."""

    host: str = setting("127.0.0.1", "address to listen on (an IP address or a host name)")
    port: int = setting(8050, "port to listen on (1-65535)", between=(1, 65535))
    debug: bool = setting(False, "Dash debug mode: true or false (refused in production)")
    tiles_url: str = setting(
        OSM_TILES,
        "basemap tile URL template with {z}, {x} and {y}; empty for no basemap (offline, tests)",
    )
    tiles_attribution: str = setting(OSM_ATTRIBUTION, "attribution text shown for the basemap")
    data_dir: Path = setting(Path("data"), "folder holding sources/, boundaries/ and indicators/")
    env: str = setting(
        "development", "development or production (production refuses debug)", choices=ENVIRONMENTS
    )
    workers: int = setting(2, "gunicorn worker processes for make serve (1-32)", between=(1, 32))
    auth: str = setting(
        "none",
        "none, basic (HTTP Basic, SVRP_AUTH_USER and a password) or proxy (a header set by an "
        "authenticating reverse proxy)",
        choices=AUTH_MODES,
    )
    auth_user: str = setting("", "user name for SVRP_AUTH=basic")
    auth_password_hash: str = setting(
        "",
        "password hash for SVRP_AUTH=basic (werkzeug format: python -m dashboard.security hash)",
        secret=True,
    )
    auth_password: str = setting(
        "", "plain password for SVRP_AUTH=basic (prefer SVRP_AUTH_PASSWORD_HASH)", secret=True
    )
    auth_header: str = setting(
        "X-Forwarded-User",
        "header carrying the signed-in user, trusted only with SVRP_AUTH=proxy",
    )
    disclosure_threshold: int = setting(
        5,
        "partner counts from 1 to this minus 1 (and their rates) are shown as <5 / suppressed; "
        "a whole number of incidents (default 5)",
        between=(1, 1000),
    )
    trend_rag_pct: int = setting(
        int(DEFAULT_RAG_PCT),
        "monitoring tables' status rule: Red when up on the same period last year by more than "
        "this percentage, Green when down by more, Amber otherwise (default 5)",
        between=(0, 100),
    )
    partner_max_bytes: int = setting(
        10_000_000, "largest partner upload accepted, in bytes", between=(1000, 200_000_000)
    )
    partner_max_rows: int = setting(
        500_000, "most data rows in a partner upload (CSV or the workbook's first sheet)",
        between=(1000, 5_000_000)
    )
    partner_xlsx_max_cells: int = setting(
        250_000,
        "most cells in an uploaded workbook's first sheet, counted from its XML before it is read "
        "(larger: save as CSV)",
        between=(1000, 10_000_000),
    )
    partner_unzipped_max_bytes: int = setting(
        50_000_000, "largest decompressed size of an uploaded workbook, in bytes",
        between=(100_000, 1_000_000_000)
    )
    partner_read_seconds: int = setting(
        10, "time budget for reading one partner upload, in seconds", between=(1, 600)
    )
    request_timeout: int = setting(
        60,
        "gunicorn worker timeout in seconds: a worker silent this long is killed and restarted",
        between=(5, 3600),
    )
    auth_max_failures: int = setting(
        5,
        "wrong sign-ins a client may make per SVRP_AUTH_LOCKOUT_SECONDS before it is refused "
        "without a password check (429)",
        between=(1, 1000),
    )
    auth_lockout_seconds: int = setting(
        60, "window (seconds) over which wrong sign-ins are counted per client", between=(1, 86400)
    )
    partner_sessions: int = setting(
        20,
        "partner uploads kept in server memory (least recently used dropped first); never "
        "written to disk",
        between=(1, 1000),
    )
    csp: bool = setting(
        True, "send a Content-Security-Policy and other security headers: true or false"
    )
    area: str = setting(
        DEFAULT_AREA,
        "the home area / opens: a county, police force area, partnership (CSP) or district "
        f"name or code, or districts joined by + (default {DEFAULT_AREA})",
    )
    areas: str = setting(
        "",
        "comma-separated areas this deployment offers (as for SVRP_AREA; a district list "
        "inside uses +); empty for every English area",
    )
    redis_url: str = setting(
        "",
        "Redis for session state and the what-if queue shared by every worker and host (e.g. "
        "redis://10.0.0.5:6379/0 or unix:///run/redis/redis.sock); empty: in process with one "
        "worker, a private redis-server started by make serve with several",
    )
    secret_key: str = setting(
        "",
        "key sealing session data in Redis (AES-GCM), the same on every host; needed with "
        "SVRP_REDIS_URL (python -m dashboard.redis_store key makes one); never stored",
        secret=True,
    )
    session_ttl: int = setting(
        4 * 3600, "seconds a session's partner data and runs are kept after their last use",
        between=(60, 7 * 24 * 3600),
    )
    redis_maxmemory: str = setting(
        "256mb", "maxmemory of the private redis-server make serve starts (LRU eviction)"
    )

    def __post_init__(self) -> None:
        """Check the settings that depend on each other (also for ``Settings(...)`` in tests)."""
        if self.env not in ENVIRONMENTS:
            raise ProfilerError(f"SVRP_ENV={self.env!r}: use one of {', '.join(ENVIRONMENTS)}")
        if self.auth not in AUTH_MODES:
            raise ProfilerError(f"SVRP_AUTH={self.auth!r}: use one of {', '.join(AUTH_MODES)}")
        if self.env == "production" and self.debug:
            raise ProfilerError(
                "SVRP_DEBUG=true: debug mode is refused with SVRP_ENV=production; "
                "set SVRP_DEBUG=false"
            )
        password, digest = self.auth_password, self.auth_password_hash
        if self.auth == "basic":
            if not self.auth_user:
                raise ProfilerError("SVRP_AUTH=basic needs SVRP_AUTH_USER: set the user name")
            if bool(password) == bool(digest):
                raise ProfilerError(
                    "SVRP_AUTH=basic needs exactly one of SVRP_AUTH_PASSWORD_HASH and "
                    f"SVRP_AUTH_PASSWORD (got {'both' if password else 'neither'}): set one"
                )
            if ":" in self.auth_user:
                raise ProfilerError(
                    f"SVRP_AUTH_USER={self.auth_user!r}: HTTP Basic user names cannot contain ':'"
                )
        elif password or digest or self.auth_user:
            name = (
                "SVRP_AUTH_PASSWORD" if password
                else "SVRP_AUTH_PASSWORD_HASH" if digest
                else "SVRP_AUTH_USER"
            )
            raise ProfilerError(
                f"{name} is set but SVRP_AUTH={self.auth!r}: set SVRP_AUTH=basic or unset {name}"
            )
        if digest and not PASSWORD_HASH_RE.match(digest):
            raise ProfilerError(
                "SVRP_AUTH_PASSWORD_HASH: not a werkzeug password hash (scrypt:... or "
                "pbkdf2:...); make one with 'python -m dashboard.security hash'"
            )
        if not HEADER_RE.match(self.auth_header):
            raise ProfilerError(
                f"SVRP_AUTH_HEADER={self.auth_header!r}: use a header name such as "
                "X-Forwarded-User (letters, digits and '-')"
            )
        placeholders = all(k in self.tiles_url for k in ("{z}", "{x}", "{y}"))
        if self.tiles_url and not (TILES_RE.match(self.tiles_url) and placeholders):
            raise ProfilerError(
                f"SVRP_TILES_URL={self.tiles_url!r}: use an http(s) URL template with {{z}}, "
                "{x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png, or empty"
            )
        if self.secret_key and len(self.secret_key) < 32:
            raise ProfilerError(
                f"SVRP_SECRET_KEY: {len(self.secret_key)} characters is too short (32 at "
                "least); make one with 'python -m dashboard.redis_store key'"
            )
        if not MEMORY_RE.match(self.redis_maxmemory):
            raise ProfilerError(
                f"SVRP_REDIS_MAXMEMORY={self.redis_maxmemory!r}: use a size such as 256mb or 1gb"
            )
        if not _is_host(self.host):
            raise ProfilerError(
                f"SVRP_HOST={self.host!r}: use an IP address or a host name, e.g. 127.0.0.1"
            )

    @classmethod
    def help(cls) -> dict[str, str]:
        """``{SVRP_NAME: help text}`` for every setting, in declaration order."""
        return {f"SVRP_{f.name.upper()}": f.metadata["help"] for f in fields(cls)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``SVRP_*`` variables.

        Raises
        ------
        ProfilerError
            Naming the variable, the value received and what is allowed.
        """
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            name = f"SVRP_{f.name.upper()}"
            if name in env:
                values[f.name] = _parse(name, env[name], f)
        return cls(**values)


def resolve_settings_areas(
    settings: Settings, catalogue: AreaCatalogue
) -> tuple[HomeArea, tuple[HomeArea, ...] | None]:
    """Resolve ``SVRP_AREA`` and ``SVRP_AREAS`` against the area catalogue.

    Settings parse strings only; this runs once the catalogue is built (at start-up).

    Parameters
    ----------
    settings : Settings
    catalogue : profiler.area.AreaCatalogue

    Returns
    -------
    (HomeArea, tuple of HomeArea or None)
        The default area, and the areas offered in the order given (``None``: every area).

    Raises
    ------
    ProfilerError
        Naming the setting and the value, with close matches (``SVRP_AREA: area 'Worcestshire':
        ...; did you mean Worcestershire (E10000034)?``), or when the default area is not one
        of ``SVRP_AREAS``.
    """
    try:
        default = catalogue.resolve(settings.area)
    except ProfilerError as exc:
        raise ProfilerError(f"SVRP_AREA: {exc}") from None
    if not settings.areas.strip():
        return default, None
    try:
        allowed = catalogue.resolve_many(settings.areas, what="SVRP_AREAS")
    except ProfilerError as exc:
        message = str(exc)
        raise ProfilerError(message if message.startswith("SVRP_AREAS") else
                            f"SVRP_AREAS: {message}") from None
    if default not in allowed:
        raise ProfilerError(
            f"SVRP_AREA={settings.area!r} ({default.label}) is not one of SVRP_AREAS "
            f"({', '.join(a.label for a in allowed)}); add it to SVRP_AREAS or choose one of them"
        )
    return default, allowed


def _parse(name: str, raw: str, f) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    if kind == "bool":
        if raw not in ("true", "false"):
            raise ProfilerError(f"{name}={raw!r}: use true or false")
        return raw == "true"
    if kind == "int":
        lo, hi = f.metadata["between"]
        if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
            raise ProfilerError(f"{name}={raw!r}: use a whole number from {lo} to {hi}")
        return int(raw)
    if kind == "Path":
        return Path(raw)
    choices = f.metadata["choices"]
    if choices and raw not in choices:
        raise ProfilerError(f"{name}={raw!r}: use one of {', '.join(choices)}")
    return raw


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(HOSTNAME_RE.match(host))
    return True


# The help texts by field name (kept for callers of the original ``Settings.HELP``).
Settings.HELP = {f.name: f.metadata["help"] for f in fields(Settings)}
