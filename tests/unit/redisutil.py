"""A throwaway redis-server for tests: a Unix socket (or a loopback port) in a temp folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
needs_redis = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="needs Debian's redis-server: 'sudo apt-get install redis-server' (make test "
           "installs it when run as root)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProc:
    """``redis-server`` with persistence off and maxmemory + allkeys-lru, in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None, *extra: str):
        self.folder, self.port, self.extra = Path(folder), port, extra
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sock = self.folder / "redis.sock"
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if self.port else f"unix://{self.sock}"

    def start(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.port or 0), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru",
                "--loglevel", "warning", *self.extra]
        if not self.port:
            args += ["--unixsocket", str(self.sock), "--unixsocketperm", "700"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.time() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert self.proc.poll() is None, "redis-server exited"
                assert time.time() < deadline, "redis-server did not answer"
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()
