"""Start-up per home area and an area's first visit (issue 12), medians of fresh processes.

``python -m benchmarks.startup [--runs N] [--areas CODE,...]``: for each area, starts a fresh
Python process that builds the app with ``SVRP_AREA=<area>`` (``app.create_app``: spec, England
table, catalogue, the area's profile and derived tables), then, in the same process, the state
of a second area on its first visit (what ``/area/<code>`` costs the first time: its profile,
sub-area outlines, police.uk points, hot spots, stability and change). Prints one Markdown row
per area; targets: start-up < 15 s, a first visit to a county of ~400 LSOAs < 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AREAS = ("E10000031", "E10000034", "E23000016", "E08000026", "E23000021",
         "E08000025+E08000026")
PROBE = """
import json, sys, time
t = time.perf_counter()
import app
a = app.create_app()
start = time.perf_counter() - t
from dashboard.state import current
home = current()
other = sys.argv[1]
t = time.perf_counter()
s = current(other)
visit = time.perf_counter() - t
print(json.dumps({"start": start, "visit": visit, "lsoas": len(home.home),
                  "name": home.home.name, "other": s.home.name, "other_lsoas": len(s.home)}))
"""


def run(area: str, other: str) -> dict:
    env = dict(os.environ, SVRP_AREA=area, SVRP_TILES_URL="", DASH_DISABLE_VERSION_CHECK="true")
    out = subprocess.run([sys.executable, "-c", PROBE, other], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--areas", default=",".join(AREAS))
    args = p.parse_args(argv)
    areas = args.areas.split(",")
    print("\n## Start-up per home area (fresh process, median of "
          f"{args.runs}) and a second area's first visit\n")
    print("| SVRP_AREA | LSOAs | start-up | first visit to | LSOAs | first visit |")
    print("|---|---:|---:|---|---:|---:|")
    for n, area in enumerate(areas):
        other = areas[(n + 1) % len(areas)]
        rows = [run(area, other) for _ in range(args.runs)]
        start = statistics.median(r["start"] for r in rows)
        visit = statistics.median(r["visit"] for r in rows)
        r = rows[0]
        print(f"| {r['name']} ({area}) | {r['lsoas']} | {start:.1f} s | {r['other']} | "
              f"{r['other_lsoas']} | {visit:.2f} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
