"""Importing the files people really have: each report is exactly right."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.core import imports
from campaigns.db import db
from campaigns.errors import ValidationError
from campaigns.models import ConsentEvent, Subscriber, SubscriberImport

FILES = Path(__file__).parent.parent / "files" / "imports"


def run(name_or_bytes, filename="upload.csv", **options):
    """Import a file from tests/files/imports (or raw bytes); return the public report."""
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FILES / name_or_bytes) \
        .read_bytes()
    imp = imports.create_import(data, filename, **options)
    assert imports.start_import(imp) is False
    db.session.commit()
    return imports.public_report(imp)


def counts(report):
    return {k: report[k] for k in ("created", "updated", "unchanged", "skipped", "merged",
                                   "total_rows")}


def person(email):
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def test_a_linkedin_export_is_read_past_its_notes_and_rows_without_email_are_listed(app_ctx):
    report = run("linkedin_connections.csv", "Connections.csv", tags=["linkedin"])
    assert counts(report) == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 2,
                              "merged": 0, "total_rows": 5}
    assert report["errors"] == [
        {"line": 6, "email": "", "reason": "no email address"},
        {"line": 8, "email": "", "reason": "no email address"}]
    grace = person("grace.hopper@navy.example")
    assert (grace.first_name, grace.last_name, grace.company) == ("Grace", "Hopper",
                                                                  "US Navy, Reserve")
    assert grace.fields == {"url": "https://www.linkedin.com/in/grace-hopper",
                            "position": "Rear Admiral", "connected_on": "30 Nov 2021"}
    assert grace.tag_names == ["linkedin"]
    assert grace.consent_status == "subscribed" and grace.consent_source == "import"


def test_a_windows_1252_file_with_semicolons_keeps_its_accents(app_ctx):
    report = run("excel_windows1252.csv")
    assert counts(report)["created"] == 3 and report["errors"] == []
    renee = person("renee.noel@exemple.fr")
    assert (renee.first_name, renee.last_name) == ("Renée", "Noël")
    assert renee.company == "Société Générale d'Études — 5€"
    assert renee.fields == {"ville": "Nîmes"}
    imp = db.session.scalar(select(SubscriberImport))
    assert (imp.options["encoding"], imp.options["delimiter"]) == ("windows-1252", ";")


def test_a_utf8_file_with_a_byte_order_mark_finds_its_first_column(app_ctx):
    report = run("excel_utf8_bom.csv")
    assert counts(report) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0,
                              "merged": 0, "total_rows": 2}
    mei = person("mei@example.com")
    assert (mei.first_name, mei.last_name, mei.company) == ("美玲", "王", "Łódź Labs")
    assert mei.tag_names == ["2024", "founders"]
    assert person("søren@example.dk").first_name == "Søren"  # the address is lower-cased


def test_a_utf16_tab_separated_file_is_read(app_ctx):
    report = run("unicode_text_utf16.txt")
    assert counts(report)["created"] == 2
    assert person("emilie@example.fr").last_name == "du Châtelet"


def test_bad_rows_duplicates_and_line_breaks_inside_names_are_reported_by_line(app_ctx):
    report = run("bad_rows.csv")
    assert counts(report) == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 4,
                              "merged": 2, "total_rows": 9}
    assert [(e["line"], e["email"]) for e in report["errors"]] == [
        (3, "not-an-email"), (4, ""), (9, "two@@example.org"), (10, "lise@example.org")]
    assert report["errors"][1]["reason"] == "no email address"
    assert report["errors"][0]["reason"].startswith("not a valid email address: ")
    assert "6 columns but the header has 4" in report["errors"][3]["reason"]
    assert report["duplicates"] == [
        {"line": 5, "email": "rosalind@example.org",
         "reason": "same address as line 2; merged into it"},
        {"line": 12, "email": "marie@example.org",
         "reason": "same address as line 6; merged into it"}]
    marie = person("marie@example.org")
    assert (marie.first_name, marie.last_name) == ("Marie Salomea", "Skłodowska Curie")
    assert person("rosalind@example.org").first_name == "Rosalind"  # the first row wins


def test_the_report_csv_lists_every_skipped_and_merged_row_in_line_order(app_ctx):
    run("bad_rows.csv")
    imp = db.session.scalar(select(SubscriberImport))
    rows = list(imports.report_rows(imp))
    assert rows[0] == ["line", "email", "outcome", "reason"]
    assert [(r[0], r[2]) for r in rows[1:]] == [(3, "skipped"), (4, "skipped"), (5, "merged"),
                                                (9, "skipped"), (10, "skipped"),
                                                (12, "merged")]


def test_a_google_contacts_export_uses_its_labels_as_tags_and_keeps_other_addresses(app_ctx):
    report = run("google_contacts.csv")
    assert counts(report)["created"] == 2
    mary = person("mary@nasa.example")
    assert mary.company == "NASA"
    assert mary.tag_names == ["Friends"]  # Google's "* myContacts" is not a tag
    assert mary.fields["other_emails"] == "mjackson@nasa.example"
    assert person("dorothy@naca.example").fields["email_2"] == "dot@home.example"


def test_an_outlook_export_is_recognised(app_ctx):
    assert counts(run("outlook_contacts.csv"))["created"] == 2
    frances = person("fran@ibm.example")
    assert (frances.first_name, frances.company) == ("Frances", "IBM")
    assert frances.fields["email_2"] == "frances.allen@ibm.example"


def test_vcards_use_the_preferred_address_and_decode_quoted_printable(app_ctx):
    report = run("contacts.vcf", "contacts.vcf")
    assert counts(report) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1,
                              "merged": 0, "total_rows": 3}
    assert report["errors"] == [{"line": 18, "email": "", "reason": "no email address"}]
    claude = person("claude@home.example")
    assert (claude.first_name, claude.last_name, claude.company) == ("Claude", "Shannon",
                                                                     "Bell Labs")
    assert claude.fields["note"] == "Information theory, juggling\nand unicycles"
    assert claude.fields["other_emails"] == "claude@bell.example"
    assert person("kurt@ias.example").last_name == "Gödel"


def test_a_plain_list_of_addresses_without_a_header_imports_every_line(app_ctx):
    report = run(b"ann@example.com\nbob@example.com\nnot an address\n")
    assert counts(report)["created"] == 2
    assert [e["line"] for e in report["errors"]] == [3]


def test_a_full_name_column_is_split_into_first_and_last_name(app_ctx):
    run(b"Name,Email\nAda King Lovelace,ada@example.com\nPlato,plato@example.com\n")
    assert (person("ada@example.com").first_name, person("ada@example.com").last_name) == (
        "Ada King", "Lovelace")
    assert person("plato@example.com").first_name == "Plato"


def test_map_options_name_the_email_column_and_custom_fields(app_ctx):
    data = b"Mail;Role;Junk\nann@example.com;CTO;x\n"
    report = run(data, overrides={"Mail": "email", "Role": "fields.title", "3": "ignore"})
    assert counts(report)["created"] == 1
    assert person("ann@example.com").fields == {"title": "CTO"}


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \r\n\r\n", "empty"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "spreadsheet"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"\x00\x01\x02\x03\x04binary" * 50, "binary"),
    (b"email,name\n", "no rows"),
    (b"Name,Company\nAda,Analytical\n", "no email column"),
    (b'email,name\nann@example.com,"Ann\nbob@example.com,Bob\n', "never closed"),
])
def test_a_file_that_cannot_be_imported_gets_one_clear_error_and_changes_nothing(
        app_ctx, data, message):
    with pytest.raises(ValidationError, match=message):
        imports.create_import(data, "upload.csv")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Subscriber.id))) == 0
    assert db.session.scalar(select(func.count(SubscriberImport.id))) == 0
    assert not list(imports.import_folder().iterdir())


def test_the_no_email_column_error_names_the_columns_and_the_fix(app_ctx):
    with pytest.raises(ValidationError) as error:
        imports.create_import(b"Name,Company\nAda,Analytical\n", "upload.csv")
    assert "'Name', 'Company'" in error.value.message
    assert "--map" in error.value.message


def test_every_person_created_gets_a_consent_event_naming_the_import(app_ctx):
    run("linkedin_connections.csv", "Connections.csv")
    details = set(db.session.scalars(select(ConsentEvent.detail)))
    assert details == {"Imported from Connections.csv (import #1)"}
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 3
