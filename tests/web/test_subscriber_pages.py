"""The subscriber pages: the list and its bulk actions, a person's page, the import wizard."""

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.core import subscribers
from campaigns.db import db
from campaigns.models import (
    ConsentEvent,
    ImportStatus,
    Subscriber,
    SubscriberImport,
    SubscriberNote,
    Suppression,
)
from tests.support.web import post_form

FILES = Path(__file__).parent.parent / "files" / "imports"


@pytest.fixture
def people(app, logged_in):
    with app.app_context():
        ids = {}
        for i, (email, tags) in enumerate([("ann@example.com", ["vip"]),
                                           ("bob@example.com", []),
                                           ("cat@example.com", ["vip"])]):
            person = subscribers.create_subscriber(email, first_name=email[:3].title(),
                                                   company="=HYPERLINK(1)" if i == 1 else "",
                                                   tags=tags)
            ids[email] = person.id
        db.session.commit()
    return ids


def emails(app, **where):
    with app.app_context():
        return sorted(db.session.scalars(select(Subscriber.email).filter_by(**where)))


def tags_of(app, email):
    with app.app_context():
        return subscribers.find_by_email(email).tag_names


def test_the_list_searches_and_filters(logged_in, people):
    page = logged_in.get("/subscribers/?q=bob").get_data(as_text=True)
    assert "bob@example.com" in page and "ann@example.com" not in page
    page = logged_in.get("/subscribers/?tag=vip").get_data(as_text=True)
    assert "ann@example.com" in page and "bob@example.com" not in page
    assert "2 people match" in " ".join(page.split())


def test_bulk_tag_and_untag_the_ticked_people(app, logged_in, people):
    post_form(logged_in, "/subscribers/bulk", {"action": "tag", "bulk_tag": "berlin",
                                               "ids": [people["ann@example.com"],
                                                       people["bob@example.com"]]},
              page="/subscribers/")
    assert tags_of(app, "bob@example.com") == ["berlin"]
    post_form(logged_in, "/subscribers/bulk", {"action": "untag", "bulk_tag": "VIP",
                                               "scope": "all", "q": "example"},
              page="/subscribers/")
    assert tags_of(app, "ann@example.com") == ["berlin"]
    assert tags_of(app, "cat@example.com") == []


def test_bulk_delete_of_everyone_matching_a_filter(app, logged_in, people):
    response = post_form(logged_in, "/subscribers/bulk", {"action": "delete", "scope": "all",
                                                          "tag": "vip"}, page="/subscribers/")
    assert response.status_code == 302 and "tag=vip" in response.headers["Location"]
    assert emails(app) == ["bob@example.com"]


def test_a_bulk_action_with_nobody_selected_changes_nothing(app, logged_in, people):
    response = post_form(logged_in, "/subscribers/bulk", {"action": "delete"},
                         page="/subscribers/", follow_redirects=True)
    assert "Select people first" in response.get_data(as_text=True)
    assert len(emails(app)) == 3


def test_the_csv_export_of_the_filtered_list_neutralises_formulas(logged_in, people):
    response = logged_in.get("/subscribers/export.csv?q=bob")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["company"]) for r in rows] == [("bob@example.com", "'=HYPERLINK(1)")]


def test_bulk_export_of_the_ticked_people(logged_in, people):
    response = post_form(logged_in, "/subscribers/bulk", {
        "action": "export", "ids": [people["cat@example.com"]]}, page="/subscribers/")
    assert [r["email"] for r in csv.DictReader(io.StringIO(response.get_data(True)))] == [
        "cat@example.com"]


def test_adding_a_person_by_hand(app, logged_in):
    response = post_form(logged_in, "/subscribers/new", {
        "email": "Dee@Example.com", "first_name": "Dee", "tags": "friends, berlin"},
        page="/subscribers/new")
    assert response.status_code == 302
    assert tags_of(app, "dee@example.com") == ["berlin", "friends"]
    again = post_form(logged_in, "/subscribers/new", {"email": "dee@example.com"},
                      page="/subscribers/new")
    assert "already on the list" in again.get_data(as_text=True)


def test_a_person_page_shows_the_timeline_and_takes_notes_and_edits(app, logged_in, people):
    url = f"/subscribers/{people['ann@example.com']}"
    post_form(logged_in, f"{url}/notes", {"body": "Met at PyCon"}, page=url)
    post_form(logged_in, f"{url}/edit", {"email": "ann@example.com", "first_name": "Annie",
                                         "last_name": "Lee", "company": "Acme"}, page=url)
    post_form(logged_in, f"{url}/fields", {"field_key": ["city", ""],
                                           "field_value": ["Oslo", ""]}, page=url)
    post_form(logged_in, f"{url}/tags", {"tags": "speaker"}, page=url)
    post_form(logged_in, f"{url}/tags/remove", {"tag": "vip"}, page=url)
    page = logged_in.get(url).get_data(as_text=True)
    assert "Met at PyCon" in page and "Note by Olive Owner" in page
    assert "Subscribed (manual)" in page
    with app.app_context():
        ann = db.session.get(Subscriber, people["ann@example.com"])
        assert (ann.first_name, ann.company, ann.fields, ann.tag_names) == (
            "Annie", "Acme", {"city": "Oslo"}, ["speaker"])


def test_a_user_records_an_unsubscribe_but_cannot_resubscribe_anyone(app, logged_in, people):
    url = f"/subscribers/{people['bob@example.com']}"
    post_form(logged_in, f"{url}/unsubscribe", page=url)
    page = logged_in.get(url).get_data(as_text=True)
    assert "Only Bob can re-subscribe" in page
    assert "/signup?form=" in page
    assert emails(app, consent_status="unsubscribed") == ["bob@example.com"]
    assert not any("resubscribe" in rule.rule for rule in app.url_map.iter_rules())


def test_a_manual_suppression_can_be_lifted_but_no_other(app, logged_in, people):
    url = f"/subscribers/{people['cat@example.com']}"
    post_form(logged_in, f"{url}/suppress", page=url)
    post_form(logged_in, f"{url}/unsuppress", page=url)
    with app.app_context():
        assert db.session.scalar(select(func.count(Suppression.id))) == 0
    post_form(logged_in, f"{url}/unsubscribe", page=url)
    response = post_form(logged_in, f"{url}/unsuppress", page=url, follow_redirects=True)
    assert "Only a manual suppression can be lifted" in response.get_data(as_text=True)


def test_erasing_needs_the_address_typed_and_then_leaves_only_the_hash(app, logged_in, people):
    url = f"/subscribers/{people['ann@example.com']}"
    post_form(logged_in, f"{url}/erase", {"confirm_email": "wrong@example.com"}, page=url)
    assert "ann@example.com" in emails(app)
    post_form(logged_in, f"{url}/erase", {"confirm_email": "ANN@example.com"}, page=url)
    assert "ann@example.com" not in emails(app)
    with app.app_context():
        assert db.session.scalar(select(Suppression.reason)) == "erased"
        assert db.session.scalar(select(func.count(SubscriberNote.id))) == 0


def test_the_privacy_export_downloads_json(logged_in, people):
    response = logged_in.get(f"/subscribers/{people['ann@example.com']}/export.json")
    assert response.json["subscriber"]["email"] == "ann@example.com"
    assert "attachment" in response.headers["Content-Disposition"]


def test_an_unknown_person_is_a_404_page(logged_in):
    assert logged_in.get("/subscribers/999").status_code == 404


def upload(client, name_or_bytes, filename="Connections.csv", tags=""):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FILES / name_or_bytes) \
        .read_bytes()
    return post_form(client, "/subscribers/import", {"file": (io.BytesIO(data), filename),
                                                     "tags": tags},
                     page="/subscribers/import", content_type="multipart/form-data")


def test_the_wizard_uploads_maps_previews_and_imports_a_linkedin_export(app, logged_in):
    response = upload(logged_in, "linkedin_connections.csv", tags="linkedin")
    mapping_url = response.headers["Location"]
    page = logged_in.get(mapping_url).get_data(as_text=True)
    assert "LinkedIn Connections export" in page and "the header is on line 4" in page
    assert "ada@analytical.example" in page and "Skipped: no email address" in page
    columns = {f"column-{i}": t for i, t in enumerate(
        ["first_name", "last_name", "ignore", "email", "company", "field", "ignore"])}
    run_url = mapping_url.replace("/map", "/run")
    response = post_form(logged_in, run_url, {**columns, "tags": "linkedin, 2024"},
                         page=mapping_url, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Imported: 3 added, 0 updated, 2 skipped." in page
    assert re.search(r"<td>6</td><td></td><td>no email address</td>", page)
    with app.app_context():
        ada = subscribers.find_by_email("ada@analytical.example")
        assert ada.fields == {"position": "Countess of Computing"}  # url, connected_on ignored
        assert ada.tag_names == ["2024", "linkedin"]


def test_the_mapping_preview_updates_for_htmx(app, logged_in):
    mapping_url = upload(logged_in, b"Contact,Who\nann@example.com,Ann\n").headers["Location"]
    page = logged_in.get(mapping_url).get_data(as_text=True)
    assert "No column was recognised as the email address" in page
    response = post_form(logged_in, mapping_url, {"column-0": "email", "column-1": "name"},
                         page=mapping_url, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card" id="preview">')
    assert "ann@example.com" in fragment and "<td>Ann </td>" in fragment


def test_running_without_an_email_column_is_refused_and_changes_nothing(app, logged_in):
    mapping_url = upload(logged_in, b"Contact,Who\nann@example.com,Ann\n").headers["Location"]
    response = post_form(logged_in, mapping_url.replace("/map", "/run"),
                         {"column-0": "field", "column-1": "name"}, page=mapping_url,
                         follow_redirects=True)
    assert "no email column" in response.get_data(as_text=True)
    assert emails(app) == []


def test_an_upload_that_is_not_a_csv_gets_one_clear_error(app, logged_in):
    response = upload(logged_in, b"PK\x03\x04" + b"\x00" * 100, "people.xlsx")
    assert response.status_code == 200
    assert "spreadsheet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(SubscriberImport.id))) == 0


@pytest.fixture
def app_settings():
    return {"IMPORT_INLINE_ROWS": 20, "IMPORT_CHUNK_ROWS": 10}


def test_a_big_import_runs_in_a_worker_with_a_progress_bar_then_a_report(app, logged_in,
                                                                         worker):
    text = "email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(45))
    mapping_url = upload(logged_in, (text + "oops,Bad\n").encode(), "big.csv") \
        .headers["Location"]
    response = post_form(logged_in, mapping_url.replace("/map", "/run"),
                         {"column-0": "email", "column-1": "first_name"}, page=mapping_url)
    show_url = response.headers["Location"]
    progress = logged_in.get(show_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in progress and "<progress" in progress
    worker.drain()
    done = logged_in.get(show_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in done  # polling stops
    assert "<dt>Added</dt><dd>45</dd>" in done and "<dt>Skipped</dt><dd>1</dd>" in done
    report = logged_in.get(show_url + "/report.csv")
    assert report.get_data(as_text=True).splitlines()[1].startswith("47,oops,skipped,")
    with app.app_context():
        imp = db.session.scalar(select(SubscriberImport))
        assert (imp.status, imp.processed_rows, imp.total_rows) == (ImportStatus.DONE, 46, 46)
        assert db.session.scalar(select(func.count(ConsentEvent.id))) == 45


def test_the_segment_editor_counts_live_and_saves(app, logged_in, people):
    form = {"name": "VIPs", "match": "all", "cond-0-type": "tag", "cond-0-value": "vip",
            "cond-0-field": "email", "cond-0-op": "is", "cond-0-campaign_id": ""}
    count = post_form(logged_in, "/subscribers/segments/count", form,
                      page="/subscribers/segments/new").get_data(as_text=True)
    assert "<strong>2</strong> people can be emailed now" in count
    added = post_form(logged_in, "/subscribers/segments/new", {**form, "add": "1"},
                      page="/subscribers/segments/new").get_data(as_text=True)
    assert 'name="cond-1-type"' in added  # "add a condition" works without JavaScript
    response = post_form(logged_in, "/subscribers/segments/new", {**form, "save": "1"},
                         page="/subscribers/segments/new")
    assert response.status_code == 302
    listing = logged_in.get("/subscribers/segments/").get_data(as_text=True)
    assert "VIPs" in listing and "has tag vip" in listing
    filtered = logged_in.get("/subscribers/?segment=1").get_data(as_text=True)
    assert "cat@example.com" in filtered and "bob@example.com" not in filtered


def test_the_signup_form_page_gives_a_snippet_posting_to_the_public_url(logged_in):
    page = logged_in.get("/subscribers/signup-form?tag=webinar").get_data(as_text=True)
    assert "action=&#34;http://campaigns.test/signup&#34;" in page  # escaped in the textarea
    assert "tagged “webinar”" in page


def test_the_suppression_list_page_adds_searches_and_lifts_manual_entries(app, logged_in):
    post_form(logged_in, "/subscribers/suppressions", {"email": "Spam@Example.com",
                                                       "detail": "asked never to be mailed"},
              page="/subscribers/suppressions")
    page = logged_in.get("/subscribers/suppressions?q=spam").get_data(as_text=True)
    assert "spam@example.com" in page and "asked never to be mailed" in page
    with app.app_context():
        entry_id = db.session.scalar(select(Suppression.id))
    post_form(logged_in, f"/subscribers/suppressions/{entry_id}/lift",
              page="/subscribers/suppressions")
    with app.app_context():
        assert db.session.scalar(select(func.count(Suppression.id))) == 0
