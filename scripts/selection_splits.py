"""Score specs on the selection splits (data/indicators/backtest_suite.toml), never a test window.

For each spec and split: the profile's top-10% share of the split's later incidents beside the
previous-period counts', and its Spearman beside the IoD2025 crime domain's; then the rule's
worst-case margin over both targets and all splits (docs/backtest.md, "The default"):
min(top-10% share minus the previous counts', in points; Spearman minus the crime domain's, x100).

    python scripts/selection_splits.py data/indicators/spec.toml [OTHER_SPEC.toml ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from profiler.backtest import parse_months  # noqa: E402
from profiler.backtest_data import SELECTION_SPLITS, run_backtest  # noqa: E402

DATA = ROOT / "data"


def margins(spec: Path) -> float:
    """Print each split's figures for ``spec`` and return its worst-case margin."""
    worst = float("inf")
    for case in SELECTION_SPLITS:
        result, _ = run_backtest(DATA, DATA / "indicators" / "lsoa21_indicators.csv", spec,
                                 area=case["area"], fit_before=case["fit_before"],
                                 test=parse_months(case["test"]),
                                 observed=parse_months(case["observed"], "--observed"),
                                 n_boot=0)
        t = result.table.set_index(["ranking", "set"])
        prof = t.loc[("profile", "top 10%")]
        prev = t.loc[("previous period counts", "top 10%")]
        crime = t.loc[("IoD2025 crime domain", "top 10%")]
        top = 100 * (prof["hit_rate"] - prev["hit_rate"])
        rho = 100 * (prof["spearman"] - crime["spearman"])
        worst = min(worst, top, rho)
        print(f"  {case['id']}: top 10% {100 * prof['hit_rate']:.1f}% (previous counts "
              f"{100 * prev['hit_rate']:.1f}%), Spearman {prof['spearman']:.3f} (crime domain "
              f"{crime['spearman']:.3f}); margins {top:+.2f}, {rho:+.2f}")
    print(f"{spec}: worst-case margin {worst:+.2f}")
    return worst


if __name__ == "__main__":
    for arg in sys.argv[1:] or [str(DATA / "indicators" / "spec.toml")]:
        margins(Path(arg))
