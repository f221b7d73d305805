"""Shared fixtures: an app on a migrated database, clients, a logged-in owner, a worker.

The database is SQLite by default; set CAMPAIGNS_TEST_DATABASE_URL (e.g. the PostgreSQL URL)
and CAMPAIGNS_TEST_BROKER_URL (redis://… or amqp://…) to run the same suite on real services.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from campaigns import create_app, jobs
from campaigns.db import db
from campaigns.mail.backends.memory import MemoryBackend
from tests.support.web import log_in

TEST_DATABASE_URL = os.environ.get("CAMPAIGNS_TEST_DATABASE_URL", "")
TEST_BROKER_URL = os.environ.get("CAMPAIGNS_TEST_BROKER_URL", "")

# Actor modules imported by test modules at collection time bind to the global broker of that
# moment: make it the test broker before any of them is imported.
dramatiq.set_broker(jobs.build_broker(TEST_BROKER_URL))
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "correct horse battery"


def _settings(instance: Path, database_url: str, **extra: object) -> dict:
    """Return the settings every test app starts from."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "BROKER_URL": TEST_BROKER_URL,
        "SECRET_KEY": "test-secret-key",
        "MAIL_URL": "memory://",
        "BASE_URL": "http://campaigns.test",
        "REPLY_DOMAIN": "reply.campaigns.test",
        "INPROCESS_WORKER": False,
        "WORKER_MODULES": ["workers.actors", "tests.support.actors"],
        **extra,
    }


def migrate_to_head(app: Flask) -> None:
    """Run the Alembic migrations (never create_all) on the app's database."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once by migrations; tests get a copy (SQLite) or a truncated DB."""
    instance = tmp_path_factory.mktemp("template")
    url = TEST_DATABASE_URL or f"sqlite:///{instance / 'template.sqlite3'}"
    app = create_app(_settings(instance, url))
    if TEST_DATABASE_URL:
        with app.app_context():
            _drop_everything()
    migrate_to_head(app)
    return url


def _drop_everything() -> None:
    """Empty a PostgreSQL test database so migrations start from nothing."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.engine.dispose()


def _quiet_worker() -> None:
    """Drop queued jobs and wait for running ones, so none outlives its test's database."""
    from workers import inprocess

    running = inprocess._running
    if running is not None:
        running.broker.flush_all()
        running.worker.join()


def _truncate_all() -> None:
    """Remove every row between PostgreSQL tests (much faster than re-migrating)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_settings() -> dict:
    """Extra settings a test module can override for its app."""
    return {}


@pytest.fixture
def app(migrated_database: str, tmp_path: Path, app_settings: dict) -> Iterator[Flask]:
    """An app on a freshly migrated, empty database and a private instance folder."""
    instance = tmp_path / "instance"
    instance.mkdir()
    url = migrated_database
    if url.startswith("sqlite:///"):
        shutil.copy(url.removeprefix("sqlite:///"), instance / "campaigns.sqlite3")
        url = f"sqlite:///{instance / 'campaigns.sqlite3'}"
    application = create_app(_settings(instance, url, **app_settings))
    MemoryBackend.clear()
    yield application
    _quiet_worker()
    with application.app_context():
        db.session.remove()
        if not url.startswith("sqlite"):
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """An active app context (for calling core functions directly)."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # noqa: ANN201
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def owner(app: Flask):  # noqa: ANN201
    """The owner account, created as first-run set-up would."""
    from campaigns.core import users
    from campaigns.models import Role

    with app.app_context():
        user = users.create_user(OWNER_EMAIL, OWNER_PASSWORD, role=Role.OWNER, name="Olive Owner")
        db.session.commit()
        db.session.expunge(user)
    return user


@pytest.fixture
def logged_in(client: FlaskClient, owner) -> FlaskClient:  # noqa: ANN001
    """A client logged in as the owner."""
    response = log_in(client, OWNER_EMAIL, OWNER_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def api_token(app: Flask, owner) -> str:  # noqa: ANN001
    """A bearer token of the owner."""
    from campaigns.core import users

    with app.app_context():
        token = users.issue_token(users.find_user(OWNER_EMAIL), "tests")
        db.session.commit()
    return token


@pytest.fixture
def api(client: FlaskClient, api_token: str):  # noqa: ANN201
    """Call the JSON API as the owner: api.get(path), api.post(path, json=...)."""

    class Api:
        def __getattr__(self, method: str):  # noqa: ANN204
            def call(path: str, **kwargs):  # noqa: ANN202
                headers = {"Authorization": f"Bearer {api_token}", **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)
            return call

    return Api()


@pytest.fixture
def worker(app: Flask):  # noqa: ANN201
    """The in-process Dramatiq worker bound to this app; call .drain() to run queued jobs."""
    from workers import inprocess

    jobs.get_broker(app).flush_all()  # jobs earlier tests left are not this test's
    running = inprocess.start(app, with_scheduler=False)
    running.broker.flush_all()
    yield running
    running.broker.flush_all()
    # Stopped after each test, so that no worker bound to this app runs later tests' jobs
    # (with Redis or PostgreSQL they would act on the next test's rows), and idle consumer
    # threads do not poll the broker (Redis maintenance uses the global `random`, which
    # Hypothesis forbids during other tests' strategies).
    inprocess.stop()
