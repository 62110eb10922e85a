"""Wrong passwords against a signed-in user: ``python -m benchmarks.auth``.

Builds the dashboard with ``SVRP_AUTH=basic`` and a password hash (scrypt), serves it with
werkzeug's threaded server on a free loopback port, and times a signed-in user's requests
(``/_dash-layout``) alone, then while 8 clients send wrong passwords as fast as they can.
Prints the signed-in medians and what the wrong-password clients got (401 / 429).

Bounded: loopback only, a fixed number of signed-in requests (default 60), each request with a
10 s timeout; the attackers stop when the signed-in run ends.

    python -m benchmarks.auth [--requests 60] [--attackers 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _server(app):
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    return srv, f"http://127.0.0.1:{srv.server_port}"


def run(requests_n: int = 60, attackers: int = 8) -> dict:
    """Medians (ms) alone and under attack, and the attackers' status counts."""
    import requests
    from werkzeug.security import generate_password_hash

    from app import create_app
    from dashboard.settings import Settings

    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    settings = Settings(tiles_url="", data_dir=ROOT / "data", auth="basic", auth_user="analyst",
                        auth_password_hash=generate_password_hash("right horse battery"))
    app = create_app(settings)
    srv, url = _server(app)
    good = requests.Session()
    good.auth = ("analyst", "right horse battery")

    def timed(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            resp = good.get(url + "/_dash-layout", timeout=10)
            out.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.status_code
        return out

    timed(5)  # warm: the first check of the right password pays the hash once
    alone = statistics.median(timed(requests_n))
    stop = threading.Event()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def attack(i: int) -> None:
        s = requests.Session()
        n = 0
        while not stop.is_set() and n < 10_000:
            n += 1
            try:
                code = s.get(url + "/_dash-layout", auth=("analyst", f"guess{i}-{n}"),
                             timeout=10).status_code
            except requests.RequestException:
                code = "error"
            with lock:
                statuses[code] += 1

    threads = [threading.Thread(target=attack, args=(i,), daemon=True) for i in range(attackers)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    under = statistics.median(timed(requests_n))
    stop.set()
    for t in threads:
        t.join(timeout=15)
    srv.shutdown()
    return {"alone_ms": alone, "under_attack_ms": under, "attackers": dict(statuses)}


def main(argv: list[str] | None = None) -> int:
    """Print the signed-in medians alone and with wrong-password clients."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--attackers", type=int, default=8)
    args = parser.parse_args(argv)
    got = run(min(args.requests, 500), min(args.attackers, 32))
    print(f"signed-in median alone {got['alone_ms']:.1f} ms; with {args.attackers} clients "
          f"sending wrong passwords {got['under_attack_ms']:.1f} ms; their answers "
          f"{got['attackers']}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
