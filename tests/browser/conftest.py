"""Headless Chromium fixtures.

Two ways to drive the dashboard, both with no basemap tiles (no network in tests):

- ``server`` / ``page`` / ``fresh_driver``: the real app started as ``make run`` starts it
  (``python app.py`` in a subprocess), shared by the whole session; fast, and tests the real
  entry point.
- ``dash_duo`` (dash[testing]) with the ``dash_app`` fixture: the app built in-process by
  ``create_app``; the ``pytest_setup_options`` hook below points dash's browser at Debian's
  Chromium with the flags STYLE.md lists.

Helpers for screenshots, polling and console checks live in ``browserkit``.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from browserkit import running_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1600,1000",
]


def pytest_setup_options():
    """Chrome options for dash[testing]'s ``dash_duo`` and ``dash_br`` (Debian's Chromium)."""
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='svrp-duo-')}")
    return opts


@pytest.fixture(scope="session")
def dash_app():
    """The dashboard built in-process by ``create_app`` with tiles off (for ``dash_duo``)."""
    if not (Path(CHROMIUM).exists() and shutil.which("chromedriver")):
        pytest.skip("browser tests need Debian's chromium and chromium-driver")
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app
    from dashboard.settings import Settings

    return create_app(Settings(tiles_url="", data_dir=ROOT / "data"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """Start the dashboard on a free port with no basemap tiles (no network in tests)."""
    with running_app() as url:
        yield url


def _make_driver(download_dir: Path):
    from selenium import webdriver

    if not (Path(CHROMIUM).exists() and shutil.which("chromedriver")):
        pytest.skip("browser tests need Debian's chromium and chromium-driver "
                    "(make test installs them when run as root)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='svrp-chrome-')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def driver(download_dir):
    drv = _make_driver(download_dir)
    yield drv
    drv.quit()


@pytest.fixture
def fresh_driver(tmp_path):
    """A second, independent browser (for shared-link tests)."""
    drv = _make_driver(tmp_path)
    yield drv
    drv.quit()


@pytest.fixture
def page(driver, server):
    """The session browser, with a check after each test that the console had no errors."""
    driver.get_log("browser")  # drop earlier entries
    if driver.current_url.startswith("http"):
        # a fresh tab session for each test: no partner upload or job id left from the last one
        driver.execute_script("window.sessionStorage.clear();")
    yield driver
    from browserkit import page_status_404

    errors = [e for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and not page_status_404(e)]
    assert not errors, f"browser console errors: {errors}"
