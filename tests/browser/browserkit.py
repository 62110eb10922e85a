"""Helpers for browser tests: screenshots and polling."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"


def screenshot(drv, name: str) -> Path:
    """Save a screenshot under artifacts/screenshots/ (kept as a test artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    drv.save_screenshot(str(path))
    return path


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns something truthy; return it."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
        except Exception:  # noqa: BLE001 - element may be mid-render
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(message or f"timed out after {timeout} s")


def console_errors(drv) -> list[dict]:
    """SEVERE browser-console entries since the last call (the log is drained by reading it).

    With tiles off there are no tile requests, so nothing needs ignoring; if a basemap is ever
    turned on in a test, its offline tile failures would appear here and must be filtered with a
    comment saying why.
    """
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def assert_no_console_errors(drv) -> None:
    """Fail with the messages if the browser console logged errors."""
    errors = console_errors(drv)
    assert not errors, "browser console errors:\n" + "\n".join(e["message"] for e in errors)
