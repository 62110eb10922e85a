"""The shared session store: in process, and through a manager that forked workers all see."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from pathlib import Path

import pytest

from dashboard import partner_state as ps
from dashboard import shared
from dashboard.jobs import DONE, JobRegistry
from dashboard.shared import SharedStateError, Tables
from profiler.errors import ProfilerError

ROOT = Path(__file__).resolve().parents[2]
FORK = multiprocessing.get_context("fork")
A = "a" * 32


@pytest.fixture
def manager():
    """A manager process started by this test process (as gunicorn's master does)."""
    srv = shared.start()
    yield srv
    shared.stop()


def _in_fork(fn, *args, timeout=20):
    """Run ``fn(*args)`` in a forked process (like a gunicorn worker); its return value."""
    parent, child = FORK.Pipe()

    def target():
        try:
            child.send(("ok", fn(*args)))
        except Exception as exc:  # noqa: BLE001 - sent back to fail the test with it
            child.send(("error", repr(exc)))

    proc = FORK.Process(target=target)
    proc.start()
    try:
        assert parent.poll(timeout), "the forked process did not answer"
        kind, value = parent.recv()
    finally:
        proc.join(timeout)
    assert kind == "ok", value
    return value


def test_shr001_in_process_store_is_bounded_lru_and_keeps_objects():
    store = shared.local()
    data = ps.PartnerData()
    store.put("t", "k1", data, 2)
    assert store.get("t", "k1") is data  # one process: what is put is what is got
    store.put("t", "k2", [2], 2)
    store.get("t", "k1")  # k1 is now the most recently used
    store.put("t", "k3", [3], 2)
    assert store.get("t", "k2") is None and store.count("t") == 2
    assert store.has("t", "k1") and store.get("t", "k3") == [3]
    store.pop("t", "k1")
    assert not store.has("t", "k1") and store.get("t", 42) is None
    with store.lock():
        store.put("t", "k4", 4, 2)
    assert shared.managed() is None  # no manager: nothing to connect to


def test_shr002_a_forked_worker_sees_what_another_stored(manager):
    store = shared.managed()
    assert store.backend.pid() == manager.pid != os.getpid()
    store.put("t", "from-parent", {"n": 1}, 10)

    def child():
        mine = shared.managed()
        mine.put("t", "from-child", {"pid": os.getpid()}, 10)
        return (shared._CLIENT[0], os.getpid(), mine.get("t", "from-parent"),
                mine.backend.pid())

    client_pid, pid, seen, manager_pid = _in_fork(child)
    assert client_pid == pid != os.getpid()  # the fork made its own connection
    assert seen == {"n": 1} and manager_pid == manager.pid
    assert store.get("t", "from-child") == {"pid": pid}


def test_shr003_manager_tables_are_bounded_and_values_pickled_once(manager):
    store = shared.managed()
    for i in range(5):
        store.put("lru", f"k{i}", i, 3)
    assert [store.get("lru", f"k{i}") for i in range(5)] == [None, None, 2, 3, 4]
    assert store.count("lru") == 3
    value = {"big": list(range(1000))}
    store.put("memo", "k", value, 3)
    first = store.get("memo", "k")
    assert store.get("memo", "k") is first  # unchanged stamp: no bytes sent, no unpickling
    _in_fork(lambda: shared.managed().put("memo", "k", {"big": []}, 3))
    assert store.get("memo", "k") == {"big": []}  # another process's put is seen
    entries, size = store.backend.sizes()["memo"]
    assert entries == 1 and 0 < size < 1000


def test_shr004_lock_is_shared_and_a_dead_holders_lease_runs_out(manager, monkeypatch):
    store = shared.managed()

    def hold_and_die():  # takes the lock, then exits without releasing it
        assert shared.managed().backend.acquire("dead:1", 5)
        return True

    assert _in_fork(hold_and_die)
    assert not store.backend.acquire("me:1", 0.2)  # held by the dead process...
    tables = Tables()
    monkeypatch.setattr(shared, "LEASE_S", 0.3)
    assert tables.acquire("dead", 1) and tables.acquire("me", 2)  # ...until its lease ends
    tables.release("me")
    assert tables.acquire("next", 0.1)


def test_shr005_partner_data_crosses_without_its_scored_views(manager):
    from app import create_app
    from dashboard.settings import Settings
    from dashboard.state import current

    create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    state = current()
    data = ps.PartnerData(extract=ps.load_synthetic(state))
    ps.score(state, data, [], state.spec.profile.normalisation, state.spec.profile.banding, 5)
    assert data.results  # a scored view cached in this process
    blob = pickle.dumps(data)
    assert len(blob) < 100_000  # the SYNTHETIC extract: about 31 KB
    cache = ps.PartnerCache(3)
    key = cache.put(None, data)

    def child(key):
        got = ps.PartnerCache(3).get(key)
        return got.extract.name, got.extract.synthetic, len(got.results), got.extract.counts.shape

    name, synthetic, results, shape = _in_fork(child, key)
    assert synthetic and name == data.extract.name and results == 0 and shape == (354, 9)
    for _ in range(4):
        cache.put(None, ps.PartnerData())
    assert cache.get(key) is None and len(cache) == 3  # SVRP_PARTNER_SESSIONS bound


def test_shr006_a_job_run_in_one_worker_is_polled_from_another(manager):
    registry = JobRegistry(name="shr006")

    def worker():  # the worker that received the start request runs the job
        mine = JobRegistry(name="shr006")

        def fn(progress):
            progress(1, 2)
            time.sleep(0.5)
            progress(2, 2)
            return {"answer": 42}

        mine.submit(A, "k", fn)
        deadline = time.time() + 10
        while not mine.status(A).finished and time.time() < deadline:
            time.sleep(0.05)
        return os.getpid()

    proc = FORK.Process(target=worker)
    proc.start()
    seen = set()
    deadline = time.time() + 15
    while time.time() < deadline:
        job = registry.status(A)
        if job is not None:
            seen.add(job.state)
            if job.finished:
                break
        time.sleep(0.02)
    proc.join(10)
    assert job.state == DONE and job.result == {"answer": 42} and job.pid == proc.pid
    assert "running" in seen
    assert registry.cached("k") == {"answer": 42}
    again = registry.submit("b" * 32, "k", lambda progress: 0)  # computed elsewhere: reused
    assert again.finished and again.message == "already computed"


def test_shr007_a_dead_manager_gives_one_line_errors(manager):
    store = shared.managed()
    store.put("t", "k", 1, 2)
    os.kill(manager.pid, signal.SIGKILL)
    time.sleep(0.3)
    with pytest.raises(SharedStateError) as failed:
        store.get("t", "k2")
    assert isinstance(failed.value, ProfilerError)
    assert "\n" not in str(failed.value) and "restart the server" in str(failed.value)
    with pytest.raises(SharedStateError):
        ps.PartnerCache(2).get("k")
    with pytest.raises(SharedStateError):
        JobRegistry(name="shr007").status(A)

    def child():  # a new worker cannot connect either
        try:
            shared.managed()
        except SharedStateError as exc:
            return str(exc)
        return "connected"

    assert "not answering" in _in_fork(child)


def test_shr008_stale_jobs_are_reported_stopped_and_do_not_block():
    registry = JobRegistry(name="shr008", store=shared.local(), stale_s=0.2, max_live=1)
    store = registry.store
    store.put(registry._jobs, "lost", {"key": "lost", "state": "running", "done": 1,
                                       "total": 2, "message": "", "seconds": None,
                                       "beat": time.time(), "pid": 1}, 10)
    store.put(registry._sessions, A, {"key": "lost", "cached": False}, 10)
    assert not registry.status(A).finished
    time.sleep(0.3)  # its worker died: no more progress
    job = registry.status(A)
    assert job.state == "error" and "start it again" in job.message
    registry.submit(A, "new", lambda progress: 1)  # neither the tab nor the live cap is stuck
    deadline = time.time() + 5
    while not registry.status(A).finished and time.time() < deadline:
        time.sleep(0.01)
    assert registry.status(A).result == 1
    registry.shutdown()


def test_shr009_pages_say_one_line_when_the_manager_dies(manager):
    import json

    from test_serve_shared import LOAD, PANEL, RECOLOUR, STABILITY, Tab

    from app import create_app
    from benchmarks.load import Callbacks
    from dashboard.settings import Settings
    from dashboard.state import current

    app = create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    client = app.server.test_client()
    state = current()
    tab = Tab(None, Callbacks(client.get("/_dash-dependencies").get_json(), list(state.spec.ids)),
              state.spec.ids, [i.weight for i in state.spec.indicators], [])

    def call(output, changed, **values):
        body = tab.cb.body(output, tab.values | {tuple(k.rsplit(".", 1)): v
                                                 for k, v in values.items()}, changed)
        resp = client.post("/_dash-update-component", json=body)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return resp.get_json()["response"]

    got = call(LOAD, "ovw-load-synthetic.n_clicks", **{"ovw-load-synthetic.n_clicks": 1})
    tab.values[("ovw-partner", "data")] = got["ovw-partner"]["data"]
    assert "SYNTHETIC" in call(RECOLOUR, "ovw-layer.value")["ovw-view"]["data"]["layer_label"]
    os.kill(manager.pid, signal.SIGKILL)
    time.sleep(0.3)
    got = call(RECOLOUR, "ovw-layer.value")
    assert "ovw-view" not in got  # no_update: the previous map stays
    assert "not answering" in got["ovw-error"]["children"]["props"]["children"]
    assert "not answering" in json.dumps(call(PANEL, "ovw-selected.data",
                                              **{"ovw-selected.data": "E01031011"}))
    got = call(LOAD, "ovw-load-synthetic.n_clicks", **{"ovw-load-synthetic.n_clicks": 2})
    assert "ovw-partner" not in got and "not answering" in json.dumps(got)
    tab.values[("ovw-weight", "value")] = [3.0, *tab.values[("ovw-weight", "value")][1:]]
    got = call(STABILITY, "ovw-stb-run.n_clicks", **{"ovw-stb-run.n_clicks": 1})
    assert got["ovw-stb-poll"]["disabled"] is True and "not answering" in json.dumps(got)
    got = call(STABILITY, "ovw-stb-poll.n_intervals", **{"ovw-stb-poll.n_intervals": 1})
    assert got["ovw-stb-poll"]["disabled"] is True and "not answering" in json.dumps(got)


def test_shr010_manager_exits_with_its_master_even_a_killed_one():
    from test_serve_shared import _gone

    parent, child = FORK.Pipe()

    def master():
        child.send(shared.start().pid)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit: the manager is not told to stop

    proc = FORK.Process(target=master)
    proc.start()
    assert parent.poll(20)
    pid = parent.recv()
    proc.join(10)
    deadline = time.time() + 5
    while not _gone(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _gone(pid), "the manager outlived its master"


def test_shr011_a_manager_that_cannot_start_is_a_one_line_error(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise EOFError

    monkeypatch.setattr(shared._Manager, "start", refuse)
    with pytest.raises(SharedStateError, match=r"^could not start the shared session store "
                                               r"\(EOFError: \);.*SVRP_WORKERS=1$"):
        shared.start()
    assert shared.server() is None
