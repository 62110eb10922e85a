"""`make load`: simulated users against `make serve`'s gunicorn, then a latency table.

Starts ``serve.py`` (gunicorn, 2 workers, data preloaded) on a free port on 127.0.0.1 with a clean
``SVRP_*`` environment, waits for it, then runs a fixed number of users (threads with a
``requests`` session each) for a fixed time, and stops the server. Each user repeatedly thinks
(a random pause) and then does one of:

- ``page /``, ``page district``: what a browser asks for when a page is opened with its bundles
  cached: the HTML, ``/_dash-layout``, ``/_dash-dependencies``, the geometry, the pages router
  callback and the page's initial panel callback, one after another;
- ``click``: an LSOA clicked on the overview map (``ovw-selected``, then the panel and the map's
  view for the selection);
- ``district click``: an LSOA clicked on a district map (the panel);
- ``weight change``: one what-if slider moved: the map's recolour (``ovw-view``), the part the
  300 ms target is about, timed alone; ``weight details`` is what follows it (legend, changed
  list, table, URL, and the panel when an LSOA is selected);
- ``export``: a CSV, Excel or GeoJSON download from the overview (with the user's weights) or from
  a district page.

Callback requests are built from the server's own callback map (``/_dash-dependencies``), so a
renamed component or input makes this fail at the start instead of timing errors. A request is an
error if it fails, is not 200, or its answer lacks what the page needs.

Bounded: loopback only, at most 200 users and 300 s, every request with a 30 s timeout; the
server is stopped (its own process group) however the run ends.

With ``--instances 2`` the same users run against two app instances (``--workers`` each) on one
Redis behind nginx (:mod:`benchmarks.cluster`), then, in the same run, against one instance
behind the same kind of stack, and both tables are printed with a side-by-side summary.

    python -m benchmarks.load [--users 50] [--duration 60] [--workers 2] [--think 1-5]
                              [--instances 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import requests

from dashboard.state import AREA_GEOMETRY_ROUTE

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never anything else: this is a load generator
TIMEOUT_S = 30
MAX_USERS, MAX_DURATION_S = 200, 300
DISTRICTS = ("E07000218", "E07000219", "E07000220", "E07000221", "E07000222")
ACTIONS = {  # relative frequency of each user action
    "page /": 12,
    "page district": 10,
    "click": 22,
    "district click": 8,
    "weight change": 38,
    "export": 10,
}
KINDS = ("page /", "page district", "click", "district click", "weight change",
         "weight details", "export")
TARGETS_MS = {"page /": 1000, "page district": 1000, "weight change": 300}


class Failure(Exception):
    """A request that failed or answered something the page could not use."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--instances", type=int, default=0,
                        help="app instances behind nginx on one Redis (2-4), compared with one; "
                             "0 (default): one make serve, no proxy")
    parser.add_argument("--think", default="1-5",
                        help="a user's pause between actions, seconds, as MIN-MAX (default 1-5)")
    args = parser.parse_args(argv)
    try:
        lo, hi = (float(x) for x in args.think.split("-"))
    except ValueError:
        parser.error(f"--think {args.think!r}: use MIN-MAX seconds, e.g. 1-5")
    if not 0 <= lo <= hi <= 60:
        parser.error(f"--think {args.think!r}: use 0 <= MIN <= MAX <= 60")
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users {args.users}: use 1 to {MAX_USERS}")
    if not 1 <= args.duration <= MAX_DURATION_S:
        parser.error(f"--duration {args.duration:g}: use 1 to {MAX_DURATION_S} seconds")
    if not 1 <= args.workers <= 32:
        parser.error(f"--workers {args.workers}: use 1 to 32")
    if args.instances and not 2 <= args.instances <= 4:
        parser.error(f"--instances {args.instances}: use 2 to 4 (or 0)")
    args.think = (lo, hi)
    return args


# --- the server ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """``serve.py`` on a free loopback port, in its own process group; a context manager."""

    def __init__(self, workers: int):
        self.port = _free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SVRP_")}
        env.update({"SVRP_HOST": HOST, "SVRP_PORT": str(self.port), "SVRP_WORKERS": str(workers),
                    "SVRP_TILES_URL": "", "SVRP_ENV": "production",
                    "DASH_DISABLE_VERSION_CHECK": "true"})
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, "serve.py"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def __enter__(self):
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"serve.py exited early:\n{self.output()}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"serve.py did not answer within 180 s:\n{self.output()}")

    def __exit__(self, *exc):
        self.stop()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def memory_mb(self) -> float | None:
        """Proportional set size of gunicorn's master and workers, MB (shared pages split)."""
        pids = [self.proc.pid]
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
            total = 0
            for pid in pids:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            return None
        return total / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own group: serve.py and its workers
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


# --- callback requests, from the server's callback map ------------------------------------------

def _outputs(output: str):
    def one(text):
        component, prop = text.rsplit(".", 1)
        return {"id": component, "property": prop.split("@")[0]}  # @hash: allow_duplicate

    if output.startswith(".."):
        return [one(t) for t in output[2:-2].split("...")]
    return one(output)


class Callbacks:
    """Request bodies for the app's callbacks, checked against ``/_dash-dependencies``."""

    def __init__(self, deps: list[dict], weight_ids: list[str]):
        self.deps = {d["output"]: d for d in deps}
        self.weight_ids = weight_ids

    def body(self, output: str, values: dict, changed: str) -> dict:
        """The POST body: ``values`` maps ``(component id or pattern type, property)`` to values."""
        # a callback may write more than the output named here (a message beside a download)
        head = output[:-2] if output.startswith("..") else f"..{output}"
        first = next((k for k in self.deps if k.startswith(head + "...")), None)
        try:
            dep = self.deps[output] if output in self.deps else self.deps[first]
        except KeyError:
            raise SystemExit(f"the app has no callback with output {output!r}: update "
                             "benchmarks/load.py to the pages' callbacks") from None

        def item(spec):
            key, prop = spec["id"], spec["property"]
            if key.startswith("{"):  # a pattern-matching ALL input
                kind = json.loads(key)["type"]
                if not kind.endswith("-weight"):  # e.g. presentation rows: none on the page
                    return []
                return [{"id": {"id": i, "type": kind}, "property": prop, "value": v}
                        for i, v in zip(self.weight_ids, values[(kind, prop)], strict=True)]
            return {"id": key, "property": prop, "value": values.get((key, prop))}

        for spec in dep["inputs"] + dep["state"]:
            key = spec["id"]
            name = json.loads(key)["type"] if key.startswith("{") else key
            if key.startswith("{") and not name.endswith("-weight"):
                continue
            if (name, spec["property"]) not in values:
                raise SystemExit(f"{output}: no value for input {name}.{spec['property']}")
        return {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": [item(s) for s in dep["inputs"]],
            "state": [item(s) for s in dep["state"]],
            "changedPropIds": [changed],
        }


ROUTER = ".._pages_content.children..._pages_store.data.."
RECOLOUR = "..ovw-view.data...ovw-error.children.."
# the county pages' geometry (every map page draws its scope from /data/lsoa21/<scope>.geojson)
GEOMETRY = AREA_GEOMETRY_ROUTE.replace("<scope>", "E10000031")  # the default area
DETAILS = (
    "..ovw-legend.children...ovw-changed.children...ovw-table.data...ovw-url.search"
    "...ovw-table.columns.."
)


# --- one user -----------------------------------------------------------------------------------

class User:
    """One simulated person: a session, the view they have, and their timings."""

    def __init__(self, url, callbacks, spec_weights, lsoas, district_lsoas, rng, record):
        self.url, self.cb, self.rng, self.record = url, callbacks, rng, record
        self.http = requests.Session()
        self.spec_weights = list(spec_weights)
        self.weights = list(spec_weights)
        self.lsoas, self.district_lsoas = lsoas, district_lsoas
        self.selected = None

    # requests -------------------------------------------------------------------------------
    def get(self, path, **kw):
        resp = self.http.get(self.url + path, timeout=TIMEOUT_S, **kw)
        self.record.request()
        if resp.status_code != 200:
            raise Failure(f"GET {path}: {resp.status_code}")
        return resp

    def call(self, output, values, changed, parse=True):
        """POST one callback; its ``response`` (or the raw text, to keep the client light)."""
        body = self.cb.body(output, values, changed)
        resp = self.http.post(self.url + "/_dash-update-component", json=body, timeout=TIMEOUT_S)
        self.record.request()
        if resp.status_code != 200:
            raise Failure(f"callback {output}: {resp.status_code} {resp.text[:120]}")
        if not parse:
            if not resp.text.startswith('{"multi":true,"response":'):
                raise Failure(f"callback {output}: not a Dash answer: {resp.text[:120]}")
            return resp.text
        try:
            return resp.json()["response"]
        except (ValueError, KeyError):
            raise Failure(f"callback {output}: not a Dash answer: {resp.text[:120]}") from None

    def values(self, extra: dict | None = None) -> dict:
        v = {
            ("ovw-weight", "value"): self.weights,
            ("ovw-norm", "value"): "zscore",
            ("ovw-banding", "value"): "stddev",
            ("ovw-layer", "value"): "overall",
            ("ovw-selected", "data"): self.selected,
            ("ovw-district", "value"): "county",
            ("ovw-bands", "value"): ["Very High", "High"],
            ("ovw-incidents", "value"): "off",
            ("ovw-view", "data"): None,
            ("ovw-lsoas", "clickData"): None,
            ("ovw-table", "active_cell"): None,
            ("dst-lsoas", "clickData"): None,
            ("dst-table", "active_cell"): None,
            ("dst-selected", "data"): None,  # a row chosen in a list (none in the load mix)
            ("dst-code", "data"): None,
            ("ovw-partner", "data"): None,
            ("ovw-area", "data"): None,  # the default area
            ("dst-area", "data"): None,  # no partner upload in the load mix
            ("ovw-stb-done", "data"): None,
            ("ovw-quad-focus", "data"): None,  # no quadrant group picked on the chart
            ("ovw-quad-chart", "clickData"): None,
            ("dst-export-group", "value"): "high",
            ("ovw-drawn", "data"): {"features": 354},  # the map has drawn: the panel fills
            ("dst-drawn", "data"): {"features": 354},
            ("ovw-table", "columns"): None,
            ("ovw-period", "value"): "all",
        }
        for n in ("csv", "xlsx", "geojson"):
            v[(f"ovw-export-{n}", "n_clicks")] = None
            v[(f"dst-export-{n}", "n_clicks")] = None
        v.update(extra or {})
        return v

    # actions --------------------------------------------------------------------------------
    def open_page(self, path):
        self.get(path)
        self.get("/_dash-layout")
        self.get("/_dash-dependencies")
        self.get(GEOMETRY, headers={"Accept-Encoding": "gzip"})
        content = self.call(ROUTER, {("_pages_location", "pathname"): path,
                                     ("_pages_location", "search"): ""},
                            "_pages_location.pathname", parse=False)
        if path == "/":
            if '"ovw-map"' not in content:
                raise Failure("overview page without its map")
            self.weights, self.selected = list(self.spec_weights), None
            self.call("ovw-panel.children", self.values(), "ovw-selected.data", parse=False)
        else:
            if '"dst-map"' not in content:
                raise Failure(f"{path} without its map")
            self.call("dst-panel.children", self.values(), "dst-lsoas.clickData", parse=False)

    def page_overview(self):
        self.open_page("/")

    def page_district(self):
        self.open_page(f"/district/{self.rng.choice(DISTRICTS)}")

    def click(self):
        code = self.rng.choice(self.lsoas)
        click = {"type": "Feature", "properties": {"lsoa21_code": code}}
        got = self.call("ovw-selected.data", self.values({("ovw-lsoas", "clickData"): click}),
                        "ovw-lsoas.clickData")
        if got["ovw-selected"]["data"] != code:
            raise Failure(f"click on {code} did not select it")
        self.selected = code
        panel = self.call("ovw-panel.children", self.values(), "ovw-selected.data", parse=False)
        if code not in panel:
            raise Failure(f"panel does not show {code}")
        self.recolour("ovw-selected.data")

    def district_click(self):
        code = self.rng.choice(self.district_lsoas)
        click = {"type": "Feature", "properties": {"lsoa21_code": code}}
        panel = self.call("dst-panel.children", self.values({("dst-lsoas", "clickData"): click}),
                          "dst-lsoas.clickData", parse=False)
        if code not in panel:
            raise Failure(f"district panel does not show {code}")

    def recolour(self, changed):
        got = self.call(RECOLOUR, self.values(), changed)
        if got.get("ovw-error", {}).get("children") or "band_string" not in got["ovw-view"]["data"]:
            raise Failure(f"recolour refused: {json.dumps(got)[:160]}")
        return got["ovw-view"]["data"]

    def weight_change(self):
        i = self.rng.randrange(len(self.weights))
        self.weights[i] = self.rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0])
        if not any(self.weights):
            self.weights[i] = 1.0
        changed = json.dumps({"id": self.cb.weight_ids[i], "type": "ovw-weight"},
                             separators=(",", ":")) + ".value"
        start = time.perf_counter()
        view = self.recolour(changed)
        self.record.sample("weight change", time.perf_counter() - start)
        start = time.perf_counter()
        details = self.call(DETAILS, self.values({("ovw-view", "data"): view}),
                            "ovw-view.data", parse=False)
        if '"ovw-table":{"data":' not in details:
            raise Failure("details without the table")
        if self.selected:
            self.call("ovw-panel.children", self.values(), changed, parse=False)
        self.record.sample("weight details", time.perf_counter() - start)

    def export(self):
        fmt = self.rng.choice(["csv", "xlsx", "geojson"])
        if self.rng.random() < 0.5:
            got = self.call("ovw-download.data",
                            self.values({(f"ovw-export-{fmt}", "n_clicks"): 1}),
                            f"ovw-export-{fmt}.n_clicks")
            payload = got["ovw-download"]["data"]
        else:
            got = self.call("..dst-download.data...dst-export-msg.children..",
                            self.values({(f"dst-export-{fmt}", "n_clicks"): 1,
                                           ("dst-code", "data"): self.rng.choice(DISTRICTS)}),
                            f"dst-export-{fmt}.n_clicks")
            payload = got["dst-download"]["data"]
        ext = "zip" if fmt == "csv" else fmt  # the CSV travels zipped with its notes
        if not (payload and payload.get("filename", "").endswith(f".{ext}")
                and payload.get("content")):
            raise Failure(f"{fmt} export without a file")

    def run(self, deadline, think):
        actions = {"page /": self.page_overview, "page district": self.page_district,
                   "click": self.click, "district click": self.district_click,
                   "weight change": self.weight_change, "export": self.export}
        names, weights = list(ACTIONS), list(ACTIONS.values())
        # arrive on a page, at a random moment of the first think interval (no thundering herd)
        name = self.rng.choice(["page /", "page district"])
        time.sleep(self.rng.uniform(0, think[1]))
        while True:
            start = time.perf_counter()
            try:
                actions[name]()
            except (Failure, requests.RequestException, KeyError, TypeError) as exc:
                self.record.error(name, f"{type(exc).__name__}: {exc}")
            else:
                if name != "weight change":  # timed inside (map recolour and details apart)
                    self.record.sample(name, time.perf_counter() - start)
            pause = self.rng.uniform(*think)
            if time.time() + pause >= deadline:
                return
            time.sleep(pause)
            name = self.rng.choices(names, weights)[0]


class Record:
    """Thread-safe timings, errors and a request count."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples = defaultdict(list)
        self.errors = defaultdict(int)
        self.messages = []
        self.requests = 0

    def request(self):
        with self.lock:
            self.requests += 1

    def sample(self, kind, seconds):
        with self.lock:
            self.samples[kind].append(seconds)

    def error(self, kind, message):
        with self.lock:
            self.errors[kind] += 1
            if len(self.messages) < 10:
                self.messages.append(f"{kind}: {message}")


# --- the run ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(ROOT))
    from profiler.area import DEFAULT_AREA
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(ROOT / "data/indicators/spec.toml")
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    warks = table[table["utla_code"] == DEFAULT_AREA]
    lsoas = sorted(warks["lsoa21_code"])
    district_lsoas = sorted(warks[warks["lad24_code"] == "E07000219"]["lsoa21_code"])
    spec_weights = [i.weight for i in spec.indicators]

    if args.instances:
        return compare(args, spec, lsoas, district_lsoas, spec_weights)
    print(f"starting gunicorn ({args.workers} workers) on {HOST} ...", flush=True)
    with Server(args.workers) as server:
        memory_before = server.memory_mb()
        record, elapsed = drive(server.url, args, spec, lsoas, district_lsoas, spec_weights)
        memory_after = server.memory_mb()
    print_table(record, elapsed, args, memory_before, memory_after)
    return 1 if sum(record.errors.values()) else 0


def drive(url, args, spec, lsoas, district_lsoas, spec_weights):
    """Run the users against ``url``; their record and the elapsed time."""
    deps = requests.get(url + "/_dash-dependencies", timeout=TIMEOUT_S).json()
    callbacks = Callbacks(deps, list(spec.ids))
    record = Record()
    master = random.Random(2025)
    users = [User(url, callbacks, spec_weights, lsoas, district_lsoas,
                  random.Random(master.random()), record) for _ in range(args.users)]
    print(f"{args.users} users for {args.duration:g} s (think {args.think[0]:g}-"
          f"{args.think[1]:g} s) against {url} ...", flush=True)
    start = time.time()
    deadline = start + args.duration
    threads = [threading.Thread(target=u.run, args=(deadline, args.think), daemon=True)
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + TIMEOUT_S + 10)
    return record, time.time() - start


def compare(args, spec, lsoas, district_lsoas, spec_weights) -> int:
    """``--instances N``: N instances behind nginx, then one, same users; both tables."""
    from benchmarks.cluster import Cluster

    runs = []
    for n in (args.instances, 1):
        print(f"starting {n} instance(s) x {args.workers} workers on one Redis behind nginx "
              f"on {HOST} ...", flush=True)
        with Cluster(instances=n, workers=args.workers) as cluster:
            before = cluster.memory_mb()
            record, elapsed = drive(cluster.url, args, spec, lsoas, district_lsoas,
                                    spec_weights)
            after = cluster.memory_mb()
        label = f"{n} instance{'s' if n > 1 else ''} behind nginx"
        print_table(record, elapsed, args, before, after, label=label)
        runs.append((label, record, elapsed))
    print(f"\n# side by side: p95 ms (errors), {args.users} users, {args.duration:g} s each")
    print("| action | " + " | ".join(label for label, _, _ in runs) + " | target p95 |")
    print("|---|" + "---:|" * len(runs) + "---|")
    for kind in KINDS:
        cells = []
        for _, record, _ in runs:
            times = np.array(record.samples.get(kind, [])) * 1000
            p95 = f"{np.percentile(times, 95):.0f}" if times.size else "-"
            cells.append(f"{p95} ({record.errors.get(kind, 0)})")
        target = TARGETS_MS.get(kind)
        print(f"| {kind} | " + " | ".join(cells) + f" | {f'< {target}' if target else ''} |")
    print("| requests/s | " + " | ".join(f"{r.requests / e:.1f}" for _, r, e in runs) + " | |")
    return 1 if any(sum(r.errors.values()) for _, r, _ in runs) else 0


def print_table(record, elapsed, args, memory_before, memory_after, label=None) -> None:
    where = f"{label}, {args.workers} gunicorn workers each" if label else \
        f"{args.workers} gunicorn workers"
    print(f"\n# load test: {args.users} users, {elapsed:.0f} s, {where} "
          f"(gthread), think {args.think[0]:g}-{args.think[1]:g} s, loopback")
    print("# machine load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    print(f"# HTTP requests: {record.requests} ({record.requests / elapsed:.1f}/s), "
          f"errors: {sum(record.errors.values())}")
    if memory_before and memory_after:
        print(f"# server memory (PSS, master + workers): {memory_before:.0f} MB at start, "
              f"{memory_after:.0f} MB at the end")
    print("\n| action | count | errors | p50 ms | p95 ms | p99 ms | max ms | target p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind in KINDS:
        times = np.array(record.samples.get(kind, [])) * 1000
        if not times.size and not record.errors.get(kind):
            continue
        p50, p95, p99 = (np.percentile(times, q) if times.size else float("nan")
                         for q in (50, 95, 99))
        target = TARGETS_MS.get(kind)
        verdict = ""
        if target:
            verdict = f"< {target} ms: {'met' if p95 < target else 'MISSED'}"
        print(f"| {kind} | {times.size} | {record.errors.get(kind, 0)} | {p50:.0f} | {p95:.0f} | "
              f"{p99:.0f} | {times.max() if times.size else float('nan'):.0f} | {verdict} |")
    for message in record.messages:
        print(f"error: {message}")


if __name__ == "__main__":
    sys.exit(main())
