"""``make serve``: the dashboard under gunicorn, data loaded once before the workers fork.

Settings come from the environment (``SVRP_HOST``, ``SVRP_PORT``, ``SVRP_WORKERS`` and the rest,
see dashboard/settings.py); a bad one stops start-up with a one-line ``error: ...`` and exit
status 2, before gunicorn starts. Workers are threaded (``gthread``), so a slow client or a
download does not hold a whole worker; CPU-bound callbacks still share each worker's GIL, which
is why there are several processes. With several, per-session state (partner uploads, what-if
stability runs) is kept in Redis (``SVRP_REDIS_URL``, or a private ``redis-server`` that wsgi.py
starts before the fork, :mod:`dashboard.shared`), so any worker can answer any callback of a
tab; each worker runs a thread taking what-if runs from the RQ queue (:mod:`dashboard.jobs`).
"""

from __future__ import annotations

import os
import sys
import time

from gunicorn.app.base import BaseApplication

from dashboard import private_redis, shared
from dashboard.settings import Settings
from profiler.errors import ProfilerError

THREADS = 4  # per worker: overlaps network waits, not Python work


class Gunicorn(BaseApplication):
    """gunicorn serving an already-built WSGI app (the ``--preload`` case, in code)."""

    def __init__(self, application, options: dict):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options."""
        for key, value in self.options.items():
            if key in self.cfg.settings:  # e.g. control_socket_disable is new in gunicorn 27
                self.cfg.set(key, value)

    def load(self):
        """The app, built before gunicorn started."""
        return self.application


def options(settings: Settings) -> dict:
    """The gunicorn options for ``settings``."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host  # IPv6
    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": THREADS,
        "preload_app": True,
        # a worker silent this long is killed and restarted (an England export takes ~5 s); an
        # upload's own work is bounded further by SVRP_PARTNER_READ_SECONDS and the size limits
        "timeout": settings.request_timeout,
        "graceful_timeout": 10,
        # idle keep-alive connections stay open this long (gunicorn's 2 s default makes a browser
        # that pauses between clicks reconnect, or meet a connection closed under it)
        "keepalive": 75,
        "proc_name": "svrp",
        "accesslog": None,
        "errorlog": "-",
        # gunicorn 27's control socket defaults to one path in $HOME: two instances would clash
        "control_socket_disable": True,
        "post_worker_init": _start_job_workers,
    }


def _start_job_workers(worker) -> None:
    """In each forked worker: start its what-if queue worker thread (Redis only)."""
    from dashboard.jobs import STABILITY_JOBS

    STABILITY_JOBS.start_workers()


def main() -> int:
    """Check the settings, build the app (one-line errors), then run gunicorn."""
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    started = time.perf_counter()
    try:
        settings = Settings.from_env()
        if settings.debug:
            raise ProfilerError(
                "SVRP_DEBUG=true: make serve never runs Dash's debug mode; "
                "use make run to debug, or set SVRP_DEBUG=false"
            )
        import wsgi  # builds the app: data loaded and validated once, before the fork
    except ProfilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = shared.active()
    private = private_redis.running()
    print(
        f"data loaded in {time.perf_counter() - started:.1f} s (pid {os.getpid()}); serving "
        f"http://{options(settings)['bind']}/ with {settings.workers} workers; session state "
        + (store.describe() if store else "in process")
        + (f" (private redis-server pid {private.proc.pid})" if private else ""),
        flush=True,
    )
    Gunicorn(wsgi.server, options(settings)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
