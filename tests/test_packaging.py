"""A non-editable `pip install .` into a new virtual environment serves pages."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.served import ServedApp

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    source = tmp_path_factory.mktemp("src") / "campaigns"
    # Copy the tracked files only, as a clean clone would have them.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.split(b"\0")
    for name in filter(None, files):
        target = source / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name.decode()).read_bytes())
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)], check=True,
                   timeout=600)
    return venv


def test_the_installed_package_carries_templates_static_files_and_migrations(installed):
    site = next((installed / "lib").glob("python3*/site-packages/campaigns"))
    assert (site / "templates" / "base.html").exists()
    assert (site / "static" / "vendor" / "htmx.min.js").exists()
    assert list((site / "migrations" / "versions").glob("0001_*.py"))


def test_the_installed_console_script_migrates_and_serves_the_login_page(installed, tmp_path):
    help_text = subprocess.run([str(installed / "bin" / "campaigns"), "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "users" in help_text
    served = ServedApp(str(installed / "bin" / "campaigns"), tmp_path / "instance")
    try:
        served.start()
        status, html, _ = served.get("/setup")
        assert status == 200 and "Create the owner account" in html
        assert served.get("/static/app.css")[0] == 200
    finally:
        served.stop()
