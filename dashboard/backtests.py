"""The shipped backtests and the flat-within-district check, loaded once per app state.

Read by the methodology page, district pages (the "How well does this profile find where
violence happens?" section) and exports' metadata. Nothing here is computed per request.
"""

from __future__ import annotations

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


@functools.lru_cache(maxsize=8)
def _flat(table_id: int, spec_sha: str, state_id: int) -> tuple[str, ...]:
    from dashboard.state import state_by_id

    state = state_by_id(state_id)
    spec = state.spec
    present = [i for i in spec.indicators if not i.optional]
    if not present:
        return ()
    from dataclasses import replace

    flags = flat_within(state.table, replace(spec, indicators=tuple(present)))
    return tuple(flags.loc[flags["flat"], "id"])


def flat_ids(state) -> tuple[str, ...]:
    """Ids of the spec's indicators with one value per district over England (e.g. homelessness).

    Optional indicators (blank outside imported forces) are not judged.
    """
    return _flat(id(state.table), state.spec.sha256, id(state))


def area_record(state, area_code: str | None = None) -> list[dict]:
    """The shipped backtests of an area (its own code, else its county's), possibly none."""
    records = state_backtests(state).get("backtests", [])
    codes = {area_code or state.home.code}
    codes |= {code for code, _ in getattr(state.home, "utlas", ())}
    return [r for r in records if r.get("area") in codes]
