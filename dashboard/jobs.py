"""Background jobs in the server process: a small thread pool polled by ``dcc.Interval``.

Dash's background callbacks need diskcache or Celery; the one long computation here (band
stability for a what-if spec, a few seconds) only needs a thread. :class:`JobRegistry` runs a
job function on a bounded pool, records its progress, keeps one job per browser session, shares
a running job between sessions asking for the same key, and caches finished results by key
(least recently used first out). It is per process: serve the app from one process (as
``python app.py`` does), or a poll may reach a process that never saw the job.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from profiler.errors import ProfilerError
from profiler.stability import StabilitySettings, area_stability, stability_key

LOG = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
QUEUED, RUNNING, DONE, ERROR = "queued", "running", "done", "error"
# The shipped stability_warwickshire.csv was made with these (python -m profiler stability).
STABILITY_SETTINGS = StabilitySettings()


class JobRefused(Exception):  # noqa: N818 - reads as the outcome, like Dash's PreventUpdate
    """A job was not started; the message says why and what to do."""


@dataclass
class Job:
    """One job's state, written by its worker thread and read by the polling callback."""

    key: str
    state: str = QUEUED
    done: int = 0
    total: int = 0
    message: str = ""
    result: Any = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None  # run time once finished

    @property
    def progress(self) -> float:
        """Share done, 0-1 (1 once finished, whatever the reports said)."""
        if self.state in (DONE, ERROR):
            return 1.0
        return self.done / self.total if self.total else 0.0

    @property
    def finished(self) -> bool:
        """True once the job is done or failed."""
        return self.state in (DONE, ERROR)


class JobRegistry:
    """Run keyed jobs on a thread pool; one live job per session; results cached by key.

    Parameters
    ----------
    workers : int
        Threads running jobs at once (the rest queue).
    max_live : int
        Most jobs queued or running at once, over all sessions; more are refused.
    max_results : int
        Finished results kept (least recently used dropped first).
    """

    def __init__(self, workers: int = 1, max_live: int = 8, max_results: int = 16) -> None:
        self.workers = workers
        self.max_live = max_live
        self.max_results = max_results
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="svrp-job")
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}  # key -> queued or running job
        self._sessions: dict[str, Job] = {}  # session -> its latest job
        self._results: OrderedDict[str, Any] = OrderedDict()

    def submit(self, session: str, key: str, fn: Callable[[Progress], Any]) -> Job:
        """Start ``fn(progress)`` for ``key`` unless its result is cached or it is running.

        Parameters
        ----------
        session : str
            The browser session asking (32 hex digits).
        key : str
            What the result depends on (e.g. :func:`profiler.stability.stability_key`).
        fn : callable
            Called on a worker thread as ``fn(progress)``; ``progress(done, total)`` records
            how far it is. Its return value is the result.

        Returns
        -------
        Job
            A finished job when the result was cached, else the queued or running one.

        Raises
        ------
        JobRefused
            When the session already has a different job under way, or too many jobs are.
        """
        if not SESSION_RE.match(str(session)):
            raise JobRefused("no valid browser session: reload the page and try again")
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                job = Job(key, state=DONE, result=self._results[key], seconds=0.0,
                          message="already computed")
                self._sessions[session] = job
                return job
            mine = self._sessions.get(session)
            if mine is not None and not mine.finished and mine.key != key:
                raise JobRefused(
                    "a run for other settings is still going in this tab; wait for it to "
                    f"finish ({mine.progress:.0%} done)"
                )
            job = self._live.get(key)
            if job is None:
                if len(self._live) >= self.max_live:
                    raise JobRefused(
                        f"the server is busy with {len(self._live)} runs; try again in a minute"
                    )
                job = Job(key)
                self._live[key] = job
                self._pool.submit(self._run, job, fn)
            self._sessions[session] = job
            return job

    def status(self, session: str) -> Job | None:
        """The session's latest job, or None."""
        with self._lock:
            return self._sessions.get(session)

    def cached(self, key: str) -> Any:
        """The finished result for ``key``, or None."""
        with self._lock:
            if key not in self._results:
                return None
            self._results.move_to_end(key)
            return self._results[key]

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running ones (tests)."""
        self._pool.shutdown(wait=True)

    def _run(self, job: Job, fn) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = int(done), int(total)

        job.state = RUNNING
        try:
            result = fn(progress)
        except ProfilerError as exc:
            job.message = str(exc)
            job.state = ERROR
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user as a message
            LOG.exception("background job %s failed", job.key[:12])
            job.message = f"the run failed ({type(exc).__name__}); the server log has details"
            job.state = ERROR
        else:
            with self._lock:
                self._results[job.key] = result
                while len(self._results) > self.max_results:
                    self._results.popitem(last=False)
            job.result = result
            job.state = DONE
        finally:
            job.seconds = time.perf_counter() - job.started
            with self._lock:
                self._live.pop(job.key, None)


# Band stability for what-if specs: one worker, so at most one run uses a core at a time.
STABILITY_JOBS = JobRegistry(workers=1)


def what_if_spec(state, weights, normalisation, banding):
    """The spec of a what-if view (validated weights and method)."""
    return state.spec.with_weights(dict(weights)).with_profile(
        normalisation=normalisation, banding=banding
    )


def stability_job(state, weights, normalisation, banding) -> tuple[str, Callable]:
    """Key and job function of the band-stability run for a what-if view (county reference)."""
    spec = what_if_spec(state, weights, normalisation, banding)

    def run(progress):
        areas = area_stability(state.county_table, spec, STABILITY_SETTINGS, progress)
        return areas.set_index("lsoa21_code")

    return stability_key(spec, STABILITY_SETTINGS), run


def stability_for(state, weights, normalisation, banding, registry: JobRegistry | None = None):
    """The band stability of a what-if view, indexed by LSOA code, and whether it is the default.

    Returns ``(table, is_default)``: the shipped analysis when the view cannot change it (the
    spec's weights, any method), the cached what-if run when there is one, else ``(None,
    False)``.
    """
    registry = registry or STABILITY_JOBS
    spec = what_if_spec(state, weights, normalisation, banding)
    key = stability_key(spec, STABILITY_SETTINGS)
    if key == default_stability_key(state):
        return state.stability, True
    table = registry.cached(key)
    return (table if isinstance(table, pd.DataFrame) else None), False


def default_stability_key(state) -> str:
    """Key of the shipped analysis (the spec as written)."""
    return stability_key(state.spec, STABILITY_SETTINGS)
