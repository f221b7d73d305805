"""One-process mode as `make run` starts it: SQLite, in-process worker, nothing else."""

import sys
from pathlib import Path

import pytest

from tests.support.served import ServedApp

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    app = ServedApp(str(Path(sys.executable).parent / "campaigns"), tmp_path / "instance")
    yield app
    app.stop()


def test_a_fresh_instance_serves_setup_and_keeps_the_owner_across_a_restart(served):
    served.start()
    status, _, headers = served.get("/")
    assert (status, headers["Location"]) == (302, "/setup")
    status, _, _ = served.post_form("/setup", {"name": "Ann", "email": "ann@example.com",
                                               "password": "long enough pw",
                                               "confirm": "long enough pw"}, "/setup")
    assert status == 302
    status, html, _ = served.get("/")
    assert status == 200 and "No conversations yet" in html
    output = served.stop()
    assert "One-process mode" in output

    served.start()
    assert served.get("/")[0] == 200  # the session cookie and the account survived
    assert (served.instance / "campaigns.sqlite3").exists()
