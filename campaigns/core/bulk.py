"""Insert many rows fast on SQLite and PostgreSQL, with an optional ON CONFLICT clause.

SQLite takes the rows as one executemany (sqlite3 loops in C). PostgreSQL takes one
``INSERT ... SELECT FROM json_to_recordset(:rows)`` per batch: one short statement and one
JSON text parameter, where executemany pays a pipeline round per row, a multi-VALUES statement
pays psycopg's parsing of a huge query text and unnest() arrays pay psycopg's escaping of every
element (measured on 100k rows: see bench/import_bench.py and docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, Text, any_, bindparam, cast, column, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from campaigns.db import db

OnConflict = Callable[[Any], Any]


def on_postgresql() -> bool:
    """Tell whether the session's database is PostgreSQL."""
    return db.session.get_bind().dialect.name == "postgresql"


def dialect_insert(table: Table) -> Any:
    """Return an INSERT of this database's dialect (it has on_conflict_do_*)."""
    return (postgresql.insert if on_postgresql() else sqlite.insert)(table)


def insert_many(table: Table, rows: Sequence[dict[str, Any]],
                on_conflict: OnConflict | None = None) -> None:
    """Insert rows (all with the same keys) in one statement; on_conflict adds ON CONFLICT."""
    if not rows:
        return
    if on_postgresql():
        stmt = _recordset_insert(table, rows)
    else:
        stmt, params = dialect_insert(table), list(rows)
        stmt = on_conflict(stmt) if on_conflict else stmt
        db.session.execute(stmt, params)
        return
    db.session.execute(on_conflict(stmt) if on_conflict else stmt)


def _recordset_insert(table: Table, rows: Sequence[dict[str, Any]]) -> Any:
    """Return INSERT INTO table (cols) SELECT cols FROM json_to_recordset(:rows) AS src(...)."""
    names = list(rows[0])
    document = json.dumps(rows, default=_json_value, separators=(",", ":"))
    source = func.json_to_recordset(cast(bindparam("rows", document, type_=Text), JSON)) \
        .table_valued(*[column(n, table.c[n].type) for n in names]) \
        .render_derived(name="src", with_types=True)
    return postgresql.insert(table).from_select(names, select(*[source.c[n] for n in names]))


def _json_value(value: Any) -> str:
    """Serialise what json cannot: timestamps (PostgreSQL reads ISO 8601 back)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk insert")


def in_values(column: Any, values: Sequence[Any]) -> Any:
    """Return ``column IN (values)``; ``= ANY(:array)`` on PostgreSQL, one parameter not N."""
    if on_postgresql():
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def upsert_columns(conflict_columns: Sequence[str], update: Sequence[str]) -> OnConflict:
    """Return an ON CONFLICT (cols) DO UPDATE SET col = excluded.col clause builder."""
    def clause(stmt: Any) -> Any:
        return stmt.on_conflict_do_update(index_elements=list(conflict_columns),
                                          set_={n: stmt.excluded[n] for n in update})
    return clause


def ignore_conflicts(stmt: Any) -> Any:
    """ON CONFLICT DO NOTHING."""
    return stmt.on_conflict_do_nothing()
