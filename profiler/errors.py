"""Errors raised by the profiler core."""

from __future__ import annotations


class ProfilerError(ValueError):
    """A bad input: the message names the file, the key or column, the offending values and the fix.

    The command-line interface prints the message on one line and exits with status 2; the
    dashboard shows it to the user and keeps its previous state.
    """
