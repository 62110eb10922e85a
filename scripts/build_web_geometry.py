"""Build ``data/boundaries/england_lsoa21_web.geojson.gz`` from the shipped England boundaries.

The dashboard serves this file as it is for England and for any district outside Warwickshire,
and the benchmark's bare Leaflet page draws the same bytes. ``tests/data`` rebuilds it and checks
the bytes agree, so the committed file always matches this script.

Usage: ``python scripts/build_web_geometry.py [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from profiler.geo import load_lsoa_boundaries  # noqa: E402 - after the path set-up
from profiler.geometry import scope_bounds, web_geometry  # noqa: E402
from profiler.spec import load_spec  # noqa: E402
from profiler.table import load_indicator_table  # noqa: E402

DATA = ROOT / "data"
OUT = DATA / "boundaries" / "england_lsoa21_web.geojson.gz"
BOUNDS_OUT = DATA / "boundaries" / "england_lsoa21_web.bounds.json"
PROPERTIES = ("lsoa21_code", "lsoa21_name", "msoa21_hcl_name", "lad24_code", "lad24_name")


def build(data_dir: Path = DATA) -> tuple[bytes, bytes]:
    """The gzipped web GeoJSON of all England LSOAs and the JSON of bounds per district."""
    spec = load_spec(data_dir / "indicators" / "spec.toml")
    table = load_indicator_table(data_dir / "indicators" / "lsoa21_indicators.csv", spec)
    names = table.set_index("lsoa21_code")[list(PROPERTIES[1:])]
    boundaries = load_lsoa_boundaries(data_dir, "england")
    geometry = web_geometry(boundaries[["lsoa21_code", "geometry"]], names, PROPERTIES)
    bounds = scope_bounds(geometry)
    lines = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(bounds.items()))
    return geometry, ("{\n" + lines + "\n}\n").encode()


def main() -> None:
    """Write the files and report their size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--bounds-out", type=Path, default=BOUNDS_OUT)
    args = parser.parse_args()
    start = time.perf_counter()
    geometry, bounds = build()
    args.out.write_bytes(geometry)
    args.bounds_out.write_bytes(bounds)
    print(f"{args.out}: {len(geometry) / 1e6:.2f} MB, {args.bounds_out}: {len(bounds) / 1e3:.0f} kB"
          f" in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
