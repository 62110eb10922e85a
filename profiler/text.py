"""Invisible and control characters: what :func:`profiler.export.neutralise` strips first.

A small module with no heavy imports, so the upload reader can clean a file name without loading
the export stack.
"""

from __future__ import annotations

import re

#: Control characters a worksheet refuses (tab, line feed and carriage return are not here), as
#: openpyxl's ``ILLEGAL_CHARACTERS_RE``.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Invisible characters that can disguise text: C1 controls, bidi overrides and isolates (RLO...),
#: zero-width spaces and joiners, the BOM, the Arabic letter mark and tag characters.
INVISIBLE_RE = re.compile("[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                          "\ufeff\u061c\u180e\U000e0000-\U000e007f]")


def strip_invisible(text: str) -> str:
    """Drop control characters (except tab, CR, LF), bidi overrides and zero-width characters."""
    return INVISIBLE_RE.sub("", CONTROL_RE.sub("", text))
