"""``make serve``: gunicorn options, one-line start-up errors, and a real 2-worker start."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.settings import Settings
from serve import options

ROOT = Path(__file__).resolve().parents[2]


def _env(**svrp) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVRP_")}
    env["DASH_DISABLE_VERSION_CHECK"] = "true"
    return env | {f"SVRP_{k.upper()}": v for k, v in svrp.items()}


def test_srv010_gunicorn_options_from_settings():
    opts = options(Settings(host="127.0.0.1", port=8123, workers=3))
    assert opts["bind"] == "127.0.0.1:8123" and opts["workers"] == 3
    assert opts["preload_app"] is True and opts["worker_class"] == "gthread"
    assert options(Settings(host="::1"))["bind"] == "[::1]:8050"
    assert options(Settings())["workers"] == 2


@pytest.mark.parametrize(
    "svrp, message",
    [
        ({"workers": "0"}, "error: SVRP_WORKERS='0': use a whole number from 1 to 32"),
        ({"port": "99999"}, "error: SVRP_PORT='99999': use a whole number from 1 to 65535"),
        ({"debug": "true"}, "error: SVRP_DEBUG=true: make serve never runs Dash's debug mode"),
        ({"env": "production", "debug": "true"},
         "error: SVRP_DEBUG=true: debug mode is refused with SVRP_ENV=production"),
        ({"auth": "basic", "auth_user": "u"}, "error: SVRP_AUTH=basic needs exactly one of"),
    ],
)
def test_srv011_bad_settings_stop_serve_with_one_line(svrp, message):
    done = subprocess.run([sys.executable, "serve.py"], cwd=ROOT, env=_env(**svrp),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
    assert "gunicorn" not in done.stdout + done.stderr


def test_srv012_debug_refused_by_make_run_in_production():
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT,
                          env=_env(env="production", debug="true"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == ("error: SVRP_DEBUG=true: debug mode is refused with "
                           "SVRP_ENV=production; set SVRP_DEBUG=false\n")


@pytest.mark.slow
def test_srv013_two_workers_forked_after_one_data_load():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "serve.py"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=_env(port=str(port), workers="2", tiles_url="", env="production"))
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, "serve.py exited"
            assert time.time() < deadline, "serve.py did not answer in 120 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/district/E07000219",  # noqa: S310
                                            timeout=5) as resp:
                    assert resp.status == 200
                    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
                    break
            except OSError:
                time.sleep(0.5)
        time.sleep(1)
        log.seek(0)
        text = log.read()
        loaded = re.findall(r"data loaded in [\d.]+ s \(pid (\d+)\)", text)
        assert loaded == [str(proc.pid)], text  # once, in the master
        workers = re.findall(r"Booting worker with pid: (\d+)", text)
        assert len(workers) == 2 and str(proc.pid) not in workers, text
        assert text.index("data loaded") < text.index("Booting worker")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # serve.py's own group: the master and its workers
        proc.wait(timeout=30)
        log.close()
