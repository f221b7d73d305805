"""Subscriber import benchmark: a generated 100k-row LinkedIn-shaped file through the batched
importer, beside a naive one-ORM-INSERT-per-row import measured in the same run; then the
list page at that size (keyset paging beside OFFSET).

    .venv/bin/python bench/import_bench.py [--rows 100000] [--baseline-rows 5000]

Runs on SQLite in a temporary folder and, when PostgreSQL answers at
CAMPAIGNS_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres), in a
temporary database created and dropped for the run.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from email_validator import EmailNotValidError, validate_email  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from campaigns import create_app  # noqa: E402
from campaigns.db import db  # noqa: E402

PG_ADMIN_URL = os.environ.get("CAMPAIGNS_BENCH_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
NOTES = ('Notes:\n"When exporting your connection data, you may notice that some of the email '
         'addresses are missing."\n\n')
HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
          "Connected On"]


def generate(rows: int, seed: int = 7) -> bytes:
    """Return a LinkedIn-shaped CSV: ~4% without email, ~1% duplicates, ~0.5% invalid."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write(NOTES)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(rows):
        roll = rng.random()
        if roll < 0.04:
            email = ""
        elif roll < 0.05:
            earlier = rng.randrange(max(i, 1))
            email = f"person{earlier}@example{earlier % 300}.com"  # a duplicate, any case
        elif roll < 0.055:
            email = f"person{i}@@broken"
        else:
            email = f"Person{i}@Example{i % 300}.com"
        writer.writerow([f"First{i}", f"Last{i % 5000}", f"https://www.linkedin.com/in/p{i}",
                         email, f"Company {i % 1000}", rng.choice(["CTO", "Founder", "PM"]),
                         f"{1 + i % 28:02d} Mar 2024"])
    return out.getvalue().encode()


@contextmanager
def database(kind: str):
    """Yield a migrated app on a fresh SQLite file or a fresh PostgreSQL database."""
    from flask_migrate import upgrade

    instance = tempfile.mkdtemp(prefix="bench-import-")
    name = f"campaigns_bench_{uuid.uuid4().hex[:8]}"
    url = "" if kind == "sqlite" else PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    if kind == "postgresql":
        _admin(f'CREATE DATABASE "{name}"')
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "SECRET_KEY": "bench",
                      "INPROCESS_WORKER": False, "IMPORT_INLINE_ROWS": 10**9,
                      "LOG_LEVEL": "WARNING"})
    try:
        with app.app_context():
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if kind == "postgresql":
            _admin(f'DROP DATABASE IF EXISTS "{name}"')


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def postgres_reachable() -> bool:
    try:
        _admin("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return False
    return True


def batched_import(data: bytes) -> tuple[float, dict]:
    """Import through campaigns.core.imports (what the UI, API, CLI and worker run)."""
    from campaigns.core import imports

    start = time.perf_counter()
    imp = imports.create_import(data, "Connections.csv", tags=["bench"])
    imports.start_import(imp)
    db.session.commit()
    return time.perf_counter() - start, imports.public_report(imp)


def naive_import(data: bytes, rows: int) -> float:
    """The baseline: read, validate, look up and INSERT one row at a time through the ORM."""
    from campaigns.models import Subscriber

    text = data.decode().split("\n\n", 1)[1]
    start = time.perf_counter()
    for n, row in enumerate(csv.DictReader(io.StringIO(text))):
        if n == rows:
            break
        try:
            email = validate_email(row["Email Address"], check_deliverability=False) \
                .normalized.lower()
        except EmailNotValidError:
            continue
        found = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        if found is None:
            db.session.add(Subscriber(email=email, first_name=row["First Name"],
                                      last_name=row["Last Name"], company=row["Company"],
                                      fields={"position": row["Position"]}))
            db.session.flush()  # one INSERT per row
    db.session.commit()
    return time.perf_counter() - start


def list_timings() -> dict[str, float]:
    """Time the list page's queries at this size: keyset beside OFFSET, count, search."""
    from campaigns.core import subscriber_list
    from campaigns.core.subscriber_list import ListFilter
    from campaigns.models import Subscriber

    total = db.session.scalar(select(func.count(Subscriber.id)))
    deep = db.session.scalar(select(Subscriber).order_by(Subscriber.created_at.desc(),
                                                         Subscriber.id.desc())
                             .offset(total - 100).limit(1))
    cursor = subscriber_list._cursor(deep, subscriber_list.SORTS["newest"][1])
    offset_query = select(Subscriber).order_by(Subscriber.created_at.desc(),
                                               Subscriber.id.desc()).offset(total - 100).limit(50)
    return {
        "first page": _ms(lambda: subscriber_list.page(ListFilter(), "newest")),
        f"page after row {total - 100:,} (keyset)": _ms(
            lambda: subscriber_list.page(ListFilter(), "newest", after=cursor)),
        f"same page with OFFSET {total - 100:,}": _ms(
            lambda: list(db.session.scalars(offset_query))),
        "page sorted by name": _ms(lambda: subscriber_list.page(ListFilter(), "name")),
        "count": _ms(lambda: subscriber_list.count(ListFilter())),
        "search 'person4242'": _ms(lambda: subscriber_list.page(ListFilter(q="person4242"))),
    }


def _ms(action, repeat: int = 5) -> float:
    """Return the best of a few runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        db.session.rollback()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run(kind: str, data: bytes, rows: int, baseline_rows: int) -> None:
    """Benchmark one database and print the figures."""
    print(f"\n== {kind}")
    with database(kind) as _:
        seconds, report = batched_import(data)
        print(f"batched import, {rows:,} rows: {seconds:6.2f} s = {rows / seconds:9,.0f} rows/s"
              f"  (created {report['created']:,}, merged {report['merged']:,}, "
              f"skipped {report['skipped']:,})")
        again, report = batched_import(data)
        print(f"same file again (all unchanged): {again:6.2f} s = {rows / again:9,.0f} rows/s"
              f"  (unchanged {report['unchanged']:,})")
        for name, ms in list_timings().items():
            print(f"  list at {report['unchanged']:,} people, {name}: {ms:7.1f} ms")
    with database(kind) as _:
        naive = naive_import(data, baseline_rows)
        print(f"baseline, one ORM INSERT per row, first {baseline_rows:,} rows: {naive:6.2f} s"
              f" = {baseline_rows / naive:9,.0f} rows/s")
    print(f"speed-up: {(rows / seconds) / (baseline_rows / naive):.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    args = parser.parse_args()
    data = generate(args.rows)
    print(f"Generated a LinkedIn-shaped CSV: {args.rows:,} rows, {len(data) / 1e6:.1f} MB.")
    run("sqlite", data, args.rows, args.baseline_rows)
    if postgres_reachable():
        run("postgresql", data, args.rows, args.baseline_rows)
    else:
        print(f"\n== postgresql: not reachable at {PG_ADMIN_URL}, skipped")


if __name__ == "__main__":
    main()
