"""Serious-violence risk profiler: a pure, testable core (no Dash, no network).

The indicator spec (``data/indicators/spec.toml``) declares the indicators; the engine normalises,
weights and bands them against a reference population, scikit-learn style (``fit`` on the
reference, ``transform`` any subset).
"""

from __future__ import annotations

from profiler.errors import ProfilerError

__all__ = ["ProfilerError"]
__version__ = "0.1.0"
