"""The Redis backend of :class:`dashboard.shared.Store`: sealed values, expiring keys, one lock.

Layout (prefix ``svrp:``): each entry is a hash ``svrp:<table>:<key>`` (the key is the
session's, e.g. ``svrp:partner:<session key>``, ``svrp:jobs:session:<tab id>``) holding a
random stamp ``s`` and the value ``b``; each table has a sorted set ``svrp:~lru:<table>`` of its
keys by last use (ordered by a counter, ``svrp:~clock``). A ``put`` sets the hash, expires it
``SVRP_SESSION_TTL`` seconds later (each ``get`` renews it), and trims the table to its bound,
least recently used first out, in one Lua script; on top of that Redis's own ``maxmemory`` with
an LRU policy (checked at start-up) bounds the memory whatever happens. The lock is redis-py's
:class:`redis.lock.Lock` (``SET NX PX`` with a lease, so a holder killed mid-way loses it after
:data:`~dashboard.shared.LEASE_S`).

Values are pickled, then sealed with AES-GCM (``cryptography``) before they leave the worker:
the key is derived (HKDF-SHA256) from ``SVRP_SECRET_KEY``, or made at random per run when
``make serve`` starts its own private Redis; it is never written to Redis or disk. The Redis
key name is the associated data, so a value cannot be replayed under another session's key.
Unpickling only happens after the tag checked, i.e. for bytes this app's own workers sealed.
A worker keeps the last value it unpickled per key with its stamp and fetches the bytes only
when the stamp changed.

    python -m dashboard.redis_store key    # prints a new SVRP_SECRET_KEY
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle  # noqa: S403 - only bytes sealed by this app's own workers (AES-GCM tag checked)
import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dashboard.shared import DOWN, LEASE_S, LOCK_TIMEOUT_S, SharedStateError, Store
from profiler.errors import ProfilerError

LOG = logging.getLogger(__name__)
PREFIX = "svrp:"
MEMO = 64  # unpickled values a worker remembers
VERSION = b"\x01"
LRU_POLICIES = ("allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu")

_GET = """
local s = redis.call('HGET', KEYS[1], 's')
if not s then redis.call('ZREM', KEYS[2], ARGV[3]) return false end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if s == ARGV[1] then return {s} end
return {s, redis.call('HGET', KEYS[1], 'b')}
"""
_PUT = """
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'b', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[4])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', ARGV[6] .. m)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
redis.call('PEXPIRE', KEYS[2], ttl)
"""
_KEYS = """
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. m) == 1 then table.insert(out, m)
  else redis.call('ZREM', KEYS[1], m) end
end
return out
"""


def random_key() -> str:
    """A new secret key (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class Sealer:
    """AES-GCM with a key derived from a secret; ``seal``/``unseal`` bytes bound to a name."""

    def __init__(self, secret: str | bytes) -> None:
        material = secret.encode() if isinstance(secret, str) else secret
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"svrp session store v1").derive(material)
        self._aead = AESGCM(key)

    def seal(self, data: bytes, name: bytes) -> bytes:
        """Version byte, 12-byte random nonce, ciphertext and tag."""
        nonce = os.urandom(12)
        return VERSION + nonce + self._aead.encrypt(nonce, data, name)

    def unseal(self, blob: bytes, name: bytes) -> bytes:
        """The plaintext (raises :class:`cryptography.exceptions.InvalidTag` if tampered)."""
        if blob[:1] != VERSION:
            raise InvalidTag
        return self._aead.decrypt(blob[1:13], blob[13:], name)


def sealed_serializer(sealer: Sealer) -> type:
    """RQ's serializer for the job queue: pickled and sealed, like the store's values.

    A class (RQ records a serializer by its qualified name) bound to ``sealer``.
    """

    def dumps(obj: Any) -> bytes:
        return sealer.seal(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL), b"rq")

    def loads(data: bytes) -> Any:
        return pickle.loads(sealer.unseal(data, b"rq"))  # noqa: S301 - sealed by us (tag checked)

    return type("SealedSerializer", (), {"dumps": staticmethod(dumps),
                                         "loads": staticmethod(loads)})


class RedisStore(Store):
    """Tables in Redis, values sealed (see the module docstring).

    Parameters
    ----------
    client : redis.Redis
        A connection pool (redis-py reconnects after a fork and after Redis restarts).
    sealer : Sealer
        Seals values before they are sent.
    ttl : float
        Seconds an entry lives after its last use.
    prefix : str
        Namespace of every key (tests use their own).
    """

    def __init__(self, client: redis.Redis, sealer: Sealer, ttl: float,
                 prefix: str = PREFIX) -> None:
        self.client, self.sealer, self.ttl, self.prefix = client, sealer, float(ttl), prefix
        self.url = ""
        self.warnings: list[str] = []
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)
        self._list = client.register_script(_KEYS)
        self._memo: OrderedDict[tuple[str, str], tuple[bytes, Any]] = OrderedDict()
        self._memo_lock = threading.Lock()
        self._down = False
        self._clock = f"{prefix}~clock"  # orders uses: a counter, no ties, no clock skew
        self.serializer = sealed_serializer(sealer)

    def _name(self, table: str, key: str) -> str:
        return f"{self.prefix}{table}:{key}"

    def _lru(self, table: str) -> str:
        return f"{self.prefix}~lru:{table}"

    @contextlib.contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            if not self._down:  # one line in the log per outage, not one per callback
                LOG.error("session store: %s failed: %s: %s", what, type(exc).__name__, exc)
            self._down = True
            raise SharedStateError(DOWN) from None
        if self._down:
            LOG.warning("session store: Redis answers again")
            self._down = False

    def _open(self, name: str, blob: bytes) -> Any:
        try:
            plain = self.sealer.unseal(blob, name.encode())
        except InvalidTag:
            LOG.error("session store: %s was sealed with another key (is SVRP_SECRET_KEY the "
                      "same on every host?); treated as missing", name)
            return None
        return pickle.loads(plain)  # noqa: S301 - sealed by this app (tag checked above)

    def get(self, table: str, key) -> Any:
        """The value under ``key`` (its expiry renewed), or None."""
        if not isinstance(key, str):
            return None
        name, memo_key = self._name(table, key), (table, key)
        with self._memo_lock:
            known = self._memo.get(memo_key)
        with self._calling("get"):
            found = self._get(keys=[name, self._lru(table), self._clock],
                              args=[known[0] if known else b"", int(self.ttl * 1000), key])
        with self._memo_lock:
            if not found:
                self._memo.pop(memo_key, None)
                return None
            if len(found) == 1 and known is not None and found[0] == known[0]:
                self._memo.move_to_end(memo_key)
                return known[1]
        value = self._open(name, found[1])
        if value is not None:
            self._remember(memo_key, found[0], value)
        return value

    def _remember(self, memo_key, stamp: bytes, value) -> None:
        with self._memo_lock:
            self._memo[memo_key] = (stamp, value)
            self._memo.move_to_end(memo_key)
            while len(self._memo) > MEMO:
                self._memo.popitem(last=False)

    def has(self, table: str, key) -> bool:
        """Whether ``key`` is held (its recency is not changed)."""
        if not isinstance(key, str):
            return False
        with self._calling("has"):
            return bool(self.client.exists(self._name(table, key)))

    def put(self, table: str, key: str, value, bound: int) -> None:
        """Seal and store ``value`` in a table of ``bound`` entries."""
        name = self._name(table, key)
        stamp = secrets.token_hex(8).encode()
        blob = self.sealer.seal(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), name.encode())
        with self._calling("put"):
            self._put(keys=[name, self._lru(table), self._clock],
                      args=[stamp, blob, int(self.ttl * 1000), key, max(1, int(bound)),
                            f"{self.prefix}{table}:"])
        self._remember((table, key), stamp, value)

    def pop(self, table: str, key) -> None:
        """Forget ``key``."""
        if not isinstance(key, str):
            return
        with self._calling("pop"):
            pipe = self.client.pipeline()
            pipe.delete(self._name(table, key))
            pipe.zrem(self._lru(table), key)
            pipe.execute()
        with self._memo_lock:
            self._memo.pop((table, key), None)

    def _keys(self, table: str) -> list[str]:
        """The table's live keys, least recently used first (expired ones dropped)."""
        keys = self._list(keys=[self._lru(table)], args=[f"{self.prefix}{table}:"])
        return [k.decode() for k in keys]

    def values(self, table: str) -> list:
        """Every value of a table, least recently used first."""
        with self._calling("values"):
            keys = self._keys(table)
            pipe = self.client.pipeline()
            for key in keys:
                pipe.hget(self._name(table, key), "b")
            blobs = pipe.execute()
        out = []
        for key, blob in zip(keys, blobs, strict=True):
            if blob is not None:
                value = self._open(self._name(table, key), blob)
                if value is not None:
                    out.append(value)
        return out

    def count(self, table: str) -> int:
        """Entries in a table."""
        with self._calling("count"):
            return len(self._keys(table))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the one lock shared by every worker and host (``SET NX PX``, leased)."""
        lock = self.client.lock(f"{self.prefix}lock", timeout=LEASE_S,
                                blocking_timeout=LOCK_TIMEOUT_S, thread_local=False)
        with self._calling("lock"):
            got = lock.acquire()
        if not got:
            LOG.error("session store: lock not free after %.0f s", LOCK_TIMEOUT_S)
            raise SharedStateError(DOWN)
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):
                lock.release()

    def worker_client(self) -> redis.Redis:
        """A client for an RQ worker: its blocking dequeue waits longer than a call's timeout."""
        pool = self.client.connection_pool
        kwargs = {**pool.connection_kwargs, "socket_timeout": 60}
        return redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class, **kwargs))

    def describe(self) -> str:
        """One line for the start-up message (no password)."""
        return f"on Redis at {redact(self.url)}, values sealed (AES-GCM)"


def redact(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def server_checks(client: redis.Redis) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` about the server's memory bound and persistence (CONFIG GET)."""
    try:
        config = {}
        for name in ("maxmemory", "maxmemory-policy", "save", "appendonly"):
            config.update(client.config_get(name))
    except redis.ResponseError as exc:
        return [], [f"could not read the Redis configuration ({exc}): make sure it has "
                    "maxmemory with an LRU policy and no persistence"]
    errors, warnings = [], []
    policy = config.get("maxmemory-policy", "")
    if int(config.get("maxmemory", "0") or 0) == 0 or policy not in LRU_POLICIES:
        errors.append(
            f"the Redis server has maxmemory {config.get('maxmemory')} and policy {policy}, "
            "so session state could fill its memory: set maxmemory (e.g. 256mb) and "
            "maxmemory-policy allkeys-lru")
    if config.get("save") or config.get("appendonly") == "yes":
        warnings.append(
            f"Redis persistence is on (save '{config.get('save')}', appendonly "
            f"{config.get('appendonly')}): what it writes is sealed, but consider --save '' "
            "--appendonly no")
    return errors, warnings


def connect(url: str, secret: str, ttl: float, prefix: str = PREFIX) -> RedisStore:
    """A checked :class:`RedisStore`; warnings printed on one line each.

    Raises
    ------
    ProfilerError
        Redis cannot be reached, or has no memory bound.
    """
    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                      health_check_interval=15)
        client.ping()
        errors, warnings = server_checks(client)
    except (redis.RedisError, ValueError) as exc:
        raise ProfilerError(
            f"SVRP_REDIS_URL={redact(url)}: cannot use Redis ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); start redis-server or fix the "
            "URL") from None
    if errors:
        raise ProfilerError(f"SVRP_REDIS_URL={redact(url)}: {errors[0]}")
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr, flush=True)
    store = RedisStore(client, Sealer(secret), ttl, prefix)
    store.url, store.warnings = url, warnings
    return store


if __name__ == "__main__":
    if sys.argv[1:] != ["key"]:
        sys.exit("usage: python -m dashboard.redis_store key")
    print(random_key())
