"""A throwaway redis-server for tests (benchmarks.cluster's), and a skip mark without one."""

from __future__ import annotations

import pytest

from benchmarks.cluster import NGINX, REDIS_SERVER, free_port
from benchmarks.cluster import RedisServer as RedisProc

needs_redis = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="needs Debian's redis-server: 'sudo apt-get install redis-server' (make test "
           "installs it when run as root)")
needs_nginx = pytest.mark.skipif(
    REDIS_SERVER is None or NGINX is None,
    reason="needs Debian's redis-server and nginx: 'sudo apt-get install redis-server nginx' "
           "(make test installs them when run as root)")

__all__ = ["NGINX", "REDIS_SERVER", "RedisProc", "free_port", "needs_nginx", "needs_redis"]
