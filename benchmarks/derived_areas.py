"""Time profiler.derived for a few home areas: ``python -m benchmarks.derived_areas [--runs N]``.

Warm: each function on each area, median of ``--runs`` calls in one process, after one call on
another area (imports done, files in the page cache). Cold: the first call in a fresh process
that has already loaded the indicator table, as the app has at its first visit to an area;
median over ``--runs`` processes. Memory: resident set size added by reading England's LSOA
boundaries whole, by the hot-spot and change path, and by the stability path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
AREAS = {
    "Warwickshire (county)": ("utla_code", ["E10000031"]),
    "Worcestershire (county)": ("utla_code", ["E10000034"]),
    "West Mercia (police force area)": ("lad24_code", [
        "E06000019", "E06000051", "E06000020", "E07000234", "E07000235", "E07000236",
        "E07000237", "E07000238", "E07000239"]),
    "Coventry (one district)": ("lad24_code", ["E08000026"]),
}
FUNCTIONS = ("area_hotspots", "area_change", "area_change+sources", "area_stability")
# What a first visit computes before the page shows (stability runs in the background).
SOURCES: dict = {}
FIRST_VISIT = ("area_hotspots", "area_change+sources")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _setup():
    from profiler.pipeline import score_scope
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(DATA / "indicators" / "spec.toml")
    table = load_indicator_table(DATA / "indicators" / "lsoa21_indicators.csv", spec)

    score_scope(table, spec, scope="warwickshire")  # the engine warmed, as at app start-up
    from profiler.change import load_change_sources

    before, start = _rss_mb(), time.perf_counter()
    SOURCES["change"] = load_change_sources(DATA, spec, table)  # as an app would at start-up
    SOURCES["load"] = (time.perf_counter() - start, _rss_mb() - before)

    def area(name):
        column, values = AREAS[name]
        return table.loc[table[column].isin(values), "lsoa21_code"].tolist()

    return spec, table, area


def _call(function, spec, table, codes):
    from profiler import derived
    from profiler.engine import RiskProfiler

    if function == "area_hotspots":
        rows = table[table["lsoa21_code"].isin(codes)]
        # The area as its own reference, as the app scores a home area.
        scored = RiskProfiler(spec).fit(rows).transform(rows).assign(
            lsoa21_code=rows["lsoa21_code"])
        return derived.area_hotspots(scored, DATA)
    if function == "area_change":
        return derived.area_change(DATA, spec, table, codes)
    if function == "area_change+sources":
        return derived.area_change(DATA, spec, table, codes, sources=SOURCES["change"])
    if function == "first_visit":
        return [_call(f, spec, table, codes) for f in FIRST_VISIT]
    if function == "first_visit+stability":
        return [_call(f, spec, table, codes) for f in (*FIRST_VISIT, "area_stability")]
    return derived.area_stability(table, spec, codes)


def cold(function: str, area: str, warmed: bool = False) -> None:
    """Child process: print the seconds of the first call and the RSS it added (JSON)."""
    spec, table, pick = _setup()
    codes = pick(area)
    if warmed:
        # As wsgi.warm_up: the district page's banding comparison imports mapclassify (numba)
        # and compiles Fisher-Jenks before gunicorn forks.
        import numpy as np

        from profiler.engine import fit_band_cuts
        from profiler.spec import BANDINGS

        values = np.random.default_rng(0).normal(size=500)
        for scheme in BANDINGS:
            fit_band_cuts(values, scheme, (-1.0, -0.5, 0.5, 1.0))
    before = _rss_mb()
    start = time.perf_counter()
    _call(function, spec, table, codes)
    print(json.dumps({"s": time.perf_counter() - start, "rss": _rss_mb() - before}))


def main(argv: list[str] | None = None) -> int:
    """Print the warm and cold tables (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", nargs=2, metavar=("FUNCTION", "AREA"), help=argparse.SUPPRESS)
    parser.add_argument("--warmed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold:
        cold(*args.cold, warmed=args.warmed)
        return 0

    print(f"# load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    import geopandas as gpd

    before = _rss_mb()
    start = time.perf_counter()
    england = gpd.read_file(DATA / "boundaries" / "england_lsoa21_bsc.gpkg")
    print(f"England LSOA boundaries read whole: {time.perf_counter() - start:.2f} s, "
          f"{_rss_mb() - before:.0f} MB RSS added ({len(england):,} polygons)")
    del england

    spec, table, pick = _setup()
    seconds, mb = SOURCES["load"]
    print(f"load_change_sources (once per process): {seconds:.2f} s, {mb:.0f} MB RSS added")
    for function in FUNCTIONS:  # warm-up on a small area not in the table below
        _call(function, spec, table, table.loc[table["lad24_code"] == "E07000220",
                                               "lsoa21_code"].tolist())
    print("\n| area | LSOAs | " + " | ".join(FUNCTIONS) + " |")
    print("|---|---|" + "---|" * len(FUNCTIONS))
    for area in AREAS:
        codes = pick(area)
        cells = []
        for function in FUNCTIONS:
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                _call(function, spec, table, codes)
                times.append(time.perf_counter() - start)
            cells.append(f"{statistics.median(times):.2f} s")
        print(f"| {area} | {len(codes)} | " + " | ".join(cells) + " |")

    print("\nCold (first call in a fresh process with the table and change sources loaded), "
          f"Worcestershire; first_visit = {' + '.join(FIRST_VISIT)}:")
    print("\n| function | median s | RSS added MB |\n|---|---|---|")
    cases = [(f, False) for f in (*FUNCTIONS, "first_visit")]
    cases += [("area_stability", True), ("first_visit+stability", True)]
    for function, warmed in cases:
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
                [sys.executable, "-m", "benchmarks.derived_areas", "--cold", function,
                 "Worcestershire (county)", *(["--warmed"] if warmed else [])], cwd=ROOT,
                check=True, capture_output=True, text=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        label = f"{function} (banding warmed, as wsgi.warm_up)" if warmed else function
        print(f"| {label} | {statistics.median(r['s'] for r in runs):.2f} | "
              f"{statistics.median(r['rss'] for r in runs):.0f} |")
    print(f"\n# load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
