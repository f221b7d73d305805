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


def running_import(text):
    """An import marked running without publishing a message (tests without a worker must
    leave none behind: the in-process worker outlives the test)."""
    imp = imports.create_import(text.encode(), "people.csv")
    imp.status = ImportStatus.RUNNING
    db.session.commit()
    return imp.id


def queued_import(text, before_commit=lambda imp: None):
    imp = imports.create_import(text.encode(), "people.csv")
    assert imports.start_import(imp) is True
    before_commit(imp)
    db.session.commit()
    return imp.id


def test_a_queued_import_runs_once_even_if_its_message_comes_twice(app_ctx, worker):
    import_id = queued_import("email\na@example.com\nb@example.com\nc@example.com\n",
                              lambda imp: jobs.enqueue("subscribers.import", imp.id))
    worker.drain()
    db.session.expire_all()
    imp = db.session.get(SubscriberImport, import_id)
    assert (imp.status, imp.report["created"], imp.report["unchanged"]) == ("done", 3, 0)


def test_an_import_whose_file_vanished_is_marked_failed_with_the_reason(app_ctx, worker):
    import_id = queued_import("email\na@example.com\nb@example.com\n",
                              lambda imp: Path(imp.path).unlink())
    worker.drain()
    db.session.expire_all()
    imp = db.session.get(SubscriberImport, import_id)
    assert imp.status == ImportStatus.FAILED
    assert "no longer kept" in imp.error


def test_an_import_nobody_works_on_is_queued_again_by_the_sweep(app_ctx, worker):
    from campaigns.core import leases

    imp = imports.create_import(b"email\na@example.com\nb@example.com\n", "people.csv")
    imp.status = ImportStatus.RUNNING  # queued, but its message was lost
    imp.created_at = utcnow() - timedelta(minutes=10)
    import_id = imp.id
    leases.acquire(f"subscribers.import:{import_id}", "a dead worker", timedelta(minutes=5))
    db.session.commit()
    subscriber_jobs.resume_stale_imports()  # the lease still holds: nothing to do
    worker.drain()
    assert db.session.get(SubscriberImport, import_id).status == ImportStatus.RUNNING
    leases.renew(f"subscribers.import:{import_id}", "a dead worker", timedelta(minutes=-1))
    db.session.commit()
    subscriber_jobs.resume_stale_imports()
    worker.drain()
    db.session.expire_all()
    assert db.session.get(SubscriberImport, import_id).report["created"] == 2


def test_an_import_is_marked_failed_when_its_retries_are_spent(app_ctx):
    import_id = running_import("email\na@example.com\nb@example.com\n")
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
    old_id = running_import("email\na@example.com\nb@example.com\n")
    new_id = running_import("email\nc@example.com\nd@example.com\n")
    old = db.session.get(SubscriberImport, old_id)
    old.created_at, old.status = utcnow() - timedelta(days=2), ImportStatus.DONE
    old_path = Path(old.path)
    db.session.commit()
    subscriber_jobs.remove_old_import_files()
    assert not old_path.exists()
    assert Path(db.session.get(SubscriberImport, new_id).path).exists()
    assert db.session.scalar(select(func.count()).where(SubscriberImport.path == "")) == 1


def test_a_day_old_upload_that_no_import_points_at_is_deleted(app_ctx):
    import os

    orphan = imports.import_folder() / "abandoned.csv"
    orphan.write_text("email\n")
    fresh = imports.import_folder() / "just-now.csv"
    fresh.write_text("email\n")
    two_days_ago = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))
    subscriber_jobs.remove_old_import_files()
    assert not orphan.exists() and fresh.exists()
