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

    HELP = {
        "host": "address to listen on",
        "port": "port to listen on (1-65535)",
        "debug": "Dash debug mode: true or false (never in production)",
        "tiles_url": "basemap tile URL template; empty for no basemap (offline use, tests)",
        "tiles_attribution": "attribution text shown for the basemap",
        "data_dir": "folder holding sources/, boundaries/ and indicators/",
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
                if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                    raise ProfilerError(f"{name}={raw!r}: use a port number from 1 to 65535")
                values[f.name] = int(raw)
            elif f.type in ("Path", Path):
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        return cls(**values)
