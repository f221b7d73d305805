"""Send a campaign of 100k generated people end to end and compare with two baselines.

audience → ledger → render → MIME → SMTP → ledger ``sent``, through real ``dramatiq`` worker
processes on Redis and PostgreSQL, to Postfix's ``smtp-sink`` on loopback. In the same run, and
against the same sink, it measures Postfix's ``smtp-source`` (the C limit of this machine) and a
naive Python loop (EmailMessage + a new smtplib connection per email). It prints emails/s for
all three, the ratios, the time from "send" to the first email and the workers' peak memory.

    .venv/bin/python bench/send_bench.py [--people 100000] [--processes 2] [--threads 8]

Needs PostgreSQL and Redis on loopback (or --database-url / --broker-url) and Postfix's
smtp-sink and smtp-source (Debian package postfix).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postfix import SOURCE, start_smtp_sink  # noqa: E402
from tests.support.smtp import free_port  # noqa: E402


def start_sink(port: int) -> subprocess.Popen:
    """Start smtp-sink on 127.0.0.1:port, counting sessions (-c) as it goes."""
    return start_smtp_sink(port, "-c", backlog=1000)


def reset_postgres(url: str) -> None:
    """Drop and create the benchmark database."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def forget_queued_jobs(url: str) -> None:
    """Delete the Dramatiq queues and rate counters a previous run left (nothing else)."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in ("dramatiq:*", "campaigns:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


def make_app(env: dict[str, str]):  # noqa: ANN201
    """Create the app with the benchmark's settings and migrate its database."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from campaigns import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    return app


def add_people(app, count: int) -> None:  # noqa: ANN001
    """Insert the generated audience with COPY (not timed)."""
    from campaigns.db import db

    buffer = io.StringIO()
    for n in range(count):
        buffer.write(f"person{n}@bench.example\tFirst{n}\tLast{n}\tCompany {n % 997}\t{{}}\t"
                     f"subscribed\timport\t0\t2026-01-01\t2026-01-01\n")
    with app.app_context():
        raw = db.engine.raw_connection()
        with raw.cursor() as cursor, cursor.copy(
                "COPY subscribers (email, first_name, last_name, company, fields, "
                "consent_status, consent_source, soft_bounces, created_at, updated_at) "
                "FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        raw.commit()
        raw.close()


def make_campaign(app):  # noqa: ANN001, ANN201
    """Create the campaign to send (the discussion invite preset, personalised)."""
    from campaigns.core import campaigns as verbs
    from campaigns.db import db

    with app.app_context():
        campaign = verbs.create({"name": "Bench", "kind": "discussion_invite",
                                 "subject": "A conversation, {{ first_name }}?",
                                 "from_name": "Olive Owner",
                                 "from_email": "olive@bench.example"})
        db.session.commit()
        return campaign.id


def start_workers(env: dict[str, str], processes: int, threads: int) -> subprocess.Popen:
    """Start `dramatiq workers.main` (what `campaigns worker` runs) and wait until ready."""
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False, prefix="bench-workers-")
    proc = subprocess.Popen([sys.executable, "-m", "dramatiq", "workers.main", "--processes",
                             str(processes), "--threads", str(threads)], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Path(log.name).read_text().count("is ready for action") >= processes:
            return proc
        time.sleep(0.2)
    raise RuntimeError("workers did not start: " + Path(log.name).read_text()[-2000:])


def children(pid: int) -> list[int]:
    """Return the child process ids of a process."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, field: str) -> int:
    """Return a memory figure (VmRSS, VmHWM) of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_campaign(app, campaign_id: int, workers: subprocess.Popen, people: int,  # noqa: ANN001
                 sink: subprocess.Popen) -> dict:
    """Start the campaign as the web would and wait until every row is sent."""
    from sqlalchemy import func, select

    from campaigns.core import campaigns as verbs
    from campaigns.db import db
    from campaigns.models import Delivery, DeliveryState

    with app.app_context():
        started = time.time()
        verbs.start(db.session.get(verbs.Campaign, campaign_id))
        db.session.commit()
        queued = time.time() - started
        peak = 0
        cpu_before = {p: cpu_seconds(p) for p in children(workers.pid)}
        sink_before = cpu_seconds(sink.pid)
        while True:  # a one-row look: counting the ledger often would load the database
            time.sleep(0.2)
            peak = max([peak] + [memory_kib(p, "VmHWM") for p in children(workers.pid)])
            status = db.session.scalar(select(verbs.Campaign.status)
                                       .where(verbs.Campaign.id == campaign_id))
            db.session.commit()
            if status != "sending":
                break
        cpu = sum(cpu_seconds(p) - cpu_before.get(p, 0) for p in children(workers.pid))
        sink_cpu = cpu_seconds(sink.pid) - sink_before
        first, last, sent = db.session.execute(
            select(func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count())
            .where(Delivery.campaign_id == campaign_id, Delivery.state == DeliveryState.SENT)
        ).one()
        if sent != people:
            raise RuntimeError(f"only {sent} of {people} emails were sent")
        elapsed = last.replace(tzinfo=UTC).timestamp() - started
        first_delay = first.replace(tzinfo=UTC).timestamp() - started
    return {"elapsed": elapsed, "rate": people / elapsed, "first_email": first_delay,
            "start_call": queued, "peak_kib": peak, "cpu_us": cpu / people * 1e6,
            "cpu_share": cpu / elapsed, "sink_us": sink_cpu / people * 1e6}


def sample_message(app, campaign_id: int) -> bytes:  # noqa: ANN001
    """Return one of the campaign's messages (its size is smtp-source's -l)."""
    from campaigns.core import composition
    from campaigns.db import db
    from campaigns.mail.compose import Recipient
    from campaigns.models import Campaign

    with app.test_request_context():
        campaign = db.session.get(Campaign, campaign_id)
        person = composition.SAMPLE_PERSON
        composer = composition.make_composer(campaign)
        context = composition.context_for(campaign, person, "https://bench.example/u/x" * 3)
        envelope = composer.envelope(Recipient(person.email, person.name, "<x@bench>",
                                               "t" * 24, "https://bench.example/u/x"), context)
        return envelope.data


def smtp_source(port: int, sessions: int, count: int, size: int) -> float:
    """Return the emails/s Postfix's smtp-source reaches against the sink."""
    started = time.perf_counter()
    subprocess.run([SOURCE, "-s", str(sessions), "-m", str(count), "-l", str(size), "-d",
                    "-f", "olive@bench.example", "-t", "person@bench.example",
                    f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return count / (time.perf_counter() - started)


def naive_loop(port: int, sample: bytes, seconds: float = 5.0) -> float:
    """Return the emails/s of EmailMessage + a new smtplib connection per email."""
    import email
    import email.policy

    parsed = email.message_from_bytes(sample, policy=email.policy.default)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    sent, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        message = EmailMessage()
        message["From"], message["To"] = "Olive Owner <olive@bench.example>", \
            f"First{sent} Last{sent} <person{sent}@bench.example>"
        message["Subject"] = f"A conversation, First{sent}?"
        message.set_content(text.replace("Ada", f"First{sent}"))
        message.add_alternative(html.replace("Ada", f"First{sent}"), subtype="html")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
        sent += 1
    return sent / (time.perf_counter() - started)


def main() -> None:
    """Run the three measurements and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)  # what `campaigns worker` runs
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/campaigns_bench"))
    parser.add_argument("--broker-url", default=os.environ.get(
        "BENCH_BROKER_URL", "redis://127.0.0.1:6379/4"))
    args = parser.parse_args()

    port = free_port()
    sink = start_sink(port)
    instance = tempfile.mkdtemp(prefix="campaigns-bench-")
    env = {"CAMPAIGNS_DATABASE_URL": args.database_url, "CAMPAIGNS_BROKER_URL": args.broker_url,
           "CAMPAIGNS_MAIL_URL": f"smtp://127.0.0.1:{port}", "CAMPAIGNS_INSTANCE_PATH": instance,
           "CAMPAIGNS_SECRET_KEY": "bench", "CAMPAIGNS_BASE_URL": "https://campaigns.example",
           "CAMPAIGNS_REPLY_DOMAIN": "reply.campaigns.example",
           "CAMPAIGNS_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
           "CAMPAIGNS_INPROCESS_WORKER": "false"}
    workers = None
    try:
        reset_postgres(args.database_url)
        app = make_app(env)
        forget_queued_jobs(args.broker_url)
        add_people(app, args.people)
        campaign_id = make_campaign(app)
        sample = sample_message(app, campaign_id)
        size, sessions = len(sample), args.processes * args.threads
        # The machine may be shared: each baseline is measured before and after our run.
        source = [smtp_source(port, sessions, min(args.people, 50_000), size)]
        naive = [naive_loop(port, sample)]
        workers = start_workers(env, args.processes, args.threads)
        ours = run_campaign(app, campaign_id, workers, args.people, sink)
        workers.send_signal(signal.SIGTERM)
        workers.wait(30)
        workers = None
        source.append(smtp_source(port, sessions, min(args.people, 50_000), size))
        naive.append(naive_loop(port, sample))
    finally:
        if workers is not None:
            os.killpg(workers.pid, signal.SIGKILL)
        sink.kill()
        sink.wait()
    report(args, ours, source, naive, size, sessions)


def report(args, ours: dict, sources: list[float], naives: list[float], size: int,  # noqa: ANN001
           sessions: int) -> None:
    """Print the figures and ratios (baselines: the mean of before and after)."""
    source, naive = sum(sources) / len(sources), sum(naives) / len(naives)
    print(f"campaign of {args.people} people, {args.processes} worker processes x "
          f"{args.threads} threads, messages of {size} bytes, smtp-sink on loopback")
    print(f"  campaigns (end to end)      {ours['rate']:9.0f} emails/s   "
          f"({ours['elapsed']:.1f} s; first email {ours['first_email'] * 1000:.0f} ms after "
          f"Send; start call {ours['start_call'] * 1000:.0f} ms)")
    print(f"  smtp-source (C, {sessions} sessions) {source:9.0f} emails/s   "
          f"(before {sources[0]:.0f}, after {sources[1]:.0f})")
    print(f"  naive Python loop (1 proc)  {naive:9.0f} emails/s   "
          f"(before {naives[0]:.0f}, after {naives[1]:.0f})")
    print(f"  ratio campaigns / smtp-source  {ours['rate'] / source:.2f}")
    print(f"  ratio campaigns / naive loop   {ours['rate'] / naive:.1f}x")
    print(f"  peak worker memory (VmHWM)     {ours['peak_kib'] / 1024:.0f} MiB per process")
    print(f"  worker CPU                     {ours['cpu_us']:.0f} µs per email "
          f"({ours['cpu_share']:.2f} cores busy on average)")
    print(f"  smtp-sink CPU                  {ours['sink_us']:.0f} µs per email")


if __name__ == "__main__":
    main()
