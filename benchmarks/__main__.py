"""`make bench`: run every benchmark and print a table of medians."""

from __future__ import annotations

import platform
import sys

from benchmarks import scoring


def main() -> int:
    print(f"# machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {sys.version.split()[0]}, {platform.system()} {platform.release()}")
    scoring.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
