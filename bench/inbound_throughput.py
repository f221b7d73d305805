"""Inbound throughput per core: messages/s stored + parsed + classified + matched + filed.

Builds a sent campaign (2,000 deliveries) and a realistic mix of inbound mail for it:
human replies with quoted history (to the tracked address, or by In-Reply-To only),
out-of-office replies, hard and soft bounces (RFC 3464), and replies from strangers.
Each message goes through the real pipeline, three ways, every message committed:

* strictly one at a time (an idle system): ``store_raw`` + commit, then ``process_now``
  (claim, understand, match, file, commit) for that message alone;
* a burst on the webhook or LMTP listener: ``store_raw`` + commit per message, and the
  ``inbound.process`` worker, whose job takes the messages waiting behind its own into
  one batch (``process_batch(..., also_waiting=49)``);
* IMAP polling and file imports: ``store_many`` (50 per INSERT and commit), then
  ``process_batch`` per 50.

Baselines measured in the same rounds on the same messages: the bare stdlib parse
(``BytesParser(policy=default)``), ``understand()`` alone, and storing alone.

The figure per core is messages / CPU seconds of this process (CPU time barely moves with
the load of a shared machine; the wall-clock figures are printed beside it). On PostgreSQL
the server's work is separate: when the server runs on this machine, the CPU time of the
database's backends (from /proc; its WAL writer and checkpointer not counted) is printed
too, and a figure per core counting both. Each figure is the median of the rounds, with
the lowest and highest in brackets.

    python bench/inbound_throughput.py [--messages 3000] [--rounds 3]
                                       [--database-url postgresql://…EMPTY-DB]
"""

from __future__ import annotations

import argparse
import email.policy
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import create_app  # noqa: E402
from campaigns.core.inbound.store import store_many, store_raw  # noqa: E402
from campaigns.db import db  # noqa: E402
from campaigns.mail.inbound.understand import understand  # noqa: E402
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
GOAL = 1000  # messages per second per core (issue 5)
ROWS = [  # (key, label); the pipeline rows are the figures the goal is about
    ("parse", "stdlib parse only (policy.default)"),
    ("understand", "understand() only (parse, classify, extract)"),
    ("store_one", "store raw + commit, one by one"),
    ("store_bulk", f"store raw + commit, {BATCH} per INSERT"),
    ("single", "one at a time (idle system)"),
    ("burst", "webhook/LMTP burst (jobs batch what waits)"),
    ("bulk", f"IMAP/file import (batches of {BATCH})"),
]


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


@dataclass(frozen=True)
class Measure:
    """One timed run: how many messages, elapsed seconds, CPU seconds here and in the server."""

    count: int
    wall: float
    cpu: float
    server_cpu: float

    def per_core(self) -> float:
        return self.count / self.cpu

    def per_core_with_server(self) -> float:
        return self.count / (self.cpu + self.server_cpu)

    def per_wall(self) -> float:
        return self.count / self.wall


class ServerCpu:
    """CPU seconds used by this database's PostgreSQL backends (same machine, via /proc)."""

    def __init__(self) -> None:
        from sqlalchemy import text

        self._watcher = db.engine.connect()  # its own backend; not counted
        self._query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                           " AND pid <> pg_backend_pid()")
        self.available = False  # until a backend's /proc entry has been read

    def read(self) -> dict[int, float]:
        """Return the CPU seconds so far of each backend of the database."""
        self._watcher.rollback()
        found = {}
        for pid in self._watcher.execute(self._query).scalars():
            try:  # the first field of schedstat: nanoseconds spent on a CPU
                found[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                continue  # not on this machine, or gone
            self.available = True
        return found

    def close(self) -> None:
        self._watcher.close()


@contextmanager
def measured(results: dict, key: str, count: int, server: ServerCpu | None) -> Iterator[None]:
    """Time the block (wall clock, process CPU, server CPU) and record it under `key`."""
    db.session.commit()  # nothing left open from before the block
    before = server.read() if server else {}
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = server.read() if server else {}
    server_cpu = sum(spent - before.get(pid, 0.0) for pid, spent in after.items())
    results[key].append(Measure(count, wall, cpu, server_cpu))


def _store_one(raw: bytes, ids: list[int]) -> None:
    """Store one message and commit, as the webhook does."""
    ids.append(store_raw(raw, "webhook").id)
    db.session.commit()


def _store_batch(raws: list[bytes], ids: list[int]) -> None:
    """Store a batch and commit, as the IMAP poller does."""
    ids.extend(s.id for s in store_many(raws, "imap"))
    db.session.commit()


def run_round(sents: list, count: int, number: int, results: dict,
              server: ServerCpu | None, worker: Callable[[int], None]) -> list[bytes]:
    """Run every baseline and pipeline once over fresh messages; record the measures."""
    single, burst, bulk = (build_messages(sents, count, random.Random(7 + number),
                                          f"{tag}-{number}") for tag in ("single", "burst", "bulk"))
    with measured(results, "parse", count, None):
        for raw in single:
            BytesParser(policy=email.policy.default).parsebytes(raw)
    with measured(results, "understand", count, None):
        for raw in single:
            understand(raw)
    ids: list[int] = []
    with measured(results, "store_one", count, server):
        for raw in single:
            _store_one(raw, ids)
    with measured(results, "single", count, server):  # the storing above is added below
        for inbound_id in ids:
            process_now(inbound_id)
    ids = []
    with measured(results, "burst", count, server):
        for raw in burst:
            _store_one(raw, ids)
        for inbound_id in ids:
            worker(inbound_id)
    ids = []
    with measured(results, "store_bulk", count, server):
        for start in range(0, count, BATCH):
            _store_batch(bulk[start:start + BATCH], ids)
    with measured(results, "bulk", count, server):  # the storing above is added below
        for start in range(0, count, BATCH):
            process_batch(ids[start:start + BATCH])
    for key, store in (("single", "store_one"), ("bulk", "store_bulk")):
        stored, processed = results[store][-1], results[key][-1]
        results[key][-1] = Measure(count, stored.wall + processed.wall,
                                   stored.cpu + processed.cpu,
                                   stored.server_cpu + processed.server_cpu)
    return single


def _figure(values: list[float]) -> str:
    """Return the median of some rates with their range."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:6,.0f}/s [{low:,.0f}–{high:,.0f}]".ljust(25)


def report(results: dict, engine: str, args: argparse.Namespace, size: float,
           loads: tuple, server: ServerCpu | None) -> None:
    """Print the figures, baselines first, then the pipeline."""
    with_server = bool(server and server.available)
    print(f"inbound throughput, {engine}: {args.rounds} rounds of {args.messages} messages "
          f"(mean {size:.0f} bytes); load average {loads[0]:.1f} at start, {loads[1]:.1f} at "
          f"end ({os.cpu_count()} cores, shared)")
    print("per core = messages / CPU seconds of this process; wall = messages / elapsed "
          "seconds; median of the rounds [lowest–highest]")
    if with_server:
        print("+ server: also counting the CPU time of the database's PostgreSQL backends "
              "(from /proc; WAL writer and checkpointer not counted)")
    print(f"\n  {'':46}{'per core':25}{'wall clock':25}"
          + (f"{'per core, + server':25}" if with_server else "") + "CPU ms/msg")
    for key, label in ROWS:
        if key == "parse":
            print("  baselines (same messages, same rounds):")
        if key == "single":
            print("  stored + parsed + classified + matched + filed, committed:")
        runs = results[key]
        cpu = statistics.median(m.cpu * 1000 / m.count for m in runs)
        server_cpu = statistics.median(m.server_cpu * 1000 / m.count for m in runs)
        print(f"    {label:44}{_figure([m.per_core() for m in runs])}"
              f"{_figure([m.per_wall() for m in runs])}"
              + (f"{_figure([m.per_core_with_server() for m in runs])}" if with_server else "")
              + f"{cpu:.2f}" + (f" + {server_cpu:.2f} server" if with_server else ""))
    _verdict(results, with_server)


def _verdict(results: dict, with_server: bool) -> None:
    """Print the goal line: the burst and batch paths against 1,000/s per core."""
    paths = {"burst": "webhook/LMTP burst", "bulk": "IMAP/file import"}
    rates = {key: statistics.median(m.per_core() for m in results[key]) for key in paths}
    found = ", ".join(f"{paths[key]} {rate:,.0f}/s" for key, rate in rates.items())
    print(f"\n  goal ≥ {GOAL:,}/s per core: {found} — "
          f"{'met' if min(rates.values()) >= GOAL else 'not met'}")
    if with_server:
        both = {key: statistics.median(m.per_core_with_server() for m in results[key])
                for key in paths}
        print("  counting the server's CPU too: "
              + ", ".join(f"{paths[key]} {rate:,.0f}/s" for key, rate in both.items()))


def main() -> int:
    """Run the baselines and the pipeline over the same messages; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="",
                        help="an EMPTY database to use (its schema is dropped); default SQLite")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="campaigns-bench-"))
    app = make_app(args.database_url, instance)
    from workers import inbound as inbound_actors  # actors bind to the app's broker

    engine = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    results: dict[str, list[Measure]] = defaultdict(list)
    with app.app_context():
        server = ServerCpu() if engine == "PostgreSQL" else None
        sents = sent_campaign([f"person{i}@example.org" for i in range(2000)])
        start_load = os.getloadavg()[0]
        for number in range(args.rounds):
            sample = run_round(sents, args.messages, number, results, server,
                               inbound_actors.process.fn)
        loads = (start_load, os.getloadavg()[0])
        report(results, engine, args, sum(map(len, sample)) / len(sample), loads, server)
        statuses = db.session.execute(db.select(InboundMessage.kind, InboundMessage.status,
                                                db.func.count()).group_by(
            InboundMessage.kind, InboundMessage.status)).all()
        print("  outcomes (all rounds): " + ", ".join(f"{kind}/{status} {count}"
                                                    for kind, status, count in statuses))
        if server:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
