"""The background job registry: progress, one job per tab, cached results, errors.

Run on both backends: threads in process, and RQ on Redis (skipped without redis-server). Job
functions are module-level (or partials of them) so RQ can pickle them.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest
from synth import make_spec, make_table

from dashboard import redis_store
from dashboard.jobs import CANCELLED, DONE, ERROR, JobRefused, JobRegistry
from profiler.errors import ProfilerError
from profiler.stability import StabilitySettings, area_stability, stability_key

A, B = "a" * 32, "b" * 32


def _wait(registry, session, timeout=10.0):
    """The session's job once finished (a snapshot: records live in the store)."""
    deadline = time.time() + timeout
    job = registry.status(session)
    while not job.finished and time.time() < deadline:
        time.sleep(0.01)
        job = registry.status(session)
    assert job.finished, "job did not finish"
    return job


GATES: dict[str, tuple[threading.Event, threading.Event]] = {}  # the RQ worker is a thread here


def _gated_run(name, result, progress):
    gate, halfway = GATES[name]
    progress(5, 10)
    halfway.set()
    gate.wait(10)
    progress(10, 10)
    return result


def _gated(result="ok"):
    """A job function that reports half-way, then waits for the gate to open."""
    name = uuid.uuid4().hex
    gate, halfway = GATES[name] = threading.Event(), threading.Event()
    return functools.partial(_gated_run, name, result), gate, halfway


def _value(value, progress):
    return value


def _const(value):
    return functools.partial(_value, value)


CALLS: list[int] = []


def _counted(inner, progress):
    CALLS.append(1)
    return inner(progress)


def _raise(exc, progress):
    raise exc


@pytest.fixture(params=["local", "redis"])
def registry(request):
    store = None
    if request.param == "redis":
        proc = request.getfixturevalue("redis_proc")
        store = redis_store.connect(proc.url, redis_store.random_key(), 60,
                                    prefix=f"j{uuid.uuid4().hex[:8]}:")
    reg = JobRegistry(workers=1, max_live=2, max_results=2, store=store,
                      name=f"jobs{uuid.uuid4().hex[:6]}")
    yield reg
    for gate, _ in GATES.values():
        gate.set()
    reg.shutdown()


def test_job001_progress_is_reported_while_running(registry):
    fn, gate, halfway = _gated()
    registry.submit(A, "k1", fn)
    assert halfway.wait(5)
    time.sleep(0.05)
    job = registry.status(A)
    assert job.key == "k1"
    assert job.state == "running" and job.progress == 0.5 and not job.finished
    gate.set()
    job = _wait(registry, A)
    assert job.state == DONE and job.result == "ok" and job.progress == 1.0
    assert job.seconds is not None and job.seconds >= 0


def test_job002_one_job_per_tab_a_new_request_cancels_the_old(registry):
    fn, gate, halfway = _gated()
    job = registry.submit(A, "k1", fn)
    assert halfway.wait(5)
    again = registry.submit(A, "k1", fn)  # asking again for the same run is no new job
    assert again.key == job.key and not again.finished
    registry.submit(A, "k2", _const("other"))  # other settings: k1 is cancelled
    gate.set()
    assert _wait(registry, A).result == "other"
    record = registry.store.get(registry._jobs, "k1")
    assert record["cancelled"] and record["message"] == CANCELLED
    time.sleep(0.3)
    assert registry.cached("k1") is None  # a cancelled run leaves no result


def test_job003_tabs_share_a_running_job_and_the_cached_result(registry):
    CALLS.clear()
    fn, gate, halfway = _gated()
    counted = functools.partial(_counted, fn)
    first = registry.submit(A, "k1", counted)
    assert halfway.wait(5)
    assert registry.submit(B, "k1", counted).key == first.key
    registry.submit(A, "k2", _const(2))  # A moves on; B still waits for k1: not cancelled
    gate.set()
    assert _wait(registry, B).result == "ok"
    again = registry.submit(B, "k1", counted)
    assert again.finished and again.result == "ok" and again.message == "already computed"
    assert registry.cached("k1") == "ok" and len(CALLS) == 1


def test_job004_cache_keeps_the_most_recent_results(registry):
    for key in ("k1", "k2", "k3"):
        registry.submit(A, key, _const(key))
        _wait(registry, A)
    assert registry.cached("k1") is None
    assert registry.cached("k2") == "k2" and registry.cached("k3") == "k3"


def test_job005_errors_become_messages_and_are_not_cached(registry):
    bad = ProfilerError("weights: at least one indicator needs a weight above 0")
    registry.submit(A, "k1", functools.partial(_raise, bad))
    job = _wait(registry, A)
    assert job.state == ERROR and "weight above 0" in job.message
    assert registry.cached("k1") is None

    registry.submit(A, "k2", functools.partial(_raise, ValueError("boom")))
    job = _wait(registry, A)
    assert job.state == ERROR and "ValueError" in job.message and "server log" in job.message
    registry.submit(A, "k1", _const(1))
    assert _wait(registry, A).result == 1  # retried, not stuck


def test_job006_bounded_and_session_ids_checked(registry):
    gates = []
    for i, session in enumerate(("c" * 32, "d" * 32)):
        fn, gate, _ = _gated()
        gates.append(gate)
        registry.submit(session, f"live{i}", fn)
    with pytest.raises(JobRefused, match="busy"):
        registry.submit("e" * 32, "live3", _const(0))
    with pytest.raises(JobRefused, match="session"):
        registry.submit("not-a-session", "k", _const(0))
    for gate in gates:
        gate.set()



def test_stb007_stability_key_ignores_what_cannot_change_the_result():
    spec = make_spec(3)
    key = stability_key(spec)
    doubled = spec.with_weights({i.id: 2 * i.weight for i in spec.indicators})
    assert stability_key(doubled) == key  # only weight shares matter
    assert stability_key(spec.with_profile(banding="quantile")) == key  # drawn in every run
    assert stability_key(spec.with_weights({spec.ids[0]: 3.0})) != key
    assert stability_key(spec, StabilitySettings(draws=10)) != key


def test_stb008_area_stability_reports_about_twenty_steps():
    table = make_table(np.random.default_rng(3).lognormal(size=(40, 3)))
    seen = []
    areas = area_stability(table, make_spec(3), StabilitySettings(draws=100, seed=1),
                           progress=lambda done, total: seen.append(done))
    assert isinstance(areas, pd.DataFrame) and len(areas) == 40
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) == 20


def test_job007_what_if_runs_use_the_settings_of_the_shipped_analysis():
    from dashboard.jobs import STABILITY_SETTINGS

    # data/indicators/stability_warwickshire.csv is `python -m profiler stability` with its
    # defaults (checked by tests/data prf012); the spec's key maps to it, so they must agree.
    assert STABILITY_SETTINGS == StabilitySettings(draws=1000, seed=2025)
