"""The shared session store: one interface, in process and on Redis (sealed, bounded, expiring)."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time
import uuid
from pathlib import Path

import pytest
from redisutil import RedisProc, needs_redis

from dashboard import partner_state as ps
from dashboard import private_redis, redis_store, shared
from dashboard.jobs import DONE, JobRegistry
from dashboard.shared import SharedStateError
from profiler.errors import ProfilerError

ROOT = Path(__file__).resolve().parents[2]
FORK = multiprocessing.get_context("fork")
A = "a" * 32
KEY = redis_store.random_key()


def _redis(url, ttl=60.0, key=KEY):
    return redis_store.connect(url, key, ttl=ttl, prefix=f"t{uuid.uuid4().hex[:8]}:")


@pytest.fixture(params=["local", "redis"])
def make_store(request):
    """Make a store of either backend with a given TTL (Redis skipped without redis-server)."""
    if request.param == "local":
        return lambda ttl=60.0: shared.local(ttl)
    proc = request.getfixturevalue("redis_proc")
    return lambda ttl=60.0: _redis(proc.url, ttl)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test alone (to kill and restart)."""
    from redisutil import REDIS_SERVER

    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server: 'sudo apt-get install redis-server'")
    proc = RedisProc(tmp_path / "redis")
    yield proc
    proc.kill()


def _in_fork(fn, *args, timeout=30):
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


def test_shr001_store_is_bounded_lru(make_store):
    store = make_store()
    data = ps.PartnerData()
    store.put("t", "k1", data, 2)
    assert isinstance(store.get("t", "k1"), ps.PartnerData)
    store.put("t", "k2", [2], 2)
    store.get("t", "k1")  # k1 is now the most recently used
    store.put("t", "k3", [3], 2)
    assert store.get("t", "k2") is None and store.count("t") == 2
    assert store.has("t", "k1") and store.get("t", "k3") == [3]
    assert [type(v) for v in store.values("t")] == [ps.PartnerData, list]
    store.pop("t", "k1")
    assert not store.has("t", "k1") and store.get("t", 42) is None and not store.has("t", None)
    with store.lock():
        store.put("t", "k4", 4, 2)
    assert store.get("t", "k4") == 4


def test_shr002_entries_expire_after_their_last_use(make_store):
    store = make_store(ttl=0.6)
    store.put("t", "old", 1, 10)
    store.put("t", "used", 2, 10)
    for _ in range(3):
        time.sleep(0.3)
        assert store.get("t", "used") == 2  # each use renews it
    assert store.get("t", "old") is None and store.count("t") == 1


def test_shr003_in_process_store_keeps_the_objects():
    store = shared.local()
    data = ps.PartnerData()
    store.put("t", "k", data, 2)
    assert store.get("t", "k") is data  # one process: what is put is what is got
    assert shared.active() is None  # nothing configured: each owner keeps its own


@needs_redis
def test_shr004_a_forked_worker_sees_what_another_stored(redis_proc):
    store = _redis(redis_proc.url)
    store.put("t", "from-parent", {"n": 1}, 10)

    def child():
        store.put("t", "from-child", {"pid": os.getpid()}, 10)  # its own connection, after fork
        return os.getpid(), store.get("t", "from-parent")

    pid, seen = _in_fork(child)
    assert seen == {"n": 1} and pid != os.getpid()
    assert store.get("t", "from-child") == {"pid": pid}
    value = {"big": list(range(1000))}
    store.put("memo", "k", value, 3)
    first = store.get("memo", "k")
    assert store.get("memo", "k") is first  # unchanged stamp: no bytes sent, no unpickling
    _in_fork(lambda: store.put("memo", "k", {"big": []}, 3))
    assert store.get("memo", "k") == {"big": []}  # another process's put is seen


@needs_redis
def test_shr005_lock_is_shared_and_a_dead_holders_lease_runs_out(redis_proc, monkeypatch):
    monkeypatch.setattr(redis_store, "LEASE_S", 1.0)
    monkeypatch.setattr(redis_store, "LOCK_TIMEOUT_S", 0.2)
    store = _redis(redis_proc.url)

    def hold_and_die():  # takes the lock, then exits without releasing it
        held = store.lock()  # kept referenced: a collected generator would release it
        held.__enter__()
        os._exit(0)

    proc = FORK.Process(target=hold_and_die)
    proc.start()
    proc.join(10)
    with pytest.raises(SharedStateError), store.lock():  # held by the dead process...
        pass
    time.sleep(1.0)
    with store.lock():  # ...until its lease ends
        store.put("t", "k", 1, 2)


@pytest.mark.slow
@needs_redis
def test_shr006_partner_data_crosses_without_its_scored_views(redis_proc):
    from app import create_app
    from dashboard.settings import Settings
    from dashboard.state import current

    create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    state = current()
    data = ps.PartnerData(extract=ps.load_synthetic(state))
    ps.score(state, data, [], state.spec.profile.normalisation, state.spec.profile.banding, 5)
    assert data.results  # a scored view cached in this process
    store = _redis(redis_proc.url)
    cache = ps.PartnerCache(3, store=store)
    key = cache.put(None, data)

    def child(key):  # a new connection, as a worker on another host has (no memo)
        mine = redis_store.connect(redis_proc.url, KEY, 60, store.prefix)
        got = ps.PartnerCache(3, store=mine).get(key)
        return got.extract.name, got.extract.synthetic, len(got.results), got.extract.counts.shape

    name, synthetic, results, shape = _in_fork(child, key)
    assert synthetic and name == data.extract.name and results == 0 and shape == (354, 9)
    for _ in range(4):
        cache.put(None, ps.PartnerData())
    assert cache.get(key) is None and len(cache) == 3  # SVRP_PARTNER_SESSIONS bound


def _answer(progress):
    progress(1, 2)
    time.sleep(0.5)
    progress(2, 2)
    return {"answer": 42}


@needs_redis
def test_shr007_a_job_queued_by_one_process_runs_in_another_and_is_polled(redis_proc):
    store = _redis(redis_proc.url)
    name = f"shr007{uuid.uuid4().hex[:6]}"
    registry = JobRegistry(name=name, store=store, run_here=False)  # this process only asks

    def worker():  # another app process: its RQ worker thread takes the job from the queue
        mine = JobRegistry(name=name, store=store)
        mine.start_workers()
        deadline = time.time() + 20
        while time.time() < deadline:
            job = mine.status(A)
            if job is not None and job.finished:
                break
            time.sleep(0.05)
        return os.getpid()

    proc = FORK.Process(target=worker)
    proc.start()
    registry.submit(A, "k", _answer)
    seen = set()
    deadline = time.time() + 20
    while time.time() < deadline:
        job = registry.status(A)
        seen.add(job.state)
        if job.finished:
            break
        time.sleep(0.02)
    proc.join(20)
    assert job.state == DONE and job.result == {"answer": 42} and job.pid == proc.pid
    assert "running" in seen and job.host
    assert registry.cached("k") == {"answer": 42}
    again = registry.submit("b" * 32, "k", _answer)  # computed elsewhere: reused
    assert again.finished and again.message == "already computed"


@needs_redis
def test_shr008_redis_down_gives_one_line_errors_and_a_restart_recovers(own_redis):
    store = _redis(own_redis.url)
    store.put("t", "k", 1, 2)
    own_redis.kill()
    for call in (lambda: store.get("t", "k"), lambda: ps.PartnerCache(2, store=store).get("k"),
                 lambda: JobRegistry(name="shr008", store=store).status(A)):
        with pytest.raises(SharedStateError) as failed:
            call()
        assert isinstance(failed.value, ProfilerError)
        assert "\n" not in str(failed.value) and "try again" in str(failed.value)
    own_redis.restart()  # an empty Redis: the app carries on without a restart
    assert store.get("t", "k") is None
    store.put("t", "k", 2, 2)
    assert store.get("t", "k") == 2


def test_shr009_stale_jobs_are_reported_stopped_and_do_not_block(make_store):
    registry = JobRegistry(name=f"shr009{uuid.uuid4().hex[:6]}", store=make_store(),
                           stale_s=0.3, max_live=1)
    store = registry.store
    store.put(registry._jobs, "lost", {"key": "lost", "state": "running", "done": 1,
                                       "total": 2, "message": "", "seconds": None,
                                       "beat": time.time(), "pid": 1}, 10)
    store.put(registry._sessions, A, {"key": "lost", "cached": False}, 10)
    assert not registry.status(A).finished
    time.sleep(0.4)  # its worker died: no more progress
    job = registry.status(A)
    assert job.state == "error" and "start it again" in job.message
    registry.submit(A, "new", _one)  # neither the tab nor the live cap is stuck
    deadline = time.time() + 10
    while not registry.status(A).finished and time.time() < deadline:
        time.sleep(0.01)
    assert registry.status(A).result == 1
    registry.shutdown()


def _one(progress):
    return 1


@pytest.mark.slow
@needs_redis
def test_shr010_pages_say_one_line_when_redis_goes_and_recover_when_it_is_back(own_redis):
    from test_serve_shared import LOAD, PANEL, RECOLOUR, STABILITY, Tab

    from app import create_app
    from benchmarks.load import Callbacks
    from dashboard.settings import Settings
    from dashboard.state import current

    app = create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    client = app.server.test_client()
    state = current()
    shared.use(_redis(own_redis.url))
    try:
        tab = Tab(None, Callbacks(client.get("/_dash-dependencies").get_json(),
                                  list(state.spec.ids)),
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
        assert client.get("/healthz").status_code == 200
        own_redis.kill()
        got = call(RECOLOUR, "ovw-layer.value")
        assert "ovw-view" not in got  # no_update: the previous map stays
        message = got["ovw-error"]["children"]["props"]["children"]
        assert "not answering" in message and "\n" not in message
        assert "not answering" in json.dumps(call(PANEL, "ovw-selected.data",
                                                  **{"ovw-selected.data": "E01031011"}))
        got = call(LOAD, "ovw-load-synthetic.n_clicks", **{"ovw-load-synthetic.n_clicks": 2})
        assert "ovw-partner" not in got and "not answering" in json.dumps(got)
        tab.values[("ovw-weight", "value")] = [3.0, *tab.values[("ovw-weight", "value")][1:]]
        got = call(STABILITY, "ovw-stb-run.n_clicks", **{"ovw-stb-run.n_clicks": 1})
        assert got["ovw-stb-poll"]["disabled"] is True and "not answering" in json.dumps(got)
        assert client.get("/healthz").status_code == 503
        own_redis.restart()  # back, empty: no app restart needed
        got = call(RECOLOUR, "ovw-layer.value")
        assert got["ovw-view"]["data"]["band_string"]
        assert "no longer held" in json.dumps(got["ovw-error"])  # says so, open data shown
        got = call(LOAD, "ovw-load-synthetic.n_clicks", **{"ovw-load-synthetic.n_clicks": 3})
        assert got["ovw-partner"]["data"]["key"]
        assert client.get("/healthz").status_code == 200
    finally:
        shared.use(None)


@needs_redis
def test_shr011_values_are_sealed_and_bound_to_their_key(redis_proc):
    import redis

    store = _redis(redis_proc.url)
    marker = "MARKER-" + uuid.uuid4().hex
    store.put("partner", "s1", {"note": marker, "n": 12345}, 5)
    registry = JobRegistry(name=f"shr011{uuid.uuid4().hex[:6]}", store=store)
    registry.submit(A, "k", _marker_job)
    deadline = time.time() + 10
    while not registry.status(A).finished and time.time() < deadline:
        time.sleep(0.05)
    assert registry.status(A).result == "MARKER-job-result"
    raw = redis.Redis.from_url(redis_proc.url)
    for key in raw.scan_iter(count=1000):
        dumped = raw.dump(key) or b""
        value = raw.hgetall(key) if raw.type(key) == b"hash" else {}
        blob = dumped + b"".join(value.values())
        assert b"MARKER" not in blob, key
    prefix = store.prefix
    stolen = raw.hget(f"{prefix}partner:s1", "b")
    raw.hset(f"{prefix}partner:s2", mapping={"s": b"x", "b": stolen})  # replayed elsewhere
    assert store.get("partner", "s2") is None
    other = redis_store.connect(redis_proc.url, redis_store.random_key(), 60, prefix)
    assert other.get("partner", "s1") is None  # another key opens nothing
    registry.shutdown()


def _marker_job(progress):
    progress(1, 1)
    return "MARKER-job-result"


@needs_redis
def test_shr012_startup_checks_are_one_line(redis_proc, tmp_path, capsys, monkeypatch):
    from dashboard.settings import Settings

    with pytest.raises(ProfilerError, match=r"^SVRP_REDIS_URL=redis://u:\*\*\*@127.0.0.1:1/0: "
                                            r"cannot use Redis .*; start redis-server"):
        redis_store.connect("redis://u:pw@127.0.0.1:1/0", KEY, 60)
    with pytest.raises(ProfilerError, match="SVRP_SECRET_KEY is not"):
        shared.configure(Settings(redis_url=redis_proc.url))
    with pytest.raises(ProfilerError, match="too short"):
        Settings(secret_key="short")  # noqa: S106 - a refused key
    bare = RedisProc(tmp_path / "bare", None, "--maxmemory", "0", "--save", "3600 1")
    try:
        with pytest.raises(ProfilerError, match="maxmemory 0 .*allkeys-lru$"):
            redis_store.connect(bare.url, KEY, 60)
        bare_client = __import__("redis").Redis.from_url(bare.url)
        bare_client.config_set("maxmemory", "10mb")
        capsys.readouterr()
        redis_store.connect(bare.url, KEY, 60)
        err = capsys.readouterr().err
        assert err.startswith("warning: Redis persistence is on (save '3600 1'")
        assert err.count("\n") == 1
    finally:
        bare.kill()
    monkeypatch.setattr(private_redis, "_find_binary", lambda: None)
    with pytest.raises(ProfilerError, match=r"apt-get install redis-server.*SVRP_REDIS_URL"):
        shared.configure(Settings(workers=2))


@needs_redis
def test_shr013_private_redis_is_private_in_memory_and_stops_with_its_owner():
    def owner():
        srv = private_redis.start("16mb")
        folder = srv.folder
        mode = stat.S_IMODE(folder.stat().st_mode)
        store = redis_store.connect(srv.url, KEY, 60)
        config = {k: v for name in ("save", "appendonly", "maxmemory-policy", "port")
                  for k, v in store.client.config_get(name).items()}
        files = sorted(p.name for p in folder.iterdir())
        srv.stop()
        return mode, config, files, folder.exists(), srv.proc.poll() is not None

    mode, config, files, exists, stopped = _in_fork(owner)
    assert mode == 0o700 and files == ["redis.sock"]
    assert config == {"save": "", "appendonly": "no", "maxmemory-policy": "allkeys-lru",
                      "port": "0"}
    assert stopped and not exists


def test_shr030_one_partner_cache_for_every_home_area():
    """Opening another area (a new AppState on the same settings) keeps every session's uploads."""
    from types import SimpleNamespace

    from dashboard.settings import Settings

    settings = Settings()
    home, other = SimpleNamespace(settings=settings), SimpleNamespace(settings=settings)
    cache = ps.cache_for(home)
    assert ps.cache_for(other) is cache
    assert ps.cache_for(SimpleNamespace(settings=Settings())) is not cache  # a new app
