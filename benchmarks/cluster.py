"""Several app instances on one Redis behind nginx, on loopback: for tests and `make load`.

Everything lives in one temporary folder: Redis's working dir (``redis/``), nginx's prefix
(``nginx/``, a generated config, ``-g 'daemon off;'``) and the apps' ``TMPDIR`` (``tmp/``), so a
test can search all of it for partner data afterwards. Redis listens on a free loopback port
with persistence off and maxmemory + allkeys-lru; each instance is ``serve.py`` (gunicorn,
``workers`` processes) on its own free port, in its own process group, with the same
``SVRP_REDIS_URL`` and ``SVRP_SECRET_KEY``; nginx balances them (round robin, passive health
checks ``max_fails``/``fail_timeout``) and names the instance that answered in an
``X-Upstream`` response header.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

HOST = "127.0.0.1"
REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

NGINX_CONF = """\
worker_processes 1;
{user}
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream svrp {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {host}:{port};
        client_max_body_size 70m;
        location / {{
            proxy_pass http://svrp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # partner uploads and what is sent back never go to nginx's temp files
            proxy_request_buffering off;
            client_body_buffer_size 1m;
            proxy_max_temp_file_size 0;
            # not http_503: /healthz says Redis is down, not that the host is
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class RedisServer:
    """``redis-server`` on a loopback port (or a Unix socket), persistence off, in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None, *extra: str,
                 maxmemory: str = "256mb"):
        self.folder, self.port, self.extra, self.maxmemory = Path(folder), port, extra, maxmemory
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sock = self.folder / "redis.sock"
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0" if self.port else f"unix://{self.sock}"

    def start(self) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        args = [REDIS_SERVER, "--port", str(self.port or 0), "--bind", HOST,
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                "--maxmemory", self.maxmemory, "--maxmemory-policy", "allkeys-lru",
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
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not answer in 10 s") from None
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()


class Instance:
    """One ``serve.py`` (gunicorn master and workers) in its own process group."""

    def __init__(self, port: int, env: dict, log: Path):
        self.port, self.log_path = port, log
        self.url = f"http://{HOST}:{port}"
        self.log = open(log, "w+")  # noqa: SIM115 - closed in stop()
        root = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen([env["PYTHON"], "serve.py"], cwd=root, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole instance: master and workers, no clean-up."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


class Cluster:
    """Redis, ``instances`` app instances and nginx in front, all on loopback; a context manager.

    Parameters
    ----------
    instances, workers : int
        App instances behind nginx, and gunicorn workers in each.
    folder : Path, optional
        Where everything lives (a new temporary folder by default, removed on exit unless given).
    """

    def __init__(self, instances: int = 2, workers: int = 2, folder: Path | None = None,
                 python: str | None = None, max_fails: int = 1, fail_timeout_s: int = 10):
        import sys

        from dashboard.redis_store import random_key

        if NGINX is None or REDIS_SERVER is None:
            raise RuntimeError("needs Debian's redis-server and nginx: apt-get install "
                               "redis-server nginx")
        self.own_folder = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="svrp-cluster-"))
        self.tmp = self.folder / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(self.folder / "redis", free_port())
        self.secret = random_key()
        self.instances: list[Instance] = []
        base = {k: v for k, v in os.environ.items() if not k.startswith("SVRP_")}
        base.update({"SVRP_HOST": HOST, "SVRP_WORKERS": str(workers), "SVRP_TILES_URL": "",
                     "SVRP_ENV": "production", "SVRP_REDIS_URL": self.redis.url,
                     "SVRP_SECRET_KEY": self.secret, "DASH_DISABLE_VERSION_CHECK": "true",
                     "TMPDIR": str(self.tmp), "PYTHON": python or sys.executable})
        for i in range(instances):
            port = free_port()
            self.instances.append(Instance(port, {**base, "SVRP_PORT": str(port)},
                                           self.folder / f"app{i}.log"))
        self.nginx_port = free_port()
        self.url = f"http://{HOST}:{self.nginx_port}"
        prefix = self.folder / "nginx"
        prefix.mkdir(exist_ok=True)
        servers = "\n".join(f"        server {HOST}:{inst.port} max_fails={max_fails} "
                            f"fail_timeout={fail_timeout_s}s;" for inst in self.instances)
        user = "user root;" if os.geteuid() == 0 else ""  # its worker reads this private folder
        (prefix / "nginx.conf").write_text(NGINX_CONF.format(
            prefix=prefix, servers=servers, host=HOST, port=self.nginx_port, user=user))
        self.nginx_prefix = prefix
        self.nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(prefix / "stderr.log", "w"),  # noqa: SIM115
            start_new_session=True)

    def __enter__(self):
        try:
            deadline = time.time() + 300  # two instances load the data at once on 2 cores
            for inst in self.instances:
                while True:
                    if not inst.alive():
                        raise RuntimeError(f"serve.py exited early:\n{inst.output()[-3000:]}")
                    if time.time() > deadline:
                        raise RuntimeError(f"serve.py did not answer:\n{inst.output()[-3000:]}")
                    try:
                        if requests.get(inst.url + "/healthz", timeout=2).status_code == 200:
                            break
                    except requests.RequestException:
                        pass
                    time.sleep(0.5)
            if self.nginx.poll() is not None:
                raise RuntimeError("nginx exited: "
                                   + (self.nginx_prefix / "stderr.log").read_text())
            requests.get(self.url + "/healthz", timeout=5).raise_for_status()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def upstream(self, resp) -> int | None:
        """Which instance (index) answered a response through nginx, from ``X-Upstream``."""
        last = (resp.headers.get("X-Upstream") or "").split(",")[-1].strip()
        for i, inst in enumerate(self.instances):
            if last == f"{HOST}:{inst.port}":
                return i
        return None

    def memory_mb(self) -> float | None:
        """PSS of every instance's master and workers, MB."""
        total = 0
        try:
            for inst in self.instances:
                if not inst.alive():
                    continue
                pids = [inst.proc.pid]
                for task in Path(f"/proc/{inst.proc.pid}/task").iterdir():
                    pids += [int(p) for p in (task / "children").read_text().split()]
                for pid in pids:
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
        except OSError:
            return None
        return total / 1024

    def stop(self) -> None:
        if self.nginx.poll() is None:
            os.killpg(self.nginx.pid, signal.SIGTERM)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.nginx.pid, signal.SIGKILL)
        for inst in self.instances:
            inst.stop()
        self.redis.kill()
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
