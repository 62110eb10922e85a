"""Per-session server state every worker and host sees: one store interface, two backends.

:class:`Store` is what :class:`~dashboard.partner_state.PartnerCache` and the job registry use:
named tables of values by key (``get``/``has``/``put``/``pop``/``values``/``count``), each entry
expiring ``SVRP_SESSION_TTL`` seconds after its last use and each table bounded (least recently
used first out), plus one lock for a read-modify-write.

- :class:`LocalStore` (one process: ``make run``, unit tests): a dict of tables in this process;
  what is put is what is got.
- :class:`dashboard.redis_store.RedisStore`, when ``SVRP_REDIS_URL`` is set, or when
  ``make serve`` runs more than one worker on one machine (it then starts a private
  ``redis-server``, :mod:`dashboard.private_redis`). Values are pickled and sealed (AES-GCM)
  in the worker before they are sent, so Redis, its dumps and its replicas hold nothing readable.

:func:`configure` (called by wsgi.py in gunicorn's master, before the fork) picks the backend
for the process and its forks; :func:`active` returns it, or None in one process, where each
owner keeps its own :class:`LocalStore`.

If Redis does not answer, every call raises :class:`SharedStateError` (a
:class:`profiler.errors.ProfilerError`: pages show its one-line message and keep the previous
view), and the next call tries again, so a restarted Redis is used without restarting the app.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from profiler.errors import ProfilerError

LOG = logging.getLogger(__name__)
LOCK_TIMEOUT_S = 10.0  # waiting longer for the shared lock than this means something is stuck
LEASE_S = 10.0  # a lock held this long is taken back (its holder died, e.g. a killed worker)
DEFAULT_TTL_S = 4 * 3600
DOWN = ("the server's session store (Redis) is not answering, so partner data and what-if runs "
        "are unavailable for now; the previous view is kept: try again in a moment")


class SharedStateError(ProfilerError):
    """The shared store (Redis) is gone or did not answer."""


class Store:
    """The store interface: bounded, expiring tables of values by string key, and one lock.

    A key that is not a string is never found (``get`` gives None), so a malformed id from a
    browser cannot reach the backend. ``put`` values are treated as read-only afterwards.
    """

    ttl: float = DEFAULT_TTL_S

    def get(self, table: str, key) -> Any:
        """The value under ``key``, or None (unknown, expired, or not a string)."""
        raise NotImplementedError

    def has(self, table: str, key) -> bool:
        """Whether ``key`` is held."""
        raise NotImplementedError

    def put(self, table: str, key: str, value, bound: int) -> None:
        """Store ``value`` in a table of at most ``bound`` entries (least recently used out)."""
        raise NotImplementedError

    def pop(self, table: str, key) -> None:
        """Forget ``key``."""
        raise NotImplementedError

    def values(self, table: str) -> list:
        """Every value of a table (least recently used first)."""
        raise NotImplementedError

    def count(self, table: str) -> int:
        """Entries in a table."""
        raise NotImplementedError

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store's one lock (across processes and hosts with Redis)."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the start-up message."""
        return type(self).__name__


class LocalStore(Store):
    """In-process tables (thread-safe): ``{table: OrderedDict(key -> (expires, value))}``.

    Parameters
    ----------
    ttl : float
        Seconds an entry lives after its last use (``SVRP_SESSION_TTL``).
    """

    def __init__(self, ttl: float = DEFAULT_TTL_S) -> None:
        self.ttl = float(ttl)
        self._tables: dict[str, OrderedDict[str, tuple[float, Any]]] = {}
        self._mutex = threading.RLock()
        self._lock = threading.Lock()  # not re-entrant, like the Redis lock

    def _items(self, table: str) -> OrderedDict[str, tuple[float, Any]]:
        items = self._tables.setdefault(table, OrderedDict())
        now = time.monotonic()
        while items:  # least recently used first: the expired ones are at the front
            key, (expires, _) = next(iter(items.items()))
            if expires > now:
                break
            items.popitem(last=False)
        return items

    def get(self, table: str, key) -> Any:
        """The value under ``key`` (its expiry renewed), or None."""
        if not isinstance(key, str):
            return None
        with self._mutex:
            items = self._items(table)
            if key not in items:
                return None
            value = items[key][1]
            items[key] = (time.monotonic() + self.ttl, value)
            items.move_to_end(key)
            return value

    def has(self, table: str, key) -> bool:
        """Whether ``key`` is held (its recency is not changed)."""
        with self._mutex:
            return isinstance(key, str) and key in self._items(table)

    def put(self, table: str, key: str, value, bound: int) -> None:
        """Store ``value`` (the object itself), keeping the ``bound`` most recent entries."""
        with self._mutex:
            items = self._items(table)
            items[key] = (time.monotonic() + self.ttl, value)
            items.move_to_end(key)
            while len(items) > max(1, int(bound)):
                items.popitem(last=False)

    def pop(self, table: str, key) -> None:
        """Forget ``key``."""
        if isinstance(key, str):
            with self._mutex:
                self._tables.get(table, {}).pop(key, None)

    def values(self, table: str) -> list:
        """Every value of a table, least recently used first."""
        with self._mutex:
            return [v for _, v in self._items(table).values()]

    def count(self, table: str) -> int:
        """Entries in a table."""
        with self._mutex:
            return len(self._items(table))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this store's lock (this process only)."""
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            raise SharedStateError(DOWN)
        try:
            yield
        finally:
            self._lock.release()

    def describe(self) -> str:
        """One line for the start-up message."""
        return "in process"


def local(ttl: float = DEFAULT_TTL_S) -> LocalStore:
    """A new in-process store (one process: what is put is what is got)."""
    return LocalStore(ttl)


_ACTIVE: Store | None = None


def use(store: Store | None) -> None:
    """Make ``store`` the one this process (and its forks) share, or None for in-process."""
    global _ACTIVE
    _ACTIVE = store


def active() -> Store | None:
    """The shared store of this process (Redis), or None (one process: in-process stores)."""
    return _ACTIVE


def configure(settings) -> Store | None:
    """Pick the backend for ``settings`` (wsgi.py, in gunicorn's master before the fork).

    ``SVRP_REDIS_URL`` set: that Redis (``SVRP_SECRET_KEY`` required). Unset with more than one
    worker: a private ``redis-server`` on a Unix socket, stopped with this process, with a random
    key made here and kept in memory only (one host is guaranteed: the socket is local). One
    worker and no URL: in process (None).

    Raises
    ------
    ProfilerError
        One line naming what is missing and how to fix it.
    """
    from dashboard import private_redis, redis_store

    url, key = settings.redis_url, settings.secret_key
    if not url and settings.workers <= 1:
        use(None)
        return None
    if not url:
        url = private_redis.start(settings.redis_maxmemory).url
        key = redis_store.random_key()
    elif not key:
        raise ProfilerError(
            "SVRP_REDIS_URL is set but SVRP_SECRET_KEY is not: every host needs the same key "
            "to seal session data; make one with 'python -m dashboard.redis_store key' and set "
            "it on each host")
    store = redis_store.connect(url, key, ttl=settings.session_ttl)
    use(store)
    return store


__all__ = ["LocalStore", "SharedStateError", "Store", "active", "configure", "local", "use"]
