"""Build what inbound tests need: a sent campaign with deliveries, and raw replies to it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from campaigns import jobs
from campaigns.db import db, utcnow
from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryState, Subscriber

SENDER_DOMAIN = "campaigns.test"
REPLY_DOMAIN = "reply.campaigns.test"


@dataclass
class Sent:
    """Ids and addresses of one delivery, so tests can reply to it."""

    campaign_id: int
    subscriber_id: int
    delivery_id: int
    email: str
    message_id: str  # with brackets, as the ledger stores it
    token: str

    @property
    def reply_address(self) -> str:
        return f"reply+{self.token}@{REPLY_DOMAIN}"


def sent_campaign(emails: list[str], name: str = "Coffee in March", *,
                  token: str | None = None) -> list[Sent]:
    """Create a sent campaign with one sent delivery per address; commit; return them."""
    campaign = Campaign(name=name, subject="Coffee?", status=CampaignStatus.SENT,
                        from_email=f"host@{SENDER_DOMAIN}")
    db.session.add(campaign)
    db.session.flush()
    result = []
    for email in emails:
        subscriber = db.session.scalar(db.select(Subscriber).where(Subscriber.email == email))
        if subscriber is None:
            subscriber = Subscriber(email=email, first_name=email.split("@")[0].title())
            db.session.add(subscriber)
            db.session.flush()
        reply_token = token or secrets.token_hex(12)
        delivery = Delivery(campaign_id=campaign.id, subscriber_id=subscriber.id, email=email,
                            state=DeliveryState.SENT, sent_at=utcnow(), reply_token=reply_token,
                            message_id=f"<{secrets.token_hex(8)}.{campaign.id}@{SENDER_DOMAIN}>")
        db.session.add(delivery)
        db.session.flush()
        result.append(Sent(campaign.id, subscriber.id, delivery.id, email,
                           delivery.message_id, reply_token))
    db.session.commit()
    return result


def raw_message(body: str = "Yes, I'd love to have coffee. Tuesday works.", **headers: str
                ) -> bytes:
    """Return raw RFC 5322 bytes; keyword names become headers (underscores to dashes)."""
    fields = {
        "From": "Ann Example <ann@example.org>",
        "To": f"reply+unknown@{REPLY_DOMAIN}",
        "Subject": "Re: Coffee?",
        "Date": "Tue, 04 Mar 2025 09:30:00 +0000",
        "Message-ID": f"<{secrets.token_hex(8)}@mail.example.org>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for name, value in headers.items():
        fields[name.replace("_", "-")] = value
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return (head + "\r\n" + body + "\r\n").encode("utf-8")


def reply_to(sent: Sent, body: str = "Yes, I'd love to have coffee. Tuesday works.",
             **headers: str) -> bytes:
    """Return a human reply from a delivery's subscriber to its tracked reply address."""
    fields = {"From": f"{sent.email.split('@')[0].title()} <{sent.email}>",
              "To": sent.reply_address, "In-Reply-To": sent.message_id,
              "References": sent.message_id, **headers}
    return raw_message(body, **fields)


def out_of_office(sent: Sent, back: str = "Monday 2 March 2099", **headers: str) -> bytes:
    """Return an Exchange-style out-of-office reply to a delivery."""
    fields = {"From": sent.email, "To": sent.reply_address,
              "Subject": "Automatic reply: Coffee?", "Auto-Submitted": "auto-replied",
              "X-Auto-Response-Suppress": "All", "In-Reply-To": sent.message_id, **headers}
    body = (f"I am out of the office until {back} with limited access to email.\r\n"
            "For urgent matters please contact my colleague.")
    return raw_message(body, **fields)


def bounce_for(sent: Sent, status: str = "5.1.1", **headers: str) -> bytes:
    """Return an RFC 3464 delivery status notification for a delivery."""
    boundary = "dsn-boundary-1"
    action = "failed"
    fields = {"From": "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
              "To": f"bounces@{SENDER_DOMAIN}", "Subject": "Undelivered Mail Returned to Sender",
              "Auto-Submitted": "auto-replied",
              "Content-Type": f'multipart/report; report-type=delivery-status; '
                              f'boundary="{boundary}"', **headers}
    body = (f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
            f"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.example.org\r\n\r\n"
            f"Final-Recipient: rfc822; {sent.email}\r\nAction: {action}\r\n"
            f"Status: {status}\r\nDiagnostic-Code: smtp; {status[0]}50 {status} "
            f"{'User unknown' if status.startswith('5') else 'Mailbox full'}\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: host@{SENDER_DOMAIN}\r\nTo: {sent.email}\r\nSubject: Coffee?\r\n"
            f"Message-ID: {sent.message_id}\r\n\r\n--{boundary}--")
    return raw_message(body, **fields)


def store_all(raws) -> list[int]:  # noqa: ANN001
    """Store raw messages as one IMAP batch (without processing them); commit; return ids."""
    from campaigns.core.inbound.store import store_many

    ids = [s.id for s in store_many(list(raws), "imap")]
    db.session.commit()
    return ids


def receive(raw: bytes, via: str = "imap", envelope: dict | None = None):  # noqa: ANN201
    """Store and process one message in the current app context; return its row."""
    from campaigns.core.inbound.store import store_raw
    from campaigns.mail.intake.pipeline import process_now
    from campaigns.models import InboundMessage

    stored = store_raw(raw, via, envelope=envelope)
    db.session.commit()
    process_now(stored.id)
    db.session.expire_all()
    return db.session.get(InboundMessage, stored.id)


@pytest.fixture
def parked_jobs(request):  # noqa: ANN001, ANN201
    """Keep jobs off the broker unless the test runs the worker; yield what was enqueued.

    Tests that do not run the worker must not publish: on Redis a job would wait in the
    queue for whichever later test starts a worker, and run against that test's database.
    (Its own MonkeyPatch, so that a test's monkeypatch.undo() cannot release the jobs.)
    """
    parked: list[tuple] = []
    if "worker" in request.fixturenames:
        yield parked
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "enqueue", lambda name, *args, **kw: parked.append((name, args)))
        patch.setattr(jobs, "publish_now", lambda name, *args, **kw: parked.append((name, args)))
        yield parked
