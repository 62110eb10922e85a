"""ONS code patterns and the 2011 to 2021 LSOA apportioning rule, declared once.

Every check of an ONS code in ``profiler/`` and ``dashboard/`` imports its pattern from here
(a unit test fails when a pattern literal appears elsewhere). Each pattern is anchored and
matches one code, e.g. ``LSOA21_RE.match("E01031010")``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

LSOA21_RE = re.compile(r"^E01\d{6}$")
"""A 2021 English LSOA (same prefix as 2011; the two editions differ only in which codes exist)."""
LSOA11_RE = LSOA21_RE
"""A 2011 English LSOA."""
MSOA_RE = re.compile(r"^E02\d{6}$")
"""A 2011 or 2021 English MSOA."""
WARD_RE = re.compile(r"^E05\d{6}$")
"""An English electoral ward."""
LAD_RE = re.compile(r"^E0[6-9]\d{6}$")
"""An English lower-tier or unitary local authority district (E06 unitary, E07 shire district,
E08 metropolitan district, E09 London borough)."""
UTLA_RE = re.compile(r"^E(0[6-9]|10|11)\d{6}$")
"""An English upper-tier authority: a unitary or metropolitan district, London borough, or a
county council (E10); E11 is a metropolitan county."""
COUNTY_RE = re.compile(r"^E1[01]\d{6}$")
"""An English county (E10) or metropolitan county (E11)."""
CSP_RE = re.compile(r"^E22\d{6}$")
"""An English community safety partnership."""
PFA_RE = re.compile(r"^E23\d{6}$")
"""An English police force area."""


def lsoa11_shares(lsoa11: pd.Series, households: pd.Series) -> np.ndarray:
    """Share of each 2011 LSOA that goes to each of its 2021 links.

    The one apportioning rule for 2011 to 2021 LSOA links: a 2011 LSOA is shared among the
    2021 LSOAs it links to in proportion to their Census 2021 households, equally when none
    of them has households recorded. An unchanged (``U``) or merged (``M``) link gets share 1.

    Parameters
    ----------
    lsoa11 : Series
        The 2011 code of each link (one row per 2011-2021 pair).
    households : Series
        Census 2021 households of each link's 2021 LSOA, aligned with ``lsoa11`` (0 or NaN
        where unknown).

    Returns
    -------
    ndarray of float
        One share per link; the shares of one 2011 LSOA sum to 1.
    """
    piece = pd.Series(np.asarray(households, dtype=float), index=lsoa11.index).fillna(0.0)
    total = piece.groupby(lsoa11).transform("sum")
    parts = piece.groupby(lsoa11).transform("size")
    return np.where(total > 0, piece / total.where(total > 0, 1.0), 1.0 / parts)
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")
"""A UK postcode without its space, upper case (``CV345AB``; the outward code is 2-4 characters,
the inward code a digit and two letters)."""
