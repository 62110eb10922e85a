"""Background jobs polled by ``dcc.Interval``: a thread in one process, RQ on Redis otherwise.

Dash's background callbacks need diskcache or Celery; the one long computation here (band
stability for a what-if spec, a few seconds) needs a worker and a place for its progress.
:class:`JobRegistry` keeps each job's record (progress, state, message), which browser tab last
asked for which job, and finished results (least recently used first out) in a
:class:`dashboard.shared.Store`, so a poll landing on any worker or host sees the job and a
result computed anywhere is used by all. One live job per tab: a new request from the tab for
other settings cancels its previous run (unless another tab waits for it too); a running job is
shared between tabs asking for the same key; at most ``max_live`` jobs queued or running.

Where the job runs depends on the store:

- in process (:class:`~dashboard.shared.LocalStore`, one process): a thread pool here;
- on Redis (:class:`~dashboard.redis_store.RedisStore`): an RQ queue on the same Redis (its
  jobs pickled and sealed like the store's values, :class:`~dashboard.redis_store
  .sealed_serializer`), consumed by an ``rq.SimpleWorker`` thread in every app process (started
  after gunicorn's fork, or on first use), so any host can run a job and any host can answer
  its polls. Progress is in the job record and mirrored in RQ's job meta.

A job function must be picklable for RQ (a module-level function or a ``functools.partial`` of
one: :func:`stability_job` returns one); it is called as ``fn(progress)``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from dashboard import shared
from dashboard.shared import SharedStateError, Store
from profiler.errors import ProfilerError
from profiler.stability import StabilitySettings, area_stability, stability_key

LOG = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
QUEUED, RUNNING, DONE, ERROR = "queued", "running", "done", "error"
# The shipped stability_<area>.csv tables were made with these (python -m profiler stability).
STABILITY_SETTINGS = StabilitySettings()
STOPPED = "the run stopped (a server process restarted); start it again"
CANCELLED = "cancelled: this tab asked for a run with other settings"
JOB_TIMEOUT_S = 600
WORKER_TTL_S = 30  # an RQ worker on a killed host drops out of RQ's registry after this
_REGISTRIES: dict[str, JobRegistry] = {}


class _Cancelled(Exception):  # noqa: N818 - raised inside the job by its progress callback
    pass


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
    host: str = ""  # the host running it
    askers: tuple = ()  # tabs that asked for it (a run is cancelled only when none is left)
    cancelled: bool = False
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
    """Run keyed jobs in the background; one live job per tab; results cached by key.

    Parameters
    ----------
    workers : int
        Jobs run at once by each process (threads, or RQ worker threads); the rest queue.
    max_live : int
        Most jobs queued or running at once, over all tabs, processes and hosts; more are
        refused.
    max_results : int
        Finished results kept (least recently used dropped first).
    name : str
        Prefix of this registry's tables in the store, and its RQ queue's name.
    store : Store, optional
        Where records live; by default the process's shared store when there is one
        (:func:`dashboard.shared.active`), else in process.
    stale_s : float
        A queued or running job whose record has not changed for this long is taken as lost
        (its worker died) and reported as stopped.
    max_sessions : int
        Tabs whose latest job is remembered.
    run_here : bool
        With Redis, whether this process runs queued jobs (RQ worker threads); False leaves
        them to other processes or hosts (tests).
    """

    def __init__(self, workers: int = 1, max_live: int = 8, max_results: int = 16, *,
                 name: str = "jobs", store: Store | None = None, stale_s: float = 300.0,
                 max_sessions: int = 1000, run_here: bool = True) -> None:
        self.workers = workers
        self.run_here = run_here
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
        self._consumers: dict[tuple[int, int], list[threading.Thread]] = {}
        self._consumers_lock = threading.Lock()
        self._stopping = threading.Event()
        self._workers: list = []
        _REGISTRIES[name] = self

    @property
    def store(self) -> Store:
        """The store in use (the process's shared one once configured, unless one was given)."""
        store = self._local if self._fixed else (shared.active() or self._local)
        if self.run_here and _queued(store):
            self.start_workers(store)
        return store

    # -- the RQ side ---------------------------------------------------------------------------
    def _queue(self, store):
        from rq import Queue

        return Queue(f"{store.prefix}{self.name}", connection=store.client,
                     serializer=store.serializer)

    def start_workers(self, store: Store | None = None) -> None:
        """Start this process's RQ worker threads for a Redis store (once per process)."""
        store = store or (self._local if self._fixed else shared.active())
        if not _queued(store):
            return
        slot = (os.getpid(), id(store))
        with self._consumers_lock:
            if slot in self._consumers:
                return
            threads = [threading.Thread(target=self._consume, args=(store,), daemon=True,
                                        name=f"svrp-rq-{self.name}-{i}")
                       for i in range(self.workers)]
            self._consumers[slot] = threads
        for thread in threads:
            thread.start()

    def _consume(self, store) -> None:
        """An ``rq.SimpleWorker`` loop; started again after Redis went away."""
        while not self._stopping.is_set():
            if not self._fixed and shared.active() is not store:
                with self._consumers_lock:  # the process moved to another store (tests)
                    self._consumers.pop((os.getpid(), id(store)), None)
                return
            try:
                client = store.worker_client()
                queue = self._queue(store)
                worker = _ThreadWorker([queue], connection=client, worker_ttl=WORKER_TTL_S,
                                       serializer=store.serializer,
                                       name=f"svrp-{socket.gethostname()}-{os.getpid()}-"
                                            f"{secrets.token_hex(3)}")
                self._workers.append(worker)
                worker.work(logging_level="WARNING")
            except Exception as exc:  # noqa: BLE001 - Redis gone: wait and start again
                LOG.warning("what-if queue worker: %s: %s; starting again", type(exc).__name__,
                            str(exc).splitlines()[0] if str(exc) else "")
            self._stopping.wait(1.0)

    # -- records -------------------------------------------------------------------------------
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

    def _cancel(self, store: Store, key: str, session: str) -> None:
        """``session`` no longer waits for ``key``: cancel it when no other tab does (locked)."""
        record = store.get(self._jobs, key)
        if record is None:
            return
        askers = tuple(a for a in record.get("askers", ()) if a != session)
        changes = {"askers": askers}
        if not askers and record["state"] in (QUEUED, RUNNING):
            changes.update(state=ERROR, cancelled=True, message=CANCELLED)
        store.put(self._jobs, key, {**record, **changes, "beat": time.time()}, self.max_jobs)

    def submit(self, session: str, key: str, fn: Callable[[Progress], Any]) -> Job:
        """Start ``fn(progress)`` for ``key`` unless its result is cached or it is running.

        A live job of the same tab for another key is cancelled first (when no other tab
        waits for it): one live job per tab.

        Parameters
        ----------
        session : str
            The browser tab asking (32 hex digits).
        key : str
            What the result depends on (e.g. :func:`profiler.stability.stability_key`).
        fn : callable
            Called in the background as ``fn(progress)``; ``progress(done, total)`` records how
            far it is. Its return value is the result. Picklable when the store is Redis.

        Returns
        -------
        Job
            A snapshot: finished when the result was cached, else the queued or running job.

        Raises
        ------
        JobRefused
            When too many jobs are under way, or the tab id is not valid.
        SharedStateError
            When the shared store cannot be reached.
        """
        if not SESSION_RE.match(str(session)):
            raise JobRefused("no valid browser session: reload the page and try again")
        store = self.store
        start = False
        with store.lock():
            cached = self._cached_job(store, key)
            mine = self._status(store, session)
            if mine is not None and not mine.finished and mine.key != key:
                self._cancel(store, mine.key, session)
            if cached is not None:
                store.put(self._sessions, session, {"key": key, "cached": True},
                          self.max_sessions)
                return cached
            job = self._snapshot(store, store.get(self._jobs, key))
            if job is None or job.finished:
                live = sum(1 for r in store.values(self._jobs) if self._live(r))
                if live >= self.max_live:
                    raise JobRefused(f"the server is busy with {live} runs; try again in a minute")
                job = Job(key, beat=time.time(), pid=os.getpid(), askers=(session,))
                start = True
            elif session not in job.askers:
                job = Job(**{**_record(job), "askers": (*job.askers[-31:], session)})
            store.put(self._jobs, key, _record(job), self.max_jobs)
            store.put(self._sessions, session, {"key": key, "cached": False}, self.max_sessions)
        if start:
            if _queued(store):
                self._queue(store).enqueue(
                    _perform, self.name, key, fn, job_timeout=JOB_TIMEOUT_S, result_ttl=0,
                    failure_ttl=300, description=f"svrp {self.name} {key[:12]}",
                    job_id=f"svrp-{self.name}-{key[:24]}-{secrets.token_hex(4)}")
            else:
                self._pool.submit(self._run, key, fn, store)
        return job

    def _status(self, store: Store, session: str) -> Job | None:
        mine = store.get(self._sessions, session)
        if mine is None:
            return None
        if mine["cached"]:
            return self._cached_job(store, mine["key"])
        return self._snapshot(store, store.get(self._jobs, mine["key"]))

    def status(self, session: str) -> Job | None:
        """A snapshot of the tab's latest job, or None (raises SharedStateError)."""
        if not isinstance(session, str):
            return None
        return self._status(self.store, session)

    def cached(self, key: str) -> Any:
        """The finished result for ``key``, or None (raises SharedStateError)."""
        return self.store.get(self._results, key)

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running ones (tests)."""
        self._stopping.set()
        for worker in self._workers:
            worker._stop_requested = True  # RQ's warm stop: after the job it is running
        self._pool.shutdown(wait=True)

    def _update(self, store: Store, key: str, **changes) -> dict | None:
        with store.lock():
            record = store.get(self._jobs, key)
            if record is not None:
                record = {**record, **changes, "beat": time.time()}
                store.put(self._jobs, key, record, self.max_jobs)
            return record

    def _run(self, key: str, fn, store: Store | None = None) -> None:
        store = store or self.store
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            record = self._update(store, key, done=int(done), total=int(total))
            if record is None or record.get("cancelled"):
                raise _Cancelled
            _mirror_meta(done, total)

        try:
            record = store.get(self._jobs, key)
            if record is None or record.get("cancelled"):
                return  # cancelled while it waited in the queue
            self._update(store, key, state=RUNNING, pid=os.getpid(), host=socket.gethostname())
            try:
                result = fn(progress)
            except (SharedStateError, _Cancelled):
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
        except _Cancelled:
            LOG.info("background job %s cancelled", key[:12])
        except SharedStateError:
            LOG.error("background job %s abandoned: the shared store is not answering",
                      key[:12])


def _queued(store) -> bool:
    """Whether jobs on ``store`` go through RQ (a Redis store)."""
    return hasattr(store, "sealer") and hasattr(store, "worker_client")


def _perform(name: str, key: str, fn) -> None:
    """What an RQ worker runs: the named registry's job (its result goes to the store)."""
    registry = _REGISTRIES[name]
    registry._run(key, fn)


def _mirror_meta(done: int, total: int) -> None:
    """Progress in RQ's job meta too (``rq info``, dashboards), when run by RQ."""
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # noqa: BLE001 - not run by RQ
        return
    if job is not None:
        job.meta.update(done=int(done), total=int(total))
        job.save_meta()


class _ThreadWorker(SimpleWorker):
    """An RQ worker that runs in a thread of an app process (gunicorn owns the signals)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass

    def procline(self, message):
        pass


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
    """Key and job function of the band-stability run for a what-if view (the area as reference).

    The function is a picklable ``partial`` that finds the area's app state where it runs (any
    app process: the data is loaded in each), so RQ can hand it to any host.
    """
    spec = what_if_spec(state, weights, normalisation, banding)
    run = functools.partial(_stability_run, state.home.code, tuple(dict(weights).items()),
                            normalisation, banding)
    return _key(state, spec), run


def _key(state, spec) -> str:
    """A stability run's key: the spec and settings, and the area it is fitted on."""
    return f"{stability_key(spec, STABILITY_SETTINGS)}@{state.home.code}"


def _stability_run(area, weights, normalisation, banding, progress):
    from dashboard.state import current

    state = current(area)
    spec = what_if_spec(state, weights, normalisation, banding)
    areas = area_stability(state.county_table, spec, STABILITY_SETTINGS, progress)
    return areas.set_index("lsoa21_code")


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
