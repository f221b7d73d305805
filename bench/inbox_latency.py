"""Inbox latency on a big account: 100k conversations and 1M ledger rows.

Seeds the data once per database, then times requests through the real app (test client,
logged in): the inbox list, a filtered search, and a conversation page. The baseline, in the
same run, is the cheapest logged-in page (the API's /me through the same stack), so the
figures show what the inbox itself costs.

    python bench/inbox_latency.py [--conversations 100000] [--deliveries 1000000]
                                  [--postgres postgresql://postgres@127.0.0.1:5432/bench_inbox]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from campaigns import create_app  # noqa: E402
from campaigns.core import users  # noqa: E402
from campaigns.db import db, utcnow  # noqa: E402
from campaigns.models import (  # noqa: E402
    Campaign,
    Delivery,
    FollowUp,
    FollowUpMessage,
    Subscriber,
)

WORDS = ("coffee next week works tuesday thursday happy intro thanks berlin roadmap "
         "pricing hiring python rust conference panel talk maybe later busy").split()
CHUNK = 20_000


def seed(conversations: int, deliveries: int) -> None:
    """Insert campaigns, subscribers, ledger rows, follow-ups and their messages in bulk."""
    rng = random.Random(7)
    now = utcnow()
    db.session.execute(insert(Campaign), [
        {"name": f"Campaign {n}", "kind": "virtual_coffee", "subject": "Coffee?",
         "audience": {}, "goal": "Meet people"} for n in range(1, 11)])
    people = max(conversations, deliveries // 10)
    _bulk(Subscriber, ({"email": f"p{n}@example.com", "first_name": f"First{n}",
                        "last_name": f"Last{n}", "company": f"Company {n % 5000}",
                        "fields": {}} for n in range(1, people + 1)))
    _bulk(Delivery, ({"campaign_id": 1 + n // people, "subscriber_id": 1 + n % people,
                      "email": f"p{1 + n % people}@example.com", "state": "sent",
                      "message_id": f"<{n}@bench>", "reply_token": f"t{n}", "last_error": ""}
                     for n in range(deliveries)))
    _bulk(FollowUp, (_followup(n, rng, now) for n in range(1, conversations + 1)))
    _bulk(FollowUpMessage, ({"followup_id": 1 + n % conversations, "direction": "inbound",
                             "text": " ".join(rng.choices(WORDS, k=25)), "subject": "Re: Coffee?",
                             "state": "", "message_id": "", "in_reply_to": "", "references": "",
                             "last_error": ""}
                            for n in range(int(conversations * 1.5))))
    db.session.commit()


def _followup(n: int, rng: random.Random, now) -> dict:  # noqa: ANN001
    """Return one follow-up row: mostly open, some snoozed or done."""
    status = rng.choice(("open", "open", "snoozed", "done"))
    return {"subscriber_id": n, "campaign_id": 1 + n % 10, "status": status,
            "snoozed_until": now + _minutes(rng.randrange(60, 20_000)) if status == "snoozed"
            else None,
            "outcome": "coffee_booked" if status == "done" else "", "unread": rng.random() < .3,
            "waiting_on": rng.choice(("me", "them")),
            "last_message_at": now - _minutes(rng.randrange(500_000))}


def _minutes(n: int):  # noqa: ANN202
    from datetime import timedelta

    return timedelta(minutes=n)


def _bulk(model, rows) -> None:  # noqa: ANN001
    """Insert rows in chunks with executemany."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            db.session.execute(insert(model), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(model), batch)


def timed(client, path: str, runs: int, headers: dict | None = None) -> list[float]:  # noqa: ANN001
    """Return the latency in ms of `runs` GETs of a path (after two warm-ups)."""
    for _ in range(2):
        warm = client.get(path, headers=headers)
        assert warm.status_code == 200, (path, warm.status_code, warm.get_data(as_text=True)[-800:])
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, path
    return samples


def measure(label: str, database_url: str, args: argparse.Namespace) -> None:
    """Seed one database and print p50/p95 of each request."""
    instance = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url,
                      "SECRET_KEY": "bench", "INPROCESS_WORKER": False,
                      "WTF_CSRF_ENABLED": False, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        if database_url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        started = time.perf_counter()
        seed(args.conversations, args.deliveries)
        print(f"[{label}] seeded {args.conversations:,} conversations, "
              f"{args.deliveries:,} ledger rows in {time.perf_counter() - started:.0f} s")
        users.create_user("bench@example.com", "bench password 1")
        token = users.issue_token(users.find_user("bench@example.com"))
        db.session.commit()
        # Statistics and the visibility map as autovacuum would leave them in production.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if database_url.startswith("postgresql")
                              else "ANALYZE"))
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.com", "password": "bench password 1"})
    pages = {
        "baseline: GET /api/v1/me": ("/api/v1/me", {"Authorization": f"Bearer {token}"}),
        "inbox list": ("/", None),
        "inbox list, page 3": None,
        "filtered search": ("/?q=roadmap&campaign=3&waiting=me", None),
        "search a person": ("/?q=Company%204242", None),
        "conversation page": ("/inbox/4242", None),
    }
    html = client.get("/").get_data(as_text=True)
    pages["inbox list, page 3"] = (_page_three(client, html), None)
    print(f"[{label}] {'request':<28} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (path, headers) in pages.items():
        samples = timed(client, path, args.runs, headers)
        p95 = statistics.quantiles(samples, n=20)[18]
        print(f"[{label}] {name:<28} {statistics.median(samples):>8.1f} {p95:>8.1f}")


def _page_three(client, html: str) -> str:  # noqa: ANN001
    """Follow "Older conversations" twice and return the third page's path."""
    import re

    path = "/"
    for _ in range(2):
        match = re.search(r'href="(/\?[^"]*after_id=[^"]*)"', html)
        path = match.group(1).replace("&amp;", "&")
        html = client.get(path).get_data(as_text=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/bench_inbox",
                        help="empty to skip PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        sqlite = Path(tempfile.mkdtemp(prefix="bench-inbox-db-")) / "bench.sqlite3"
        measure("sqlite", f"sqlite:///{sqlite}", args)
    if args.postgres:
        _ensure_database(args.postgres)
        measure("postgres", args.postgres, args)


def _ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
