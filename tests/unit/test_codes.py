"""ONS code patterns live in profiler/codes.py only; the 2011->2021 apportioning rule."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from profiler import codes

ROOT = Path(__file__).resolve().parents[2]
# A regex literal for an ONS code: "E", a prefix made of digits and classes, then \d{6}.
CODE_LITERAL = re.compile(r"E[0-9\[\]()|\-]{1,14}\\d\{6\}")
# Files other engineers are editing now: to be migrated to profiler.codes, then removed here.
TO_MIGRATE = {"dashboard/components.py", "dashboard/partner_state.py"}
TO_MIGRATE_DIRS = ("pages/",)


def test_codes001_no_code_pattern_outside_codes_module():
    offenders = []
    for folder in ("profiler", "dashboard", "pages", "layers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "profiler/codes.py" or rel in TO_MIGRATE or rel.startswith(TO_MIGRATE_DIRS):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CODE_LITERAL.search(line):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "import the pattern from profiler.codes:\n" + "\n".join(offenders)


def test_codes002_patterns_match_their_codes_only():
    cases = {
        codes.LSOA21_RE: ("E01031010", "E02000001"), codes.MSOA_RE: ("E02006511", "E01031010"),
        codes.WARD_RE: ("E05012345", "E06000001"), codes.LAD_RE: ("E07000219", "E10000031"),
        codes.UTLA_RE: ("E10000031", "E22000359"), codes.CSP_RE: ("E22000359", "E23000017"),
        codes.PFA_RE: ("E23000017", "E2300001"), codes.COUNTY_RE: ("E11000005", "E08000026"),
    }
    for pattern, (good, bad) in cases.items():
        assert pattern.match(good) and not pattern.match(bad), pattern.pattern
    assert codes.UTLA_RE.match("E08000026") and codes.LAD_RE.match("E08000026")


def test_codes003_lsoa11_shares_by_households_equal_without():
    lsoa11 = pd.Series(["A", "B", "B", "C", "C"])
    households = pd.Series([10.0, 30.0, 10.0, 0.0, np.nan])
    shares = codes.lsoa11_shares(lsoa11, households)
    assert np.allclose(shares, [1.0, 0.75, 0.25, 0.5, 0.5])
    assert np.allclose(pd.Series(shares).groupby(lsoa11).sum(), 1.0)
