"""Conversation campaigns for your email list: the Flask application factory."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from campaigns import config

PACKAGE_DIR = Path(__file__).resolve().parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings in order, then each part's init_app. Wiring only."""
    instance_path = _instance_path(test_config)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True,
                template_folder=str(_templates_dir()), static_folder="static")
    app.config.update(config.load_settings(instance_path, test_config))
    _derive_settings(app)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from campaigns import api, cli, db, jobs, security, web
    from campaigns.values import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    db.init_app(app)
    jobs.init_app(app)
    security.init_app(app)
    web.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app


def _instance_path(test_config: dict[str, Any] | None) -> Path:
    """Return the instance folder: the test mapping, CAMPAIGNS_INSTANCE_PATH, or ./instance."""
    chosen = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("CAMPAIGNS_INSTANCE_PATH")
    path = Path(chosen) if chosen else Path.cwd() / "instance"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _templates_dir() -> Path:
    """Return templates/: inside the package when installed, beside it in a checkout."""
    installed = PACKAGE_DIR / "templates"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "templates"


def _derive_settings(app: Flask) -> None:
    """Fill the settings that depend on others: database URL, secret key, cookie flags."""
    cfg = app.config
    cfg["INSTANCE_PATH"] = app.instance_path
    cfg["SQLALCHEMY_DATABASE_URI"] = database_uri(cfg["DATABASE_URL"], Path(app.instance_path))
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A worker process runs up to 8 threads (campaigns worker -t); each holds a
        # connection while it sends a batch, so the pool keeps that many open.
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10,
                                                     "max_overflow": 10})
    cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _instance_secret(Path(app.instance_path))
    secure = cfg["SESSION_COOKIE_SECURE"]
    if secure is None:
        secure = cfg["BASE_URL"].startswith("https://")
    cfg.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure,
               SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
               REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
               MAX_CONTENT_LENGTH=max(cfg["INBOUND_MAX_BYTES"], 64 * 1024 * 1024))


def database_uri(url: str, instance_path: Path) -> str:
    """Return the SQLAlchemy URI: SQLite in the instance folder, psycopg 3 for PostgreSQL."""
    if not url:
        return f"sqlite:///{instance_path / 'campaigns.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: Path) -> str:
    """Return the instance's generated secret key, creating it (mode 0600) on first use.

    Written to a temporary file and linked into place, so that a process starting at the same
    moment reads a whole key or none, never an empty file.
    """
    path = instance_path / "secret_key"
    if not path.exists():
        temporary = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # fails if another process linked its key first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; delete it or set "
                           "CAMPAIGNS_SECRET_KEY")
    return key
