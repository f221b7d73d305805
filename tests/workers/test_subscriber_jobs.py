"""Background subscriber work: queued imports, their failures, and the housekeeping sweeps."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns import jobs
from campaigns.core import imports, subscribers
from campaigns.db import db, utcnow
from campaigns.models import (
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    Subscriber,
    SubscriberImport,
)
from workers import subscribers as subscriber_jobs


@pytest.fixture
def app_settings():
    return {"IMPORT_INLINE_ROWS": 1, "IMPORT_CHUNK_ROWS": 2}


def queued_import(text):
    imp = imports.create_import(text.encode(), "people.csv")
    assert imports.start_import(imp) is True
    db.session.commit()
    return imp.id


def test_a_queued_import_runs_once_even_if_its_message_comes_twice(app_ctx, worker):
    import_id = queued_import("email\na@example.com\nb@example.com\nc@example.com\n")
    jobs.enqueue("subscribers.import", import_id)
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    imp = db.session.get(SubscriberImport, import_id)
    assert (imp.status, imp.report["created"], imp.report["unchanged"]) == ("done", 3, 0)


def test_an_import_whose_file_vanished_is_marked_failed_with_the_reason(app_ctx, worker):
    import_id = queued_import("email\na@example.com\nb@example.com\n")
    Path(db.session.get(SubscriberImport, import_id).path).unlink()
    worker.drain()
    db.session.expire_all()
    imp = db.session.get(SubscriberImport, import_id)
    assert imp.status == ImportStatus.FAILED
    assert "no longer kept" in imp.error


def test_an_import_is_marked_failed_when_its_retries_are_spent(app_ctx):
    import_id = queued_import("email\na@example.com\nb@example.com\n")
    subscriber_jobs.import_failed({"args": [import_id]}, {"retries": 3, "max_retries": 3})
    imp = db.session.get(SubscriberImport, import_id)
    assert imp.status == ImportStatus.FAILED and "failed 4 times" in imp.error


def test_unconfirmed_signups_are_removed_after_the_confirmation_window(app_ctx):
    old = subscribers.create_subscriber("old@example.com", status=ConsentStatus.PENDING,
                                        source=ConsentSource.SIGNUP)
    subscribers.create_subscriber("new@example.com", status=ConsentStatus.PENDING,
                                  source=ConsentSource.SIGNUP)
    subscribers.create_subscriber("kept@example.com")
    old.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    subscriber_jobs.remove_unconfirmed_signups()
    assert sorted(db.session.scalars(select(Subscriber.email))) == ["kept@example.com",
                                                                    "new@example.com"]


def test_uploaded_files_are_deleted_a_day_after_their_import(app_ctx):
    old_id = queued_import("email\na@example.com\nb@example.com\n")
    new_id = queued_import("email\nc@example.com\nd@example.com\n")
    old = db.session.get(SubscriberImport, old_id)
    old.created_at, old.status = utcnow() - timedelta(days=2), ImportStatus.DONE
    old_path = Path(old.path)
    db.session.commit()
    subscriber_jobs.remove_old_import_files()
    assert not old_path.exists()
    assert Path(db.session.get(SubscriberImport, new_id).path).exists()
    assert db.session.scalar(select(func.count()).where(SubscriberImport.path == "")) == 1
