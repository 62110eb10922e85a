"""The shipped backtests and the flat-within-district check, loaded once per app state.

Read by the methodology page, district pages (the "How well does this profile find where
violence happens?" section) and exports' metadata. Nothing here is computed per request.
"""

from __future__ import annotations

import dataclasses
import functools

from profiler.backtest import flat_within
from profiler.backtest_data import load_backtests


@functools.lru_cache(maxsize=4)
def backtests(data_dir: str) -> dict:
    """``data/indicators/backtests.json`` (``python -m profiler backtest --suite``), or ``{}``."""
    return load_backtests(data_dir)


def state_backtests(state) -> dict:
    """The backtests of the data folder an app state was loaded from."""
    return backtests(str(state.settings.data_dir))


_FLAT: dict[tuple[int, str], tuple[object, tuple[str, ...]]] = {}


def flat_ids(state) -> tuple[str, ...]:
    """Ids of the spec's indicators with one value per district over England (e.g. homelessness).

    Optional indicators (blank outside imported forces) are not judged. Kept per table and spec
    (the table is held with the answer, so its id cannot be reused while cached).
    """
    key = (id(state.table), state.spec.sha256)
    if key not in _FLAT:
        present = tuple(i for i in state.spec.indicators
                        if not i.optional and i.column in state.table.columns)
        flags = flat_within(state.table, dataclasses.replace(state.spec, indicators=present)) \
            if present else None
        ids = () if flags is None else tuple(flags.loc[flags["flat"], "id"])
        if len(_FLAT) >= 8:
            _FLAT.clear()
        _FLAT[key] = (state.table, ids)
    return _FLAT[key][1]


def area_record(state, area_code: str | None = None) -> list[dict]:
    """The shipped backtests of an area (its own code, else its county's), possibly none."""
    records = state_backtests(state).get("backtests", [])
    codes = {area_code or state.home.code}
    codes |= {code for code, _ in getattr(state.home, "utlas", ())}
    return [r for r in records if r.get("area") in codes]


def export_lines(state) -> dict[str, str]:
    """The area's backtest figures for an export's metadata (About sheet / metadata block)."""
    from profiler.docs import backtest_sentence

    records = area_record(state)
    if not records:
        return {"backtest": f"No backtest for {state.home.label}: it needs imported police.uk "
                            "months (see the methodology page)."}
    return {f"backtest {r['id']}": f"{r['label']}: " + backtest_sentence(r).replace("**", "")
            for r in records}


def section(state, heading: str = "##"):
    """The "How well does this profile find where violence happens?" Markdown of the area."""
    from profiler.docs import backtest_markdown

    shipped = state_backtests(state)
    return backtest_markdown({**shipped, "backtests": area_record(state)}, state.spec,
                             area=None, heading=heading)
