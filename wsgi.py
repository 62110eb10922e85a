"""WSGI entry point: ``server`` is the dashboard built from the environment at import.

``make serve`` (``python serve.py``) runs it under gunicorn; it can also be named directly::

    gunicorn --preload --workers 2 --bind 127.0.0.1:8050 wsgi:server

With ``--preload`` the data is loaded and validated once, in gunicorn's master process, and the
workers forked from it share those pages of memory. The first render of each kind of page
(:func:`warm_up`) is done here too, so lazy imports (mapclassify and numba for the district
page's banding comparison, ~3 s) and the district pages' cached parts happen once before the
fork instead of on each worker's first visitors.

Per-session state (partner uploads, what-if stability runs) goes to Redis when
``SVRP_REDIS_URL`` is set (several hosts share it), or, with more than one worker
(``SVRP_WORKERS``; give gunicorn the same ``--workers``), to a private ``redis-server`` started
here, before the fork, so every worker sees it (:func:`dashboard.shared.configure`; sealed,
never on disk). Without ``--preload`` each worker would start its own: always preload.
"""

from __future__ import annotations

import os

import dash

from app import create_app
from dashboard import shared
from dashboard.settings import Settings
from dashboard.state import current

os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")


def warm_up() -> None:
    """Render the overview, each district page and the explore page once (results discarded).

    The district pages' default-profile parts are cached by then, and the workers inherit them.
    """
    pages = dash.page_registry
    pages["pages.overview"]["layout"]()
    for code in current().subareas:
        pages["pages.district"]["layout"](code=code)
    pages["pages.explore"]["layout"]()


settings = Settings.from_env()
app = create_app(settings)
warm_up()
shared.configure(settings)  # after the data load, before gunicorn forks the workers
server = app.server
