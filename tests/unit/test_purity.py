"""The core stays pure: importing profiler must not pull in Dash."""

import subprocess
import sys


def test_pur001_profiler_does_not_import_dash():
    code = (
        "import sys, profiler, profiler.spec, profiler.engine, profiler.pipeline, profiler.table, "
        "profiler.__main__, profiler.derived; "
        "bad = [m for m in sys.modules if m == 'dash' or m.startswith(('dash.', 'dash_'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
