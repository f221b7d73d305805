"""Privacy: everything about one person can be exported, and erased for good."""

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.core import export, imports, privacy, subscribers
from campaigns.core.subscriber_list import ListFilter
from campaigns.core.suppression import is_suppressed
from campaigns.db import db
from campaigns.errors import Conflict
from campaigns.models import (
    Campaign,
    ConsentEvent,
    Delivery,
    FollowUp,
    FollowUpMessage,
    InboundMessage,
    ReceivedVia,
    Subscriber,
    SubscriberImport,
    SubscriberNote,
    Suppression,
)


@pytest.fixture
def ada(app_ctx, tmp_path):
    person = subscribers.create_subscriber("ada@example.com", first_name="Ada", tags=["vip"],
                                           fields={"city": "London"})
    campaign = Campaign(name="Coffee")
    db.session.add(campaign)
    db.session.flush()
    delivery = Delivery(campaign_id=campaign.id, subscriber_id=person.id, email=person.email,
                        state="sent", message_id="<m1@x>", reply_token="tok1")
    db.session.add(delivery)
    db.session.flush()
    followup = FollowUp(subscriber_id=person.id, campaign_id=campaign.id, outcome="coffee")
    db.session.add(followup)
    db.session.flush()
    raw = tmp_path / "reply.eml"
    raw.write_bytes(b"From: ada@example.com\r\n\r\nYes please")
    inbound = InboundMessage(dedupe_key="<r1@x>", content_hash="h", received_via=ReceivedVia.FILE,
                             from_email=person.email, subject="Re: Coffee", new_text="Yes please",
                             subscriber_id=person.id, raw_path=str(raw))
    db.session.add(inbound)
    db.session.flush()
    db.session.add(FollowUpMessage(followup_id=followup.id, direction="inbound",
                                   inbound_message_id=inbound.id, text="Yes please"))
    subscribers.add_note(person, "Loves engines", None)
    db.session.commit()
    return person


def test_the_export_holds_everything_about_the_person(ada):
    data = privacy.export_person(ada)
    json.dumps(data)  # JSON-ready
    assert data["subscriber"]["email"] == "ada@example.com"
    assert data["subscriber"]["fields"] == {"city": "London"}
    assert data["tags"] == ["vip"]
    assert [e["status"] for e in data["consent_events"]] == ["subscribed"]
    assert data["deliveries"][0]["campaign"] == "Coffee"
    assert data["inbound_messages"][0]["new_text"] == "Yes please"
    assert data["conversations"][0]["messages"][0]["text"] == "Yes please"
    assert data["notes"][0]["body"] == "Loves engines"


def test_erasing_removes_their_data_and_keeps_only_a_hash_suppressed(ada):
    raw_path = Path(db.session.scalar(select(InboundMessage.raw_path)))
    files = privacy.erase_person(ada)
    db.session.commit()
    privacy.remove_files(files)
    for model in (Subscriber, ConsentEvent, FollowUp, FollowUpMessage, InboundMessage,
                  SubscriberNote):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert db.session.scalar(select(Delivery.email)) == ""
    assert not raw_path.exists()
    entry = db.session.scalar(select(Suppression))
    assert entry.email is None and entry.reason == "erased"
    assert is_suppressed("ADA@example.com")


def test_an_erased_person_cannot_be_added_back_by_hand_or_api(ada):
    privacy.erase_person(ada)
    db.session.commit()
    with pytest.raises(Conflict, match="suppression list"):
        subscribers.create_subscriber("ada@example.com")


def test_erasing_scrubs_the_address_from_import_reports_and_drops_kept_files(app_ctx):
    imp = imports.create_import(b"email\nada@example.com\nada@example.com\nbob@\n", "x.csv")
    imports.start_import(imp)
    db.session.commit()
    kept = Path(imp.path)
    files = privacy.erase_person(subscribers.find_by_email("ada@example.com"))
    db.session.commit()
    privacy.remove_files(files)
    report = db.session.get(SubscriberImport, imp.id).report
    assert report["duplicates"] == []
    assert [e["email"] for e in report["errors"]] == ["bob@"]
    assert not kept.exists()


@pytest.mark.parametrize("value, safe", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1 555", "'+1 555"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), (None, "")])
def test_export_cells_that_a_spreadsheet_would_run_are_neutralised(value, safe):
    assert export.neutralise(value) == safe


def test_the_csv_export_has_a_column_per_custom_field_and_no_live_formulas(app_ctx):
    subscribers.create_subscriber("eve@example.com", first_name="=cmd|' /C calc'!A0",
                                  company="@evil", fields={"note": "+1", "city": "Oslo"},
                                  tags=["b", "a"])
    subscribers.create_subscriber("fay@example.com", fields={"email": "other@example.com"})
    db.session.commit()
    text = "".join(export.csv_lines(export.subscriber_rows(ListFilter().conditions())))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == export.CORE_COLUMNS + ["city", "fields.email", "note"]
    eve = rows[0]
    assert (eve["first_name"], eve["company"], eve["note"]) == ("'=cmd|' /C calc'!A0", "'@evil",
                                                                "'+1")
    assert eve["tags"] == "a, b"
    assert rows[1]["fields.email"] == "other@example.com"
