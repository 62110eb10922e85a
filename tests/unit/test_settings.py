"""Settings: strict parsing from the environment, cross-checks, and every setting documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from dashboard.settings import Settings
from profiler.errors import ProfilerError

ROOT = Path(__file__).resolve().parents[2]
HASH = "pbkdf2:sha256:1000$salt$" + "0" * 64
BASIC = {"SVRP_AUTH": "basic", "SVRP_AUTH_USER": "csp", "SVRP_AUTH_PASSWORD": "pw"}


def test_srv001_defaults_are_safe():
    s = Settings.from_env({})
    assert (s.host, s.port, s.debug, s.env) == ("127.0.0.1", 8050, False, "development")
    assert s.workers == 2
    assert s.auth == "none" and s.csp is True


def test_srv002_values_are_parsed():
    s = Settings.from_env({
        "SVRP_HOST": "10.0.0.5", "SVRP_PORT": "8000", "SVRP_DEBUG": "true", "SVRP_WORKERS": "4",
        "SVRP_TILES_URL": "https://{s}.tiles.example.org/{z}/{y}/{x}.png", "SVRP_CSP": "false",
        "SVRP_DATA_DIR": "/srv/svrp/data", "SVRP_ENV": "development", "SVRP_AUTH": "proxy",
        "SVRP_AUTH_HEADER": "X-Auth-Request-Email",
    })
    assert (s.host, s.port, s.debug, s.workers, s.csp) == ("10.0.0.5", 8000, True, 4, False)
    assert s.data_dir == Path("/srv/svrp/data") and s.auth_header == "X-Auth-Request-Email"
    assert Settings.from_env({"SVRP_HOST": "dash.example.org"}).host == "dash.example.org"
    assert Settings.from_env({"SVRP_HOST": "::1"}).host == "::1"
    assert Settings.from_env({"SVRP_TILES_URL": ""}).tiles_url == ""


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SVRP_DEBUG": "True"}, "SVRP_DEBUG='True': use true or false"),
        ({"SVRP_DEBUG": "1"}, "SVRP_DEBUG='1': use true or false"),
        ({"SVRP_CSP": "yes"}, "SVRP_CSP='yes': use true or false"),
        ({"SVRP_PORT": "0"}, "SVRP_PORT='0': use a whole number from 1 to 65535"),
        ({"SVRP_PORT": "65536"}, "SVRP_PORT='65536': use a whole number from 1 to 65535"),
        ({"SVRP_PORT": "80a"}, "SVRP_PORT='80a': use a whole number from 1 to 65535"),
        ({"SVRP_PORT": "-1"}, "SVRP_PORT='-1': use a whole number from 1 to 65535"),
        ({"SVRP_PORT": "８０"}, "SVRP_PORT='８０': use a whole number from 1 to 65535"),
        ({"SVRP_WORKERS": "0"}, "SVRP_WORKERS='0': use a whole number from 1 to 32"),
        ({"SVRP_WORKERS": "two"}, "SVRP_WORKERS='two': use a whole number from 1 to 32"),
        ({"SVRP_HOST": "my host"}, "SVRP_HOST='my host': use an IP address or a host name"),
        ({"SVRP_HOST": ""}, "SVRP_HOST='': use an IP address or a host name"),
        ({"SVRP_HOST": "http://x"}, "SVRP_HOST='http://x': use an IP address or a host name"),
        ({"SVRP_ENV": "prod"}, "SVRP_ENV='prod': use one of development, production"),
        ({"SVRP_AUTH": "oidc"}, "SVRP_AUTH='oidc': use one of none, basic, proxy"),
        ({"SVRP_ENV": "production", "SVRP_DEBUG": "true"},
         "SVRP_DEBUG=true: debug mode is refused with SVRP_ENV=production"),
        ({"SVRP_TILES_URL": "tile.example.org"}, "SVRP_TILES_URL='tile.example.org': use"),
        ({"SVRP_TILES_URL": "https://t.example.org/{z}/{x}.png"}, "SVRP_TILES_URL="),
        ({"SVRP_TILES_URL": "javascript:alert(1)//{z}{x}{y}"}, "SVRP_TILES_URL="),
        ({"SVRP_TILES_URL": "//t.example.org/{z}/{x}/{y}.png"}, "SVRP_TILES_URL="),
        ({"SVRP_AUTH": "basic"}, "SVRP_AUTH=basic needs SVRP_AUTH_USER"),
        ({"SVRP_AUTH": "basic", "SVRP_AUTH_USER": "u"},
         "needs exactly one of SVRP_AUTH_PASSWORD_HASH and SVRP_AUTH_PASSWORD (got neither)"),
        ({**BASIC, "SVRP_AUTH_PASSWORD_HASH": HASH}, "(got both)"),
        ({**BASIC, "SVRP_AUTH_USER": "a:b"}, "SVRP_AUTH_USER='a:b': HTTP Basic user names"),
        ({"SVRP_AUTH": "basic", "SVRP_AUTH_USER": "u", "SVRP_AUTH_PASSWORD_HASH": "secret"},
         "SVRP_AUTH_PASSWORD_HASH: not a werkzeug password hash"),
        ({"SVRP_AUTH_PASSWORD": "pw"},
         "SVRP_AUTH_PASSWORD is set but SVRP_AUTH='none': set SVRP_AUTH=basic or unset"),
        ({"SVRP_AUTH": "proxy", "SVRP_AUTH_USER": "u"}, "SVRP_AUTH_USER is set but SVRP_AUTH="),
        ({"SVRP_AUTH": "proxy", "SVRP_AUTH_HEADER": "X User"},
         "SVRP_AUTH_HEADER='X User': use a header name"),
    ],
)
def test_srv003_bad_values_are_one_line_errors(env, message):
    with pytest.raises(ProfilerError) as err:
        Settings.from_env(env)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_srv004_secrets_stay_out_of_the_repr():
    s = Settings.from_env({**BASIC, "SVRP_AUTH_PASSWORD": "hunter2-secret"})
    assert "hunter2-secret" not in repr(s)
    h = Settings.from_env({"SVRP_AUTH": "basic", "SVRP_AUTH_USER": "u",
                           "SVRP_AUTH_PASSWORD_HASH": HASH})
    assert HASH not in repr(h)


def test_srv005_every_setting_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `(SVRP_[A-Z_]+)` \|", readme, flags=re.M))
    for name, text in Settings.help().items():
        assert text, name
        assert name in table, f"{name} is missing from the README settings table"
    assert set(Settings.HELP) == {f.name for f in fields(Settings)}


def test_srv006_production_without_debug_starts(tmp_path):
    s = Settings.from_env({"SVRP_ENV": "production", "SVRP_DEBUG": "false"})
    assert s.env == "production" and not s.debug
