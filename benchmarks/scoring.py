"""Server-side scoring time: Warwickshire (354 LSOAs) and England (33,755 LSOAs) x 13 indicators."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from profiler.pipeline import score_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9

CASES = [
    ("Warwickshire, county reference", "warwickshire", "county", "stddev"),
    ("England, England reference", "england", "england", "stddev"),
    ("England, county reference", "england", "county", "stddev"),
    ("England, quintiles", "england", "england", "quantile"),
    ("England, natural breaks", "england", "england", "natural_breaks"),
]


def median_ms(fn, runs: int = RUNS) -> tuple[float, float, float]:
    """Median, min and max wall time of ``fn()`` in milliseconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    """Print a Markdown table of scoring times."""
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    start = time.perf_counter()
    table = load_indicator_table(ROOT / "data/indicators/lsoa21_indicators.csv", spec)
    load_ms = (time.perf_counter() - start) * 1000
    print(f"\n## Scoring ({len(spec.indicators)} indicators; median of {RUNS} runs)\n")
    print(f"Loading and validating the England table: {load_ms:.0f} ms\n")
    print("| case | LSOAs | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for label, scope, reference, banding in CASES:
        n = len(score_scope(table, spec, scope=scope, reference=reference, banding=banding))
        med, lo, hi = median_ms(
            lambda s=scope, r=reference, b=banding: score_scope(
                table, spec, scope=s, reference=r, banding=b
            )
        )
        print(f"| {label} | {n:,} | {med:.1f} | {lo:.1f} | {hi:.1f} |")
