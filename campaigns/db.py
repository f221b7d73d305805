"""The SQLAlchemy handle, its engine tuning and the migration commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_sqlite() -> bool:
    """Tell whether the current engine is SQLite (some statements differ)."""
    return db.engine.dialect.name == "sqlite"


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record) -> None:
    """Enable foreign keys, WAL and a busy timeout on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave search indexes to their hand-written migration (FTS5 tables, pg_trgm indexes)."""
    if type_ == "table" and name and "_fts" in name:
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))


@event.listens_for(Engine, "connect")
def _plan_with_the_values(dbapi_connection, connection_record) -> None:
    """Turn off psycopg's automatic server-side prepared statements (PostgreSQL).

    After five runs of a statement PostgreSQL may keep a generic plan for the connection's
    life. One made while a table was small (a campaign's ledger, first batch) stays a full
    scan as the table grows: sending 100k emails then read ~25M rows. Planned each time
    with its values, every statement of the send path uses its index.
    """
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.prepare_threshold = None


def init_app(app: Flask) -> None:
    """Bind the database and Alembic (migrations live inside the package) to the app."""
    from campaigns import models  # noqa: F401 - registers every table on the metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True, compare_type=True,
                     include_object=include_in_migrations)


def one_of(column: Any, values: Iterable[Any], item_type: Any) -> Any:
    """SQL "column is one of values": one array parameter on PostgreSQL, IN elsewhere.

    An IN list of hundreds of values is a new statement text for every length, expanded by
    SQLAlchemy and parsed again by psycopg each time; ``= ANY(%s)`` is one parameter.
    """
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(item_type)))
    return column.in_(values)
