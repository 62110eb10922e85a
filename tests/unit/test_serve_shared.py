"""``make serve`` with 2 workers (a private Redis): a tab's partner data and what-if run are seen
by both workers.

Every callback goes out on a fresh ``requests.Session`` (a new connection), so gunicorn hands
them to either worker; which worker holds each connection is read from ``/proc`` (the server
side of each loopback connection, by the client's port), so the test can insist that callbacks
reached a worker other than the one that took the upload or started the run.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from benchmarks.load import TIMEOUT_S, Callbacks, Server

ROOT = Path(__file__).resolve().parents[2]
LOAD = "..ovw-partner.data...ovw-partner-report.children.."
RECOLOUR = "..ovw-view.data...ovw-error.children.."
PANEL = "ovw-panel.children"
STABILITY = "..ovw-stb-poll.disabled...ovw-stb-progress.value...ovw-stb-progress.hidden" \
            "...ovw-stb-status.children...ovw-stb-done.data.."

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def _holders(workers: list[int], port: int) -> dict[int, int]:
    """``{client port: worker pid}`` for the server side of each open connection on ``port``."""
    peers = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and _port(fields[1]) == port:  # ESTABLISHED, on the server's port
            peers[fields[9]] = _port(fields[2])
    out = {}
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            inode = target.removeprefix("socket:[").removesuffix("]")
            if inode in peers:
                out[peers[inode]] = pid
    return out


def _gone(pid: int) -> bool:
    """The process has exited (or is a zombie no one reaped yet)."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


class Tab:
    """One browser tab's view; each callback on a new connection, its worker noted."""

    def __init__(self, server, callbacks, spec_ids, weights, workers):
        self.server, self.cb, self.workers = server, callbacks, workers
        self.spec_ids = spec_ids
        self.values = {
            ("ovw-weight", "value"): list(weights),
            ("ovw-norm", "value"): "zscore",
            ("ovw-banding", "value"): "stddev",
            ("ovw-layer", "value"): "knife",
            ("ovw-selected", "data"): None,
            ("ovw-district", "value"): "county",
            ("ovw-partner", "data"): None,
            ("ovw-area", "data"): None,  # the default area
            ("dst-area", "data"): None,
            ("ovw-stb-done", "data"): None,
            ("ovw-quad-focus", "data"): None,
            ("ovw-quad-chart", "clickData"): None,
            ("ovw-drawn", "data"): {"features": 354},
            ("ovw-upload-indicators", "contents"): None,
            ("ovw-upload-incidents", "contents"): None,
            ("ovw-upload-indicators", "filename"): None,
            ("ovw-upload-incidents", "filename"): None,
            ("ovw-load-synthetic", "n_clicks"): None,
            ("ovw-clear-partner", "n_clicks"): None,
            ("ovw-stb-run", "n_clicks"): None,
            ("ovw-stb-poll", "n_intervals"): None,
            ("ovw-session", "data"): uuid.uuid4().hex,
        }
        self.sessions = []  # kept open, so /proc still shows whose each connection is
        self.hits = []  # (what, worker pid)

    def call(self, output, changed, what, **values):
        body = self.cb.body(output, self.values | {tuple(k.rsplit(".", 1)): v
                                                   for k, v in values.items()}, changed)
        session = requests.Session()
        self.sessions.append(session)
        resp = session.post(self.server.url + "/_dash-update-component", json=body,
                            timeout=TIMEOUT_S)
        assert resp.status_code == 200, resp.text[:300]
        pools = session.get_adapter(self.server.url).poolmanager.pools
        (key,) = pools.keys()  # one host, so one pool
        conn = pools[key].pool.queue[-1]  # the connection just used, back in the pool, open
        worker = _holders(self.workers, self.server.port).get(conn.sock.getsockname()[1])
        self.hits.append((what, worker))
        return resp.json()["response"], worker


@pytest.mark.slow
def test_shr020_two_workers_share_partner_data_and_what_if_runs():
    from profiler.spec import load_spec

    spec = load_spec(ROOT / "data/indicators/spec.toml")
    weights = [i.weight for i in spec.indicators]
    with Server(workers=2) as server:
        deadline = time.time() + 30
        while len(re.findall("Booting worker", server.output())) < 2 and time.time() < deadline:
            time.sleep(0.2)  # the first worker may answer before the second has booted
        log = server.output()
        workers = [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", log)]
        assert len(workers) == 2, log
        private = re.search(r"session state on Redis at unix://\S+, values sealed \(AES-GCM\) "
                            r"\(private redis-server pid (\d+)\)", log)
        assert private, log
        deps = requests.get(server.url + "/_dash-dependencies", timeout=TIMEOUT_S).json()
        tab = Tab(server, Callbacks(deps, list(spec.ids)), spec.ids, weights, workers)

        got, loader = tab.call(LOAD, "ovw-load-synthetic.n_clicks", "load",
                               **{"ovw-load-synthetic.n_clicks": 1})
        store = got["ovw-partner"]["data"]
        assert store and store["key"], got
        tab.values[("ovw-partner", "data")] = store
        code = "E01031011"
        for _ in range(20):
            got, _ = tab.call(RECOLOUR, "ovw-layer.value", "recolour")
            view, error = got["ovw-view"]["data"], got.get("ovw-error", {}).get("children")
            assert "SYNTHETIC example" in view["layer_label"] and not error, json.dumps(got)[:300]
            assert view["detail"]  # suppressed partner counts for the tooltips
            text, _ = tab.call(PANEL, "ovw-selected.data", "panel",
                               **{"ovw-selected.data": code})
            text = json.dumps(text)
            assert "panel-partner-title" in text and "SYNTHETIC" in text, text[:300]
            assert "no longer held" not in text

        # a what-if run: started on one worker, polled (and then used) from any
        tab.values[("ovw-layer", "value")] = "stability"
        tab.values[("ovw-weight", "value")] = [3.0, *weights[1:]]
        before, _ = tab.call(RECOLOUR, "ovw-layer.value", "recolour")
        got, starter = tab.call(STABILITY, "ovw-stb-run.n_clicks", "start",
                                **{"ovw-stb-run.n_clicks": 1})
        assert got["ovw-stb-poll"]["disabled"] is False, got  # queued or running
        # poll (every 0.2 s, as the page does at 0.4 s) until done, then on until a poll has
        # reached the other worker too: every poll must see the job, running or finished
        deadline, done, polls, elsewhere, running = time.time() + 60, None, 0, 0, 0
        while time.time() < deadline and not (done and elsewhere) and polls < 200:
            time.sleep(0.2)
            polls += 1
            got, worker = tab.call(STABILITY, "ovw-stb-poll.n_intervals", "poll",
                                   **{"ovw-stb-poll.n_intervals": polls})
            status = json.dumps(got["ovw-stb-status"]["children"])
            assert "Working" in status or "ovw-stb-finished" in status, got  # the job is seen
            running += "Working" in status
            done = done or got.get("ovw-stb-done", {}).get("data")
            elsewhere += worker != starter
        assert done, "the what-if run did not finish in 60 s"
        assert elsewhere, "no poll reached the worker that did not start the run"
        views = []
        for _ in range(4):
            got, _ = tab.call(RECOLOUR, "ovw-stb-done.data", "after run",
                              **{"ovw-stb-done.data": done})
            views.append(got["ovw-view"]["data"])
        assert all(v["opacity"] == views[0]["opacity"] for v in views)  # the same run...
        assert views[0]["opacity"] != before["ovw-view"]["data"]["opacity"]  # ...not the shipped
    log = server.output()  # stopped: the workers' exit is logged too
    assert "Traceback" not in log and "Exception ignored" not in log, log
    assert log.count("Worker exiting") == 2, log
    assert _gone(int(private.group(1))), "the private redis-server outlived the server"

    per = Counter(pid for _, pid in tab.hits)
    print(f"\nshr020: {len(tab.hits)} callbacks, per worker {dict(per)}; upload on {loader}, "
          f"run started on {starter}, {running} of {polls} polls saw it running; " + ", ".join(
              f"{what}: {dict(Counter(p for w, p in tab.hits if w == what))}"
              for what in ("recolour", "panel", "poll", "after run")))
    assert None not in per, "a callback's connection was not found in /proc"
    assert set(per) == set(workers)  # both workers answered this tab
    assert any(pid != loader for what, pid in tab.hits if what in ("recolour", "panel"))
    assert any(pid != starter for what, pid in tab.hits if what in ("poll", "after run"))
