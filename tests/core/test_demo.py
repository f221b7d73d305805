"""The demo loop's outbox reading and the reply written as the recipient."""

from email import message_from_bytes
from email.message import EmailMessage

import pytest

from campaigns.core import demo
from campaigns.errors import NotFound, ValidationError


@pytest.fixture
def app_settings():
    return {"MAIL_URL": "file://"}


def sent_email() -> bytes:
    message = EmailMessage()
    message["From"] = "Olive <olive@example.com>"
    message["To"] = "ann@example.com"
    message["Reply-To"] = "reply+tok123@reply.campaigns.test"
    message["Subject"] = "Coffee next week?"
    message["Date"] = "Fri, 27 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = "<d1@campaigns.test>"
    message.set_content("Hi Ann,\nfancy a coffee?\n")
    return message.as_bytes()


def test_the_reply_goes_to_the_tracked_address_threaded_and_quoted(app_ctx):
    reply = message_from_bytes(demo.reply_as_recipient(sent_email(), "Yes please!"))
    assert reply["From"] == "ann@example.com"
    assert reply["To"] == "reply+tok123@reply.campaigns.test"
    assert reply["Subject"] == "Re: Coffee next week?"
    assert (reply["In-Reply-To"], reply["References"]) == ("<d1@campaigns.test>",) * 2
    body = reply.get_payload()
    assert body.startswith("Yes please!") and "> fancy a coffee?" in body


def test_an_empty_reply_is_refused(app_ctx):
    with pytest.raises(ValidationError):
        demo.reply_as_recipient(sent_email(), "   ")


def test_the_outbox_lists_sent_files_newest_first(app_ctx, app):
    folder = demo.outbox_dir()
    folder.mkdir(parents=True)
    (folder / "20261127T100000-a.eml").write_bytes(sent_email())
    (folder / "20261127T110000-b.eml").write_bytes(sent_email().replace(b"Coffee", b"Tea"))
    listed = demo.list_outbox()
    assert [m.subject for m in listed] == ["Tea next week?", "Coffee next week?"]
    assert listed[0].to == "ann@example.com"


def test_outbox_names_cannot_escape_the_folder(app_ctx):
    for name in ("../config.py", "..", "x/../../secret_key", "a.txt"):
        with pytest.raises(NotFound):
            demo.read_outbox(name)
