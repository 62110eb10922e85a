"""Regenerate the shipped police.uk store ``data/police/`` from the raw copies in data/sources.

Imports every street file under ``data/sources/police_uk/`` (Warwickshire's nine months at the
top, Leicestershire's 35 in ``leicestershire/``) into a fresh store and swaps it in, so months
removed from the sources do not linger. The output is byte-identical for the same inputs;
``tests/data/test_police_store.py`` re-imports months and compares them with the committed
files. Prints the placement counts per force.

Usage: ``python scripts/import_police.py [--data DIR] [--per-month]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from profiler.police import STORE_DIR, import_street_files  # noqa: E402 - after the path set-up

DATA = ROOT / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--per-month", action="store_true", help="also print each month")
    args = parser.parse_args(argv)
    data = args.data
    store = data / STORE_DIR
    work = Path(tempfile.mkdtemp(prefix=".police-rebuild-", dir=data))
    try:
        report = import_street_files([data / "sources" / "police_uk"], data,
                                     store_dir=work / STORE_DIR)
        if store.exists():
            os.replace(store, work / "old")
        os.replace(work / STORE_DIR, store)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.store = store
    print("\n".join(report.lines()))
    if args.per_month:
        print("force month rows stored kept moved dropped")
        for m in sorted(report.months, key=lambda m: (m.source.force, m.source.month)):
            moved = m.stored - m.placed["kept"]
            print(m.source.force, m.source.month, m.rows, m.stored, m.placed["kept"], moved,
                  sum(m.dropped.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
