"""Dash application support: settings, start-up state, URL state (no page layouts here)."""
