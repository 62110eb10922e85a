"""Background jobs run by a server thread, polled by ``dcc.Interval``; state seen by all workers.

Dash's background callbacks need diskcache or Celery; the one long computation here (band
stability for a what-if spec, a few seconds) only needs a thread. :class:`JobRegistry` runs a
job function on a bounded pool in the process that was asked, and keeps the job's record
(progress, state, message), which session last asked for which job, and finished results
(least recently used first out) in a :class:`dashboard.shared.Store`: in process with one
process, or in the manager process under gunicorn with several workers, so a poll landing on
any worker sees the job, and a result computed in one worker is used by all. One live job per
browser session; a running job is shared between sessions asking for the same key; at most
``max_live`` jobs queued or running over all workers.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from dashboard import shared
from dashboard.shared import SharedStateError, Store
from profiler.errors import ProfilerError
from profiler.stability import StabilitySettings, area_stability, stability_key

LOG = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
QUEUED, RUNNING, DONE, ERROR = "queued", "running", "done", "error"
# The shipped stability_warwickshire.csv was made with these (python -m profiler stability).
STABILITY_SETTINGS = StabilitySettings()
STOPPED = "the run stopped (a server process restarted); start it again"


class JobRefused(Exception):  # noqa: N818 - reads as the outcome, like Dash's PreventUpdate
    """A job was not started; the message says why and what to do."""


@dataclass(frozen=True)
class Job:
    """A snapshot of one job's record, as the polling callback reads it."""

    key: str
    state: str = QUEUED
    done: int = 0
    total: int = 0
    message: str = ""
    seconds: float | None = None  # run time once finished
    beat: float = 0.0  # wall-clock time of the last record update (a lost run goes quiet)
    pid: int = 0  # the process running it
    result: Any = None  # set on finished snapshots from the result cache

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
        Threads running jobs at once in each process (the rest queue).
    max_live : int
        Most jobs queued or running at once, over all sessions and processes; more are refused.
    max_results : int
        Finished results kept (least recently used dropped first).
    name : str
        Prefix of this registry's tables in the shared store.
    store : Store, optional
        Where records live; by default the manager's store when one runs, else in process.
    stale_s : float
        A queued or running job whose record has not changed for this long is taken as lost
        (its worker died) and reported as stopped.
    max_sessions : int
        Sessions whose latest job is remembered.
    """

    def __init__(self, workers: int = 1, max_live: int = 8, max_results: int = 16, *,
                 name: str = "jobs", store: Store | None = None, stale_s: float = 300.0,
                 max_sessions: int = 1000) -> None:
        self.workers = workers
        self.max_live = max_live
        self.max_results = max_results
        self.name = name
        self.stale_s = stale_s
        self.max_sessions = max_sessions
        self.max_jobs = max_live + max_results + 32  # records of live and recent jobs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="svrp-job")
        self._local = store or shared.local()
        self._fixed = store is not None
        self._jobs, self._sessions = f"{name}:job", f"{name}:session"
        self._results = f"{name}:result"

    @property
    def store(self) -> Store:
        """The store in use (the manager's once it runs, unless one was given)."""
        return self._local if self._fixed else (shared.managed() or self._local)

    def _live(self, record: dict) -> bool:
        """Queued or running, and not gone quiet."""
        return (record["state"] in (QUEUED, RUNNING)
                and time.time() - record["beat"] <= self.stale_s)

    def _snapshot(self, store: Store, record: dict | None) -> Job | None:
        if record is None:
            return None
        job = Job(**record)
        if not job.finished and not self._live(record):
            return Job(**{**record, "state": ERROR, "message": STOPPED})
        if job.state == DONE:
            return Job(**{**record, "result": store.get(self._results, job.key)})
        return job

    def _cached_job(self, store: Store, key: str) -> Job | None:
        result = store.get(self._results, key)
        if result is None:
            return None
        return Job(key, state=DONE, result=result, seconds=0.0, message="already computed",
                   beat=time.time())

    def submit(self, session: str, key: str, fn: Callable[[Progress], Any]) -> Job:
        """Start ``fn(progress)`` for ``key`` unless its result is cached or it is running.

        Parameters
        ----------
        session : str
            The browser session asking (32 hex digits).
        key : str
            What the result depends on (e.g. :func:`profiler.stability.stability_key`).
        fn : callable
            Called on a thread of this process as ``fn(progress)``; ``progress(done, total)``
            records how far it is. Its return value is the result.

        Returns
        -------
        Job
            A snapshot: finished when the result was cached, else the queued or running job.

        Raises
        ------
        JobRefused
            When the session already has a different job under way, or too many jobs are.
        SharedStateError
            When the shared store cannot be reached.
        """
        if not SESSION_RE.match(str(session)):
            raise JobRefused("no valid browser session: reload the page and try again")
        store = self.store
        start = False
        with store.lock():
            cached = self._cached_job(store, key)
            if cached is not None:
                store.put(self._sessions, session, {"key": key, "cached": True},
                          self.max_sessions)
                return cached
            mine = self._status(store, session)
            if mine is not None and not mine.finished and mine.key != key:
                raise JobRefused(
                    "a run for other settings is still going in this tab; wait for it to "
                    f"finish ({mine.progress:.0%} done)"
                )
            job = self._snapshot(store, store.get(self._jobs, key))
            if job is None or job.finished:
                live = sum(1 for r in store.values(self._jobs) if self._live(r))
                if live >= self.max_live:
                    raise JobRefused(f"the server is busy with {live} runs; try again in a minute")
                job = Job(key, beat=time.time(), pid=os.getpid())
                store.put(self._jobs, key, _record(job), self.max_jobs)
                start = True
            store.put(self._sessions, session, {"key": key, "cached": False}, self.max_sessions)
        if start:
            self._pool.submit(self._run, key, fn)
        return job

    def _status(self, store: Store, session: str) -> Job | None:
        mine = store.get(self._sessions, session)
        if mine is None:
            return None
        if mine["cached"]:
            return self._cached_job(store, mine["key"])
        return self._snapshot(store, store.get(self._jobs, mine["key"]))

    def status(self, session: str) -> Job | None:
        """A snapshot of the session's latest job, or None (raises SharedStateError)."""
        if not isinstance(session, str):
            return None
        return self._status(self.store, session)

    def cached(self, key: str) -> Any:
        """The finished result for ``key``, or None (raises SharedStateError)."""
        return self.store.get(self._results, key)

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running ones (tests)."""
        self._pool.shutdown(wait=True)

    def _update(self, store: Store, key: str, **changes) -> None:
        with store.lock():
            record = store.get(self._jobs, key)
            if record is not None:
                store.put(self._jobs, key, {**record, **changes, "beat": time.time()},
                          self.max_jobs)

    def _run(self, key: str, fn) -> None:
        store = self.store
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self._update(store, key, done=int(done), total=int(total))

        try:
            self._update(store, key, state=RUNNING, pid=os.getpid())
            try:
                result = fn(progress)
            except SharedStateError:
                raise
            except ProfilerError as exc:
                self._update(store, key, state=ERROR, message=str(exc),
                             seconds=time.perf_counter() - started)
            except Exception as exc:  # noqa: BLE001 - any failure must reach the user as a message
                LOG.exception("background job %s failed", key[:12])
                self._update(store, key, state=ERROR, seconds=time.perf_counter() - started,
                             message=f"the run failed ({type(exc).__name__}); the server log "
                                     "has details")
            else:
                with store.lock():  # the result first: whoever sees DONE finds it
                    store.put(self._results, key, result, self.max_results)
                    record = store.get(self._jobs, key) or _record(Job(key))
                    store.put(self._jobs, key, {**record, "state": DONE, "beat": time.time(),
                                                "seconds": time.perf_counter() - started},
                              self.max_jobs)
        except SharedStateError:
            LOG.error("background job %s abandoned: the shared store is not answering",
                      key[:12])


def _record(job: Job) -> dict:
    """What the store holds for a job (no result: that is in the result table)."""
    out = asdict(job)
    out.pop("result")
    return out


# Band stability for what-if specs: one worker, so at most one run uses a core at a time.
STABILITY_JOBS = JobRegistry(workers=1)


def what_if_spec(state, weights, normalisation, banding):
    """The spec of a what-if view (validated weights and method)."""
    return state.spec.with_weights(dict(weights)).with_profile(
        normalisation=normalisation, banding=banding
    )


def stability_job(state, weights, normalisation, banding) -> tuple[str, Callable]:
    """Key and job function of the band-stability run for a what-if view (the area as reference)."""
    spec = what_if_spec(state, weights, normalisation, banding)

    def run(progress):
        areas = area_stability(state.county_table, spec, STABILITY_SETTINGS, progress)
        return areas.set_index("lsoa21_code")

    return _key(state, spec), run


def _key(state, spec) -> str:
    """A stability run's key: the spec and settings, and the area it is fitted on."""
    return f"{stability_key(spec, STABILITY_SETTINGS)}@{state.home.code}"


def stability_for(state, weights, normalisation, banding, registry: JobRegistry | None = None):
    """The band stability of a what-if view, indexed by LSOA code, and whether it is the default.

    Returns ``(table, is_default)``: the shipped analysis when the view cannot change it (the
    spec's weights, any method), the cached what-if run when there is one, else ``(None,
    False)``.
    """
    registry = registry or STABILITY_JOBS
    spec = what_if_spec(state, weights, normalisation, banding)
    key = _key(state, spec)
    if key == default_stability_key(state):
        return state.stability, True
    table = registry.cached(key)
    return (table if isinstance(table, pd.DataFrame) else None), False


def default_stability_key(state) -> str:
    """Key of the area's default analysis (the spec as written)."""
    return _key(state, state.spec)
