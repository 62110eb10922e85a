"""The background job registry: progress, one job per session, cached results, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from synth import make_spec, make_table

from dashboard.jobs import DONE, ERROR, JobRefused, JobRegistry
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


def _gated(result="ok"):
    """A job function that reports half-way, then waits for the gate to open."""
    gate = threading.Event()
    halfway = threading.Event()

    def fn(progress):
        progress(5, 10)
        halfway.set()
        gate.wait(10)
        progress(10, 10)
        return result

    return fn, gate, halfway


@pytest.fixture
def registry():
    reg = JobRegistry(workers=1, max_live=2, max_results=2)
    yield reg
    reg.shutdown()


def test_job001_progress_is_reported_while_running(registry):
    fn, gate, halfway = _gated()
    registry.submit(A, "k1", fn)
    assert halfway.wait(5)
    job = registry.status(A)
    assert job.key == "k1"
    assert job.state == "running" and job.progress == 0.5 and not job.finished
    gate.set()
    job = _wait(registry, A)
    assert job.state == DONE and job.result == "ok" and job.progress == 1.0
    assert job.seconds is not None and job.seconds >= 0


def test_job002_one_job_per_session(registry):
    fn, gate, halfway = _gated()
    job = registry.submit(A, "k1", fn)
    assert halfway.wait(5)
    with pytest.raises(JobRefused, match="still going in this tab"):
        registry.submit(A, "k2", lambda progress: "other")
    again = registry.submit(A, "k1", fn)  # asking again for the same run is no new job
    assert again.key == job.key and not again.finished
    gate.set()
    _wait(registry, A)
    registry.submit(A, "k2", lambda progress: "other")
    assert _wait(registry, A).result == "other"


def test_job003_sessions_share_a_running_job_and_the_cached_result(registry):
    calls = []
    fn, gate, halfway = _gated()

    def counted(progress):
        calls.append(1)
        return fn(progress)

    first = registry.submit(A, "k1", counted)
    assert halfway.wait(5)
    assert registry.submit(B, "k1", counted).key == first.key
    gate.set()
    _wait(registry, A)
    _wait(registry, B)
    again = registry.submit(B, "k1", counted)
    assert again.finished and again.result == "ok" and again.message == "already computed"
    assert registry.cached("k1") == "ok" and len(calls) == 1


def test_job004_cache_keeps_the_most_recent_results(registry):
    for key in ("k1", "k2", "k3"):
        registry.submit(A, key, lambda progress, key=key: key)
        _wait(registry, A)
    assert registry.cached("k1") is None
    assert registry.cached("k2") == "k2" and registry.cached("k3") == "k3"


def test_job005_errors_become_messages_and_are_not_cached(registry):
    def bad(progress):
        raise ProfilerError("weights: at least one indicator needs a weight above 0")

    registry.submit(A, "k1", bad)
    job = _wait(registry, A)
    assert job.state == ERROR and "weight above 0" in job.message
    assert registry.cached("k1") is None

    def crash(progress):
        raise ValueError("boom")

    registry.submit(A, "k2", crash)
    job = _wait(registry, A)
    assert job.state == ERROR and "ValueError" in job.message and "server log" in job.message
    registry.submit(A, "k1", lambda progress: 1)
    assert _wait(registry, A).result == 1  # retried, not stuck


def test_job006_bounded_and_session_ids_checked(registry):
    gates = []
    for i, session in enumerate(("c" * 32, "d" * 32)):
        fn, gate, _ = _gated()
        gates.append(gate)
        registry.submit(session, f"live{i}", fn)
    with pytest.raises(JobRefused, match="busy"):
        registry.submit("e" * 32, "live3", lambda progress: 0)
    with pytest.raises(JobRefused, match="session"):
        registry.submit("not-a-session", "k", lambda progress: 0)
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
