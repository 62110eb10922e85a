"""Settings from the environment, declared once with their defaults and help, parsed strictly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from profiler.errors import ProfilerError

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class Settings:
    """Dashboard settings; each field is read from ``SVRP_<FIELD>`` in the environment."""

    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    tiles_url: str = OSM_TILES
    tiles_attribution: str = OSM_ATTRIBUTION
    data_dir: Path = Path("data")
    disclosure_threshold: int = 5
    partner_max_bytes: int = 20_000_000
    partner_sessions: int = 20

    HELP = {
        "host": "address to listen on",
        "port": "port to listen on (1-65535)",
        "debug": "Dash debug mode: true or false (never in production)",
        "tiles_url": "basemap tile URL template; empty for no basemap (offline use, tests)",
        "tiles_attribution": "attribution text shown for the basemap",
        "data_dir": "folder holding sources/, boundaries/ and indicators/",
        "disclosure_threshold": "partner counts from 1 to this minus 1 (and their rates) are "
        "shown as <5 / suppressed; a whole number >= 1 (default 5)",
        "partner_max_bytes": "largest partner upload accepted, in bytes (default 20,000,000)",
        "partner_sessions": "partner uploads kept in server memory (least recently used "
        "dropped first; default 20); never written to disk",
    }
    #: Allowed range of each whole-number setting, and what the value means (for errors).
    INT_RANGES = {
        "port": (1, 65535, "a port number"),
        "disclosure_threshold": (1, 1000, "a whole number of incidents"),
        "partner_max_bytes": (1000, 200_000_000, "a size in bytes"),
        "partner_sessions": (1, 1000, "a number of sessions"),
    }

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
            if name not in env:
                continue
            raw = env[name]
            if f.type in ("bool", bool):
                if raw not in ("true", "false"):
                    raise ProfilerError(f"{name}={raw!r}: use true or false")
                values[f.name] = raw == "true"
            elif f.type in ("int", int):
                low, high, what = cls.INT_RANGES[f.name]
                # isascii: "²".isdigit() is True but int("²") fails
                if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
                    raise ProfilerError(f"{name}={raw!r}: use {what} from {low:,} to {high:,}")
                values[f.name] = int(raw)
            elif f.type in ("Path", Path):
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        return cls(**values)
