"""`make bench`: run every benchmark and print a table of medians.

Scoring and start-up per home area first (no browser), then the browser benchmark
(``benchmarks.browser``), which takes the same options, then the map's period switch
(``benchmarks.trends_period``):
``python -m benchmarks [--runs N] [--only TEXT] [--out PATH]``.
"""

from __future__ import annotations

import platform
import sys

from benchmarks import browser, scoring, startup, trends_period


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    browser.parse_args(argv)  # --help and bad options answer before the scoring runs
    print(f"# machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {sys.version.split()[0]}, {platform.system()} {platform.release()}")
    scoring.main()
    startup.main(["--runs", "3"])
    status = browser.main(argv)
    trends_period.main(argv)  # switching the map's incident month: its own table
    return status


if __name__ == "__main__":
    sys.exit(main())
