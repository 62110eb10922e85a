"""Shared test configuration."""

import os
import sys
from pathlib import Path

from hypothesis import settings

# tests/shipped.py (the default area's facts) is importable from every test folder.
sys.path.insert(0, str(Path(__file__).parent))

# CI must be reproducible: derandomised examples there; random (bug-finding) runs locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
