"""The load test's requests are the ones the pages really send: each action passes in-process."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from benchmarks.load import Callbacks, Record, User, parse_args

ROOT = Path(__file__).resolve().parents[2]


class _Response:
    def __init__(self, resp):
        self.status_code = resp.status_code
        self.text = resp.get_data().decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


class _Session:
    """``requests.Session``'s get/post over a Flask test client."""

    def __init__(self, client):
        self.client = client

    def get(self, url, timeout=None, headers=None):
        return _Response(self.client.get(url, headers=headers or {}))

    def post(self, url, json=None, timeout=None):
        return _Response(self.client.post(url, json=json))


def test_srv020_every_load_action_is_accepted_by_the_app():
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    from app import create_app
    from dashboard.settings import Settings

    app = create_app(Settings(tiles_url="", data_dir=ROOT / "data"))
    client = app.server.test_client()
    from dashboard.state import current

    state = current()
    callbacks = Callbacks(client.get("/_dash-dependencies").get_json(), list(state.spec.ids))
    lsoas = sorted(state.county["lsoa21_code"])
    district = sorted(state.county[state.county["lad24_code"] == "E07000219"]["lsoa21_code"])
    record = Record()
    user = User("", callbacks, [i.weight for i in state.spec.indicators], lsoas, district,
                random.Random(1), record)  # noqa: S311 - a simulated user, not a secret
    user.http = _Session(client)
    for action in (user.page_overview, user.page_district, user.click, user.district_click,
                   user.weight_change, user.weight_change, user.export, user.export):
        action()  # raises Failure on any answer a page could not use
    assert record.requests >= 20 and not record.errors


@pytest.mark.parametrize("argv", [["--users", "0"], ["--users", "500"], ["--duration", "999"],
                                  ["--think", "5-1"], ["--think", "x"], ["--workers", "0"]])
def test_srv021_load_test_stays_bounded(argv, capsys):
    with pytest.raises(SystemExit) as done:
        parse_args(argv)
    assert done.value.code == 2
