"""Per-session server state that every gunicorn worker sees: bounded tables, one lock; no disk.

With one process (``python app.py``, tests) a :class:`Store` wraps an in-process
:class:`Tables` (a dict of least-recently-used tables and a lock), exactly as before. Under
``make serve`` with more than one worker, :func:`start` (called in gunicorn's master, after the
data load and before the fork) spawns a :mod:`multiprocessing.managers` server process holding
one :class:`Tables`; each worker connects lazily, once per process (:func:`managed` checks
``os.getpid()``, so a connection is never reused across a fork), with the address and a random
authkey the master made. The authkey lives in memory only: the spawned manager gets it through
its start-up pipe, the workers inherit it by fork; it is never in a file or the environment.

Values cross the manager as pickled bytes made by the worker, so the manager process never
unpickles anything and needs no pandas. Each worker keeps the last value it unpickled per key
with its stamp and asks the manager for the bytes only when the stamp changed. Sizes, pickled:
the SYNTHETIC extract is about 31 KB, a county indicator upload (spec and 354-row table) about
0.7 MB (about 9 ms to pickle and unpickle), a stability result about 20 KB. At most
``SVRP_PARTNER_SESSIONS`` (default 20) partner sessions and 16 stability results are held, so
the manager holds some 15 MB of values at most (the process itself is about 25 MB: it
imports no pandas). The manager listens on a Unix socket in a private (0700) temporary folder;
only the socket's name is on disk, never a value.

If the manager dies or does not answer, every call raises :class:`SharedStateError` (a
:class:`profiler.errors.ProfilerError`: pages show its one-line message and keep the previous
view) and the failure is logged.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.process
import os
import pickle  # noqa: S403 - only bytes made by this app's own workers, behind an authkey
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.managers import BaseManager
from typing import Any

from profiler.errors import ProfilerError

LOG = logging.getLogger(__name__)
LOCK_TIMEOUT_S = 10.0  # waiting longer for the shared lock than this means something is stuck
LEASE_S = 10.0  # a lock held this long is taken back (its holder died, e.g. a killed worker)
MEMO_PER_TABLE = 32  # unpickled values a worker remembers per table
DOWN = ("the server's shared session store is not answering, so partner data and what-if runs "
        "are unavailable; the previous view is kept: ask the operator to restart the server")


class SharedStateError(ProfilerError):
    """The shared store (the manager process) is gone or did not answer."""


class Tables:
    """Named least-recently-used tables of ``(stamp, value)`` and one leased lock (thread-safe).

    Runs either in the process that uses it or in the manager process, where each worker
    connection is served by its own thread. A ``put`` gives the value a new stamp (unique in
    this object) and trims the table to ``bound`` entries, least recently used first out.
    """

    def __init__(self) -> None:
        self._tables: dict[str, OrderedDict[str, tuple[int, Any]]] = {}
        self._stamps = itertools.count(1)
        self._mutex = threading.Lock()
        self._freed = threading.Condition(self._mutex)
        self._holder: str | None = None
        self._until = 0.0

    def get(self, table: str, key: str, have: int | None = None) -> tuple[int, Any] | None:
        """``(stamp, value)`` for ``key`` (value None when ``have`` is its stamp), or None."""
        with self._mutex:
            items = self._tables.get(table)
            if items is None or key not in items:
                return None
            items.move_to_end(key)
            stamp, value = items[key]
            return (stamp, None) if stamp == have else (stamp, value)

    def has(self, table: str, key: str) -> bool:
        """Whether ``key`` is held (its recency is not changed)."""
        with self._mutex:
            return key in self._tables.get(table, ())

    def put(self, table: str, key: str, value: Any, bound: int) -> int:
        """Store ``value`` under ``key``, keep the ``bound`` most recent entries; the new stamp."""
        with self._mutex:
            items = self._tables.setdefault(table, OrderedDict())
            stamp = next(self._stamps)
            items[key] = (stamp, value)
            items.move_to_end(key)
            while len(items) > max(1, int(bound)):
                items.popitem(last=False)
            return stamp

    def pop(self, table: str, key: str) -> None:
        """Forget ``key``."""
        with self._mutex:
            self._tables.get(table, {}).pop(key, None)

    def items(self, table: str) -> list[tuple[str, int, Any]]:
        """Every ``(key, stamp, value)`` of a table, least recently used first."""
        with self._mutex:
            return [(k, s, v) for k, (s, v) in self._tables.get(table, {}).items()]

    def count(self, table: str) -> int:
        """Entries in a table."""
        with self._mutex:
            return len(self._tables.get(table, ()))

    def sizes(self) -> dict[str, tuple[int, int]]:
        """``{table: (entries, bytes)}``, bytes counted for ``bytes`` values only."""
        with self._mutex:
            return {name: (len(items), sum(len(v) for _, v in items.values()
                                           if isinstance(v, bytes)))
                    for name, items in self._tables.items()}

    def acquire(self, token: str, timeout: float) -> bool:
        """Take the lock for ``token``, waiting up to ``timeout`` s; False if it stayed held.

        A holder that kept it over :data:`LEASE_S` is presumed dead and loses it.
        """
        deadline = time.monotonic() + timeout
        with self._mutex:
            while self._holder is not None and time.monotonic() < self._until:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._freed.wait(max(0.0, min(left, self._until - time.monotonic())))
            if self._holder is not None:
                LOG.warning("shared lock held over %.0f s by %s: taken back", LEASE_S,
                            self._holder)
            self._holder, self._until = token, time.monotonic() + LEASE_S
            return True

    def release(self, token: str) -> None:
        """Give the lock back (ignored unless ``token`` holds it)."""
        with self._mutex:
            if self._holder == token:
                self._holder = None
                self._freed.notify()

    def pid(self) -> int:
        """The pid of the process holding the tables (tests; the manager's pid)."""
        return os.getpid()


class Store:
    """What :class:`~dashboard.partner_state.PartnerCache` and the job registry use.

    Parameters
    ----------
    backend : Tables or a manager proxy of one
        Where the tables are.
    pickled : bool
        Send values as pickled bytes (a manager proxy); False keeps the objects themselves
        (in-process: what is put is what is got).
    """

    def __init__(self, backend, *, pickled: bool) -> None:
        self.backend = backend
        self.pickled = pickled
        self._memo: dict[str, OrderedDict[str, tuple[int, Any]]] = {}
        self._memo_lock = threading.Lock()
        self._tokens = itertools.count()

    def _call(self, method: str, *args):
        try:
            return getattr(self.backend, method)(*args)
        except (OSError, EOFError, multiprocessing.AuthenticationError,
                multiprocessing.managers.RemoteError) as exc:
            LOG.error("shared store: %s failed: %s: %s", method, type(exc).__name__, exc)
            raise SharedStateError(DOWN) from None

    def get(self, table: str, key) -> Any:
        """The value under ``key``, or None (also for a key that is not a string)."""
        if not isinstance(key, str):
            return None
        if not self.pickled:
            found = self._call("get", table, key)
            return None if found is None else found[1]
        with self._memo_lock:
            memo = self._memo.setdefault(table, OrderedDict())
            known = memo.get(key)
        found = self._call("get", table, key, None if known is None else known[0])
        with self._memo_lock:
            if found is None:
                memo.pop(key, None)
                return None
            stamp, blob = found
            if blob is None and known is not None:
                memo.move_to_end(key)
                return known[1]
        value = pickle.loads(blob)  # noqa: S301 - bytes our own workers pickled (see module)
        self._remember(table, key, stamp, value)
        return value

    def _remember(self, table: str, key: str, stamp: int, value) -> None:
        with self._memo_lock:
            memo = self._memo.setdefault(table, OrderedDict())
            memo[key] = (stamp, value)
            memo.move_to_end(key)
            while len(memo) > MEMO_PER_TABLE:
                memo.popitem(last=False)

    def has(self, table: str, key) -> bool:
        """Whether ``key`` is held."""
        return isinstance(key, str) and self._call("has", table, key)

    def put(self, table: str, key: str, value, bound: int) -> None:
        """Store ``value`` (treat it as read-only afterwards) in a table of ``bound`` entries."""
        if not self.pickled:
            self._call("put", table, key, value, bound)
            return
        stamp = self._call("put", table, key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL),
                           bound)
        self._remember(table, key, stamp, value)

    def pop(self, table: str, key) -> None:
        """Forget ``key``."""
        if isinstance(key, str):
            self._call("pop", table, key)
            with self._memo_lock:
                self._memo.get(table, {}).pop(key, None)

    def values(self, table: str) -> list:
        """Every value of a table (least recently used first)."""
        rows = self._call("items", table)
        if not self.pickled:
            return [v for _, _, v in rows]
        return [pickle.loads(v) for _, _, v in rows]  # noqa: S301 - as in get

    def count(self, table: str) -> int:
        """Entries in a table."""
        return self._call("count", table)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's one lock (across processes when managed) for a read-modify-write."""
        token = f"{os.getpid()}:{threading.get_ident()}:{next(self._tokens)}"
        if not self._call("acquire", token, LOCK_TIMEOUT_S):
            LOG.error("shared store: lock not free after %.0f s", LOCK_TIMEOUT_S)
            raise SharedStateError(DOWN)
        try:
            yield
        finally:
            with contextlib.suppress(SharedStateError):
                self._call("release", token)


def local() -> Store:
    """A new in-process store (one process: what is put is what is got)."""
    return Store(Tables(), pickled=False)


# -- the manager: started in gunicorn's master, used by its workers --------------------------

_TABLES: Tables | None = None  # the manager process's one Tables


def _tables() -> Tables:
    global _TABLES
    if _TABLES is None:
        _TABLES = Tables()
    return _TABLES


class _Manager(BaseManager):
    pass


def _exit_with(parent: int) -> None:
    """In the manager process: exit once ``parent`` (gunicorn's master) is gone.

    The master stops the manager when it exits normally; this covers a master that was killed,
    so no partner data outlives the server in an orphaned process.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="svrp-parent-watch", daemon=True).start()


_Manager.register("tables", callable=_tables, exposed=(
    "get", "has", "put", "pop", "items", "count", "sizes", "acquire", "release", "pid"))


@dataclass(frozen=True)
class Server:
    """The running manager as the master and, by fork, its workers know it."""

    address: str
    authkey: bytes
    pid: int  # the manager process
    owner: int  # the process that started it (gunicorn's master)
    manager: _Manager | None = None  # in the owner only, to stop it


_SERVER: Server | None = None
_CLIENT: tuple[int, Store] | None = None
_CLIENT_LOCK = threading.Lock()


def start() -> Server:
    """Spawn the manager process and make this process (and its forks) use it.

    Call it once, in gunicorn's master before the workers fork; it is stopped when that process
    exits (or by :func:`stop`). ``spawn``, not fork: the manager does not carry a copy of the
    loaded data, the app or its threads, only this module.

    Raises
    ------
    SharedStateError
        The manager process could not be started.
    """
    global _SERVER
    if _SERVER is not None:
        return _SERVER
    authkey = secrets.token_bytes(32)
    manager = _Manager(authkey=authkey, ctx=multiprocessing.get_context("spawn"))
    try:
        manager.start(initializer=_exit_with, initargs=(os.getpid(),))
    except (OSError, EOFError) as exc:  # a start-up error: serve.py prints it on one line
        raise SharedStateError(
            f"could not start the shared session store ({type(exc).__name__}: {exc}); check "
            "that the temporary folder is writable, or set SVRP_WORKERS=1") from None
    process = manager._process  # the manager's Process, forgotten in forks (below)
    # gunicorn's workers are os.fork()s, so they inherit multiprocessing's list of children and
    # at exit would try to join a process that is not theirs (an AssertionError in atexit)
    os.register_at_fork(
        after_in_child=lambda: multiprocessing.process._children.discard(process))
    _SERVER = Server(address=manager.address, authkey=authkey, pid=process.pid,
                     owner=os.getpid(), manager=manager)
    LOG.info("shared session store: manager pid %s", process.pid)
    return _SERVER


def stop() -> None:
    """Stop the manager started by this process (tests; normally it stops at exit)."""
    global _SERVER, _CLIENT
    srv, _SERVER, _CLIENT = _SERVER, None, None
    if srv is not None and srv.manager is not None and srv.owner == os.getpid():
        srv.manager.shutdown()


def server() -> Server | None:
    """The manager this process uses, or None (one process: in-process stores)."""
    return _SERVER


def managed() -> Store | None:
    """The connection of this process to the manager (made on first use per pid), or None.

    Raises
    ------
    SharedStateError
        A manager was started but cannot be reached.
    """
    global _CLIENT
    srv = _SERVER
    if srv is None:
        return None
    pid = os.getpid()
    with _CLIENT_LOCK:
        if _CLIENT is None or _CLIENT[0] != pid:
            manager = _Manager(address=srv.address, authkey=srv.authkey)
            try:
                manager.connect()
                proxy = manager.tables()
            except (OSError, EOFError, multiprocessing.AuthenticationError) as exc:
                LOG.error("shared store: cannot connect to %s: %s: %s", srv.address,
                          type(exc).__name__, exc)
                raise SharedStateError(DOWN) from None
            _CLIENT = (pid, Store(proxy, pickled=True))
        return _CLIENT[1]


__all__ = ["SharedStateError", "Store", "Tables", "local", "managed", "server", "start", "stop"]
