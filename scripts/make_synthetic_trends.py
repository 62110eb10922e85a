"""Write the SYNTHETIC 36-month incident extracts for trends: ``data/partner/SYNTHETIC_*_36m.csv``.

Not real data: every row says ``source = SYNTHETIC`` and so does the file name. They exist so the
partner path of the trend charts and monitoring tables (three financial years, same period last
year, three-year average) can be tested and shown without anyone's police extract; the 6-month
``synthetic_incidents_warwickshire.csv`` is too short for that.

How they are made (fixed seed per area, numpy Generator, so the bytes are reproducible):

* one extract per area of :data:`AREAS` (Warwickshire: April 2021 to March 2024, three UK
  financial years; Leicester, Leicestershire and Rutland: November 2019 to October 2022, the
  36 months ending with the shipped police.uk months);
* each month's number of incidents is Poisson with mean ``base x season x trend``: a summer peak
  (+15% in July, -15% in January) and +4% a year;
* each incident is placed by its 2021 LSOA code only (no coordinates, so the file is compact and
  loads without a point-in-polygon join), drawn with probability proportional to residents
  times (the shipped violence-with-injury rate + 1), so it looks like the real geography;
* dates uniform over the month's days (yyyy-mm-dd); offence types, domestic and knife flags and
  location types from the fixed proportions of ``make_synthetic_incidents.py``.

Usage: ``python scripts/make_synthetic_trends.py [--area warwickshire|llr|all]``.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data" / "indicators" / "lsoa21_indicators.csv"
OUT_DIR = ROOT / "data" / "partner"
# area -> (upper-tier codes, first month, last month, mean incidents a month, seed)
AREAS = {
    "warwickshire": (("E10000031",), "2021-04", "2024-03", 150, 202104),
    "llr": (("E06000016", "E10000018", "E06000017"), "2019-11", "2022-10", 250, 201911),
}
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
COLUMNS = ("incident_id", "date", "lsoa21_code", "offence", "domestic", "knife", "location_type",
           "source")


def out_path(area: str) -> Path:
    """Where an area's extract is written."""
    return OUT_DIR / f"SYNTHETIC_incidents_{area}_36m.csv"


def _months(first: str, last: str) -> list[tuple[int, int]]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while (y, m) <= (int(last[:4]), int(last[5:])):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _weights(utlas: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    sys.path.insert(0, str(ROOT))
    from profiler.backtest_data import residents

    table = pd.read_csv(TABLE, usecols=["lsoa21_code", "utla_code",
                                        "violence_with_injury_per_1000"])
    table = table[table["utla_code"].isin(utlas)].sort_values("lsoa21_code")
    pop = residents(ROOT / "data").reindex(table["lsoa21_code"]).fillna(0).to_numpy()
    w = pop * (table["violence_with_injury_per_1000"].fillna(0).to_numpy() + 1.0)
    return table["lsoa21_code"].to_numpy(), w / w.sum()


def make(area: str) -> bytes:
    """Return the CSV bytes of one area's SYNTHETIC extract."""
    utlas, first, last, base, seed = AREAS[area]
    rng = np.random.default_rng(seed)
    codes, weights = _weights(utlas)
    names = [o for o, _ in OFFENCES]
    shares = np.array([s for _, s in OFFENCES])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    serial = 0
    for k, (y, m) in enumerate(_months(first, last)):
        season = 1.0 + 0.15 * np.cos(2 * np.pi * (m - 7) / 12)
        n = int(rng.poisson(base * season * (1.04 ** (k / 12))))
        days = np.sort(rng.integers(1, calendar.monthrange(y, m)[1] + 1, size=n))
        where = rng.choice(len(codes), size=n, p=weights)
        offence = rng.choice(len(names), size=n, p=shares / shares.sum())
        violence = offence <= 3
        domestic = violence & (rng.random(n) < 0.38)
        knife = (violence & (rng.random(n) < 0.05)) | ((offence == 5) & (rng.random(n) < 0.6)) \
            | ((offence == 6) & (rng.random(n) < 0.2))
        loc = np.where(domestic, rng.choice(4, size=n, p=[0.85, 0.08, 0.01, 0.06]),
                       rng.choice(4, size=n, p=[0.20, 0.50, 0.15, 0.15]))
        for i in range(n):
            serial += 1
            writer.writerow([f"SYN{area[:3].upper()}{serial:06d}", f"{y:04d}-{m:02d}-{days[i]:02d}",
                             codes[where[i]], names[offence[i]],
                             "yes" if domestic[i] else "no", "yes" if knife[i] else "no",
                             LOCATIONS[loc[i]], "SYNTHETIC"])
    return buf.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write the chosen area's extract (or all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--area", choices=[*AREAS, "all"], default="all")
    args = parser.parse_args(argv)
    for area in (AREAS if args.area == "all" else [args.area]):
        blob = make(area)
        path = out_path(area)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        rows = blob.count(b"\n") - 1
        print(f"wrote {path} ({rows:,} SYNTHETIC incidents, {len(blob):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
