import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory):
    """One throwaway redis-server for the session (tests use their own key prefixes)."""
    from redisutil import REDIS_SERVER, RedisProc

    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server: 'sudo apt-get install redis-server' "
                    "(make test installs it when run as root)")
    proc = RedisProc(tmp_path_factory.mktemp("redis"))
    yield proc
    proc.kill()
