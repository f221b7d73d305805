"""Importing .eml files, folders of them, mbox files and Maildirs, never changing the source."""

import hashlib
import mailbox

import pytest

from campaigns.db import db
from campaigns.mail.intake.files import import_path
from campaigns.models import InboundMessage
from tests.support.inbound import raw_message


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "mail"  # beside, not inside, the app's instance folder
    path.mkdir()
    return path


def _digest(root):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _bodies():
    return sorted(r.raw.split(b"\r\n\r\n", 1)[1].strip() for r in db.session.scalars(
        db.select(InboundMessage)))


def test_a_folder_of_eml_files_is_imported_and_left_untouched(app_ctx, folder):
    (folder / "sub").mkdir()
    (folder / "one.eml").write_bytes(raw_message("one"))
    (folder / "sub" / "two.eml").write_bytes(raw_message("two"))
    (folder / "notes.txt").write_text("not mail")
    before = _digest(folder)
    report = import_path(folder)
    assert (len(report.stored), report.duplicates, report.refused) == (2, 0, [])
    assert _bodies() == [b"one", b"two"]
    assert _digest(folder) == before


def test_an_mbox_is_split_into_its_messages(app_ctx, folder):
    path = folder / "replies.mbox"
    box = mailbox.mbox(str(path))
    for body in ("first", "second", "third"):
        box.add(raw_message(body))
    box.close()
    before = _digest(folder)
    assert len(import_path(path).stored) == 3
    assert _bodies() == [b"first", b"second", b"third"]
    assert _digest(folder) == before


def test_a_maildir_is_imported_with_its_flags_untouched(app_ctx, folder):
    box = mailbox.Maildir(str(folder / "Maildir"))
    box.add(raw_message("new one"))
    seen = mailbox.MaildirMessage(raw_message("old one"))
    seen.set_subdir("cur")
    seen.set_flags("S")
    box.add(seen)
    before = _digest(folder)
    assert len(import_path(folder / "Maildir").stored) == 2
    assert _digest(folder) == before


def test_importing_again_stores_nothing_new(app_ctx, folder):
    (folder / "one.eml").write_bytes(raw_message("one"))
    import_path(folder)
    report = import_path(folder)
    assert (report.stored, report.duplicates) == ([], 1)


def test_a_bad_file_is_reported_and_the_others_are_imported(app_ctx, folder):
    (folder / "good.eml").write_bytes(raw_message("good"))
    (folder / "empty.eml").write_bytes(b"")
    report = import_path(folder)
    assert len(report.stored) == 1
    assert report.refused == [(str(folder / "empty.eml"), "The message is empty.")]
