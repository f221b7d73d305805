"""Inbound throughput on one core: messages/s stored + parsed + classified + matched + filed.

Builds a sent campaign (2,000 deliveries) and a realistic mix of inbound mail for it:
human replies with quoted history (to the tracked address, or by In-Reply-To only),
out-of-office replies, hard and soft bounces (RFC 3464), and replies from strangers.
Each message goes through the real pipeline, three ways:

* strictly one at a time (an idle system): ``store_raw`` + commit, then ``process_now``
  (claim, understand, match, file, commit) for that message alone;
* a burst on the webhook or LMTP listener: ``store_raw`` + commit per message, and the
  ``inbound.process`` worker, whose job takes the messages waiting behind its own into
  one batch (``process_batch(..., also_waiting=49)``);
* IMAP polling and file imports: ``store_many`` (50 per INSERT and commit), then
  ``process_batch`` per 50.

Baselines measured in the same run on the same messages: the bare stdlib parse
(``BytesParser(policy=default)``), and storing alone.

    python bench/inbound_throughput.py [--messages 3000] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import email.policy
import random
import sys
import tempfile
import time
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import create_app  # noqa: E402
from campaigns.core.inbound.store import store_many, store_raw  # noqa: E402
from campaigns.db import db  # noqa: E402
from campaigns.mail.intake.pipeline import BATCH, process_batch, process_now  # noqa: E402
from campaigns.models import InboundMessage  # noqa: E402
from tests.support.inbound import (  # noqa: E402
    bounce_for,
    out_of_office,
    raw_message,
    reply_to,
    sent_campaign,
)

QUOTE = "".join(f"> Line {i} of the invitation we sent, quoted back at us.\r\n" for i in range(12))


def build_messages(sents: list, count: int, rng: random.Random, tag: str) -> list[bytes]:
    """Return `count` distinct inbound messages in a realistic mix."""
    kinds = ["reply"] * 55 + ["headers"] * 15 + ["ooo"] * 12 + ["hard"] * 6 + ["soft"] * 4 + \
        ["stranger"] * 8
    messages = []
    for n in range(count):
        sent = rng.choice(sents)
        kind = rng.choice(kinds)
        body = (f"Hi! Yes, I'd love to join. Would Tuesday {n % 28 + 1} work?\r\n\r\n"
                f"Best,\r\n{sent.email.split('@')[0].title()}\r\n\r\nOn Mon, 3 Mar 2025, "
                f"Host wrote:\r\n{QUOTE}")
        message_id = f"<bench-{tag}-{n}@mail.example.org>"
        if kind == "reply":
            raw = reply_to(sent, body, Message_ID=message_id)
        elif kind == "headers":
            raw = raw_message(body, From=sent.email, To="host@campaigns.test",
                              In_Reply_To=sent.message_id, Message_ID=message_id)
        elif kind == "ooo":
            raw = out_of_office(sent, Message_ID=message_id)
        elif kind in ("hard", "soft"):
            raw = bounce_for(sent, "5.1.1" if kind == "hard" else "4.2.2", Message_ID=message_id)
        else:
            raw = raw_message(body, From=f"stranger{n}@example.net", Message_ID=message_id)
        messages.append(raw)
    return messages


def make_app(database_url: str, instance: Path):  # noqa: ANN201
    """Return an app on a freshly migrated database."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url,
                      "BROKER_URL": "", "INPROCESS_WORKER": False, "SECRET_KEY": "bench",
                      "LOG_LEVEL": "WARNING", "SOFT_BOUNCE_LIMIT": 1_000_000})
    with app.app_context():
        if database_url.startswith("postgres"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    return app


def timed(action) -> float:  # noqa: ANN001
    """Return how long an action took, in seconds."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _store_one(raw: bytes, ids: list[int]) -> None:
    """Store one message and commit, as the webhook does."""
    ids.append(store_raw(raw, "webhook").id)
    db.session.commit()


def _store_batch(raws: list[bytes], ids: list[int]) -> None:
    """Store a batch and commit, as the IMAP poller does."""
    ids.extend(s.id for s in store_many(raws, "imap"))
    db.session.commit()


def rate(count: int, seconds: float) -> str:
    """Format a throughput figure."""
    return f"{count / seconds:8.0f} msg/s  ({seconds * 1000 / count:.2f} ms/msg)"


def main() -> int:
    """Run the baselines and the pipeline over the same messages; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--database-url", default="",
                        help="an EMPTY database to use (its schema is dropped); default SQLite")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="campaigns-bench-"))
    app = make_app(args.database_url, instance)
    from workers import inbound as inbound_actors  # actors bind to the app's broker
    with app.app_context():
        sents = sent_campaign([f"person{i}@example.org" for i in range(2000)])
        single, burst, bulk = (build_messages(sents, args.messages, random.Random(7), tag)
                               for tag in ("single", "burst", "bulk"))
        size = sum(map(len, single)) / len(single)
        t_stdlib = timed(lambda: [BytesParser(policy=email.policy.default).parsebytes(raw)
                                  for raw in single])
        ids: list[int] = []
        t_store = timed(lambda: [_store_one(raw, ids) for raw in single])
        t_single = t_store + timed(lambda: [process_now(i) for i in ids])
        ids = []
        t_burst = timed(lambda: [_store_one(raw, ids) for raw in burst])
        t_burst += timed(lambda: [inbound_actors.process.fn(i) for i in ids])
        ids = []
        t_store_bulk = timed(lambda: [_store_batch(bulk[i:i + BATCH], ids)
                                      for i in range(0, len(bulk), BATCH)])
        t_bulk = t_store_bulk + timed(lambda: [process_batch(ids[i:i + BATCH])
                                               for i in range(0, len(ids), BATCH)])
        statuses = db.session.execute(db.select(InboundMessage.kind, InboundMessage.status,
                                                db.func.count()).group_by(
            InboundMessage.kind, InboundMessage.status)).all()
    engine = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    n = len(single)
    print(f"inbound throughput, one core, {engine}, {n} messages per run "
          f"(mean {size:.0f} bytes)")
    print(f"  baseline: stdlib parse only (policy.default)        {rate(n, t_stdlib)}")
    print(f"  baseline: store raw + commit, one by one            {rate(n, t_store)}")
    print(f"  baseline: store raw + commit, {BATCH} per INSERT         {rate(n, t_store_bulk)}")
    print("  stored+parsed+classified+matched+filed:")
    print(f"    strictly one at a time (idle system)              {rate(n, t_single)}")
    print(f"    webhook/LMTP burst (jobs batch what waits)        {rate(n, t_burst)}")
    print(f"    IMAP/file import (batches of {BATCH})                {rate(n, t_bulk)}")
    print("  outcomes (all runs): " + ", ".join(f"{kind}/{status} {count}"
                                               for kind, status, count in statuses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
