"""Write the SYNTHETIC incident extract data/partner/synthetic_incidents_warwickshire.csv.

Not real data: every row says ``source = SYNTHETIC``. It exists so the partner-data path
(validation, LSOA join, theme counts, disclosure control) can be tested and demonstrated
without anyone's police extract.

How it is made (fixed seed, numpy Generator, so the output bytes are reproducible):

* 3,000 incidents dated 2024-01-01 to 2024-06-30 (uniform over days);
* each placed in a Warwickshire 2021 LSOA drawn with probability proportional to the shipped
  police.uk "Violence and sexual offences" counts for January-April 2024 plus 1 (so it looks
  like the real geography), then at a uniform random point inside that LSOA's polygon shrunk by
  25 m (so rounding never pushes it across an edge);
* location written as latitude/longitude (60%), British National Grid easting/northing (25%) or
  the 2021 LSOA code only (15%); dates as yyyy-mm-dd (80%) or dd/mm/yyyy (20%);
* offence types, domestic and knife flags and location types drawn from fixed proportions
  (roughly those of recorded violence in England: about a third of violence domestic, most
  domestic violence in dwellings, a few percent knife-enabled).

Usage: ``python scripts/make_synthetic_incidents.py [--out PATH] [--n 3000] [--seed 20240101]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "partner" / "synthetic_incidents_warwickshire.csv"
BOUNDARIES = ROOT / "data" / "boundaries" / "warwickshire_lsoa21.gpkg"
TABLE = ROOT / "data" / "indicators" / "lsoa21_indicators.csv"
SEED = 20240101
N = 3000
START = date(2024, 1, 1)
DAYS = (date(2024, 6, 30) - START).days + 1
SHRINK_M = 25.0

# (offence, share, violence?) - violence per profiler.partner.VIOLENCE_PATTERNS
OFFENCES = (
    ("Violence with injury", 0.30),
    ("Violence without injury", 0.25),
    ("Stalking and harassment", 0.15),
    ("Common assault", 0.05),
    ("Public order offences", 0.10),
    ("Possession of weapons", 0.04),
    ("Robbery of personal property", 0.04),
    ("Criminal damage", 0.07),
)
LOCATIONS = ("dwelling", "street", "licensed premises", "other")
COLUMNS = ("incident_id", "date", "latitude", "longitude", "easting", "northing",
           "lsoa21_code", "offence", "domestic", "knife", "location_type", "source")


def _sample_points(rng: np.random.Generator, polygons: list, counts: np.ndarray) -> np.ndarray:
    """Uniform integer BNG points inside each polygon, ``counts[i]`` for polygon ``i``."""
    out = np.empty((int(counts.sum()), 2))
    pos = 0
    for poly, k in zip(polygons, counts, strict=True):
        if k == 0:
            continue
        x0, y0, x1, y1 = poly.bounds
        got = np.empty((0, 2))
        while len(got) < k:
            xy = np.column_stack([rng.uniform(x0, x1, 4 * k), rng.uniform(y0, y1, 4 * k)])
            xy = np.round(xy)
            inside = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
            got = np.vstack([got, xy[inside]])
        out[pos:pos + k] = got[:k]
        pos += k
    return out


def make(n: int = N, seed: int = SEED) -> bytes:
    """Return the CSV bytes of the synthetic extract."""
    rng = np.random.default_rng(seed)
    lsoas = gpd.read_file(BOUNDARIES)[["lsoa21_code", "geometry"]].to_crs("EPSG:27700")
    lsoas = lsoas.sort_values("lsoa21_code").reset_index(drop=True)
    column = "policeuk_2024_violence_and_sexual_offences"
    table = pd.read_csv(TABLE, usecols=["lsoa21_code", column]).set_index("lsoa21_code")
    violence = lsoas["lsoa21_code"].map(table[column]).fillna(0)
    weights = (violence.to_numpy(dtype=float) + 1.0)
    weights /= weights.sum()
    which = rng.choice(len(lsoas), size=n, p=weights)
    counts = np.bincount(which, minlength=len(lsoas))
    shrunk = [g.buffer(-SHRINK_M) if not g.buffer(-SHRINK_M).is_empty else g
              for g in lsoas.geometry]
    xy = _sample_points(rng, shrunk, counts)
    # _sample_points fills polygon by polygon: give incidents the same order, then shuffle rows.
    lsoa_idx = np.repeat(np.arange(len(lsoas)), counts)
    order = rng.permutation(n)
    xy, lsoa_idx = xy[order], lsoa_idx[order]
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        xy[:, 0], xy[:, 1])

    days = np.sort(rng.integers(0, DAYS, size=n))
    names = [o for o, _ in OFFENCES]
    shares = np.array([s for _, s in OFFENCES])
    offence = rng.choice(len(names), size=n, p=shares / shares.sum())
    is_violence = offence <= 3
    domestic = is_violence & (rng.random(n) < 0.38)
    knife = (is_violence & (rng.random(n) < 0.05)) | (offence == 5) & (rng.random(n) < 0.6) \
        | (offence == 6) & (rng.random(n) < 0.2)
    loc = np.where(domestic, rng.choice(4, size=n, p=[0.85, 0.08, 0.01, 0.06]),
                   rng.choice(4, size=n, p=[0.20, 0.50, 0.15, 0.15]))
    how = rng.choice(3, size=n, p=[0.60, 0.25, 0.15])
    uk_date = rng.random(n) < 0.2
    flag_style = rng.choice(3, size=n)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    yes_no = (("yes", "no"), ("Y", "N"), ("true", "false"))
    for i in range(n):
        d = START + timedelta(days=int(days[i]))
        yes, no = yes_no[flag_style[i]]
        row = {
            "incident_id": f"SYN{i + 1:05d}",
            "date": d.strftime("%d/%m/%Y") if uk_date[i] else d.isoformat(),
            "latitude": "", "longitude": "", "easting": "", "northing": "", "lsoa21_code": "",
            "offence": names[offence[i]],
            "domestic": yes if domestic[i] else no,
            "knife": yes if knife[i] else no,
            "location_type": LOCATIONS[loc[i]],
            "source": "SYNTHETIC",
        }
        if how[i] == 0:
            row["latitude"], row["longitude"] = f"{lat[i]:.6f}", f"{lon[i]:.6f}"
        elif how[i] == 1:
            row["easting"], row["northing"] = f"{xy[i, 0]:.0f}", f"{xy[i, 1]:.0f}"
        else:
            row["lsoa21_code"] = lsoas["lsoa21_code"].iloc[lsoa_idx[i]]
        writer.writerow([row[c] for c in COLUMNS])
    return buf.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    blob = make(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({args.n:,} SYNTHETIC incidents, {len(blob):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
