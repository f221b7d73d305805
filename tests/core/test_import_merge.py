"""Imports merge into the list: fields upserted, consent and suppression never touched."""

import pytest
from sqlalchemy import func, select

from campaigns.core import consent, imports, privacy, subscribers
from campaigns.core.suppression import is_suppressed, suppress
from campaigns.db import db
from campaigns.models import (
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    Subscriber,
    SuppressionReason,
)


@pytest.fixture
def app_settings():
    return {"IMPORT_CHUNK_ROWS": 2}  # several chunks even for small files


def run(text, **options):
    imp = imports.create_import(text.encode(), "people.csv", **options)
    imports.start_import(imp)
    db.session.commit()
    return imports.public_report(imp)


def counts(report):
    return [report[k] for k in ("created", "updated", "unchanged", "skipped", "merged")]


def person(email):
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def test_an_existing_person_is_updated_and_empty_cells_change_nothing(app_ctx):
    run("email,first_name,last_name,company,city\nann@example.com,Ann,Old,Acme,Paris\n")
    report = run("email,first_name,last_name,company,city,team\n"
                 "ANN@example.com,,New,,,Blue\n")
    assert counts(report) == [0, 1, 0, 0, 0]
    ann = person("ann@example.com")
    assert (ann.first_name, ann.last_name, ann.company) == ("Ann", "New", "Acme")
    assert ann.fields == {"city": "Paris", "team": "Blue"}


def test_importing_the_same_file_twice_leaves_everyone_unchanged(app_ctx):
    text = "email,name\na@example.com,A A\nb@example.com,B B\nc@example.com,C C\n"
    assert counts(run(text)) == [3, 0, 0, 0, 0]
    assert counts(run(text)) == [0, 0, 3, 0, 0]


def test_a_new_tag_on_someone_already_listed_counts_as_an_update(app_ctx):
    run("email\na@example.com\nb@example.com\n")
    report = run("email\na@example.com\nb@example.com\nc@example.com\n", tags=["vip"])
    assert counts(report) == [1, 2, 0, 0, 0]
    assert person("a@example.com").tag_names == ["vip"]
    assert counts(run("email\na@example.com\n", tags=["VIP"])) == [0, 0, 1, 0, 0]


def test_an_import_never_changes_consent(app_ctx):
    run("email\nann@example.com\npat@example.com\n")
    consent.unsubscribe(person("ann@example.com"), ConsentSource.ONE_CLICK)
    pending = subscribers.create_subscriber("zed@example.com", status=ConsentStatus.PENDING,
                                            source=ConsentSource.SIGNUP)
    db.session.commit()
    report = run("email,first_name\nann@example.com,Ann\nzed@example.com,Zed\n")
    assert counts(report) == [0, 2, 0, 0, 0]
    assert person("ann@example.com").consent_status == ConsentStatus.UNSUBSCRIBED
    assert person("ann@example.com").first_name == "Ann"
    assert person(pending.email).consent_status == ConsentStatus.PENDING
    assert is_suppressed("ann@example.com")


@pytest.mark.parametrize("reason", list(SuppressionReason))
def test_a_suppressed_address_is_never_added_by_an_import(app_ctx, reason):
    suppress("gone@example.com", reason)
    db.session.commit()
    report = run("email\nnew@example.com\nGone@Example.com\n")
    assert counts(report) == [1, 0, 0, 1, 0]
    assert report["errors"][0]["line"] == 3
    assert report["errors"][0]["reason"].startswith("on the suppression list (")
    assert person("gone@example.com") is None


def test_an_erased_person_is_never_added_back_by_an_import(app_ctx):
    run("email,first_name\nera@example.com,Era\n")
    privacy.erase_person(person("era@example.com"))
    db.session.commit()
    report = run("email,first_name\nera@example.com,Era\n")
    assert report["errors"][0]["reason"] == "on the suppression list (erased at their request)"
    assert db.session.scalar(select(func.count(Subscriber.id))) == 0


def test_rows_across_chunks_are_counted_once_each(app_ctx):
    rows = "".join(f"p{i}@example.com,Person {i}\n" for i in range(7))
    report = run("email,name\n" + rows + "p1@example.com,Again\nbad\n")
    assert counts(report) == [7, 0, 0, 1, 1]
    assert report["total_rows"] == 9
    assert db.session.scalar(select(func.count(Subscriber.id))) == 7


def test_a_queued_import_resumes_after_the_last_chunk_it_finished(app_ctx):
    text = "email\n" + "".join(f"p{i}@example.com\n" for i in range(5))
    imp = imports.create_import(text.encode(), "people.csv")
    imp.status = ImportStatus.RUNNING
    db.session.commit()
    seen = []

    def crash_after_first_chunk(current):
        db.session.commit()
        seen.append(current.processed_rows)
        if len(seen) == 1:
            raise ConnectionError("the database went away")
    with pytest.raises(ConnectionError):
        imports.run_import(imp, on_chunk=crash_after_first_chunk)
    db.session.rollback()
    report = imports.run_import(imp)  # what a retry of the actor does
    db.session.commit()
    assert seen == [2]
    assert [report[k] for k in ("created", "updated", "unchanged")] == [5, 0, 0]


def test_a_field_too_long_for_its_column_is_cut_not_refused(app_ctx):
    run(f"email,first_name\nlong@example.com,{'x' * 500}\n")
    assert len(person("long@example.com").first_name) == 200
