"""`campaigns subscribers import|export|erase`."""

import csv
import io
import json
from pathlib import Path

from sqlalchemy import func, select

from campaigns.db import db
from campaigns.models import Subscriber, SubscriberImport

FILES = Path(__file__).parent / "files" / "imports"


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Subscriber.id)))


def test_import_prints_the_report_with_every_skipped_line(runner, app):
    result = runner.invoke(args=["subscribers", "import", str(FILES / "bad_rows.csv"),
                                 "--tag", "cli"])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged, 2 merged duplicates, 4 skipped (of 9 rows)." \
        in result.output
    assert "line 3: not a valid email address" in result.output
    assert "line 4: no email address" in result.output
    assert "Importing" in result.output  # the progress bar
    with app.app_context():
        assert db.session.scalar(select(SubscriberImport.status)) == "done"


def test_map_options_and_json_output(runner, app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Contact\tRole\nann@example.com\tCTO\n")
    result = runner.invoke(args=["subscribers", "import", str(path), "--map", "Contact=email",
                                 "--map", "Role=fields.role", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["created"] == 1


def test_a_file_that_is_not_a_csv_fails_clearly_and_changes_nothing(runner, app, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 1
    assert "Error: This file is a spreadsheet" in result.output
    assert count(app) == 0


def test_a_file_without_an_email_column_names_the_columns(runner, app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Name,Company\nAda,Engines\n")
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 1 and "'Name', 'Company'" in result.output


def test_export_writes_csv_and_erase_removes_a_person(runner, app):
    runner.invoke(args=["subscribers", "import", str(FILES / "linkedin_connections.csv")])
    result = runner.invoke(args=["subscribers", "export"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert sorted(r["email"] for r in rows) == ["ada@analytical.example",
                                                "grace.hopper@navy.example",
                                                "katherine@nasa.example"]
    result = runner.invoke(args=["subscribers", "erase", "ada@analytical.example", "--yes"])
    assert result.exit_code == 0 and "suppression list" in result.output
    assert count(app) == 2
