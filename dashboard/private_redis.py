"""A private ``redis-server`` for ``make serve`` on one machine (several workers, no URL).

Started by wsgi.py in gunicorn's master, before the fork: Debian's ``redis-server`` listening
on a Unix socket only (``--port 0``) in a private (0700) temporary folder, persistence off
(``--save '' --appendonly no``), ``--maxmemory`` with ``allkeys-lru``. It is stopped when the
master exits (atexit), and dies with it if the master is killed (``PR_SET_PDEATHSIG``); the
folder is removed. Only the socket is on disk, never a value.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from profiler.errors import ProfilerError

MISSING = ("several workers share session state through Redis, and redis-server is not "
           "installed: run 'sudo apt-get install redis-server' (Debian), set SVRP_REDIS_URL, or "
           "set SVRP_WORKERS=1")


@dataclass
class PrivateRedis:
    """The running server as its owner knows it."""

    proc: subprocess.Popen
    folder: Path
    owner: int

    @property
    def url(self) -> str:
        """``unix://`` URL of its socket."""
        return f"unix://{self.folder / 'redis.sock'}"

    def stop(self) -> None:
        """Stop it and remove its folder (only in the process that started it)."""
        if os.getpid() != self.owner:
            return  # a forked gunicorn worker exiting: the server is the master's
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


_RUNNING: PrivateRedis | None = None


def _die_with_parent() -> None:  # in the child, before exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _find_binary() -> str | None:
    found = shutil.which("redis-server")
    return found or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def start(maxmemory: str = "256mb", binary: str | None = None) -> PrivateRedis:
    """Start (once per process) the private server and wait until it answers.

    Raises
    ------
    ProfilerError
        ``redis-server`` is missing or did not start (one line saying what to do).
    """
    global _RUNNING
    if _RUNNING is not None and _RUNNING.proc.poll() is None:
        return _RUNNING
    binary = binary or _find_binary()
    if binary is None:
        raise ProfilerError(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="svrp-redis-"))  # mode 0700
    sock = folder / "redis.sock"
    proc = subprocess.Popen(  # noqa: S603 - a fixed binary and our own arguments
        [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(folder),
         "--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru",
         "--daemonize", "no", "--loglevel", "warning", "--logfile", ""],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() or b"").decode(errors="replace").strip().splitlines()
            shutil.rmtree(folder, ignore_errors=True)
            why = err[-1] if err else f"exit status {proc.returncode}"
            raise ProfilerError(f"the private redis-server did not start ({why}); set "
                                "SVRP_REDIS_URL or SVRP_WORKERS=1")
        if sock.exists():
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(sock))
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
        time.sleep(0.05)
    else:
        proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
        raise ProfilerError("the private redis-server did not answer in 10 s; set "
                            "SVRP_REDIS_URL or SVRP_WORKERS=1")
    _RUNNING = PrivateRedis(proc, folder, os.getpid())
    atexit.register(_RUNNING.stop)
    return _RUNNING


def running() -> PrivateRedis | None:
    """The private server this process (or its parent, for a fork) started, or None."""
    return _RUNNING
