"""Shared test configuration."""

import os

from hypothesis import settings

# CI must be reproducible: derandomised examples there; random (bug-finding) runs locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
