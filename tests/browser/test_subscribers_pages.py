"""The subscriber pages in Chromium: htmx live counts and previews, select-all, no CSP errors."""

from pathlib import Path

import pytest

from campaigns.core import subscribers
from campaigns.db import db
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD

FILES = Path(__file__).parent.parent / "files" / "imports"


@pytest.fixture
def live_url(app, owner, live_server):
    with app.app_context():
        for email, tags in [("ann@example.com", ["vip"]), ("bob@example.com", []),
                            ("cat@example.com", ["vip"])]:
            subscribers.create_subscriber(email, tags=tags)
        db.session.commit()
    return live_server


@pytest.fixture
def page(browser, live_url):
    context = browser.new_context()
    tab = context.new_page()
    problems = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.goto(f"{live_url}/login")
    tab.fill("input[name=email]", OWNER_EMAIL)
    tab.fill("input[name=password]", OWNER_PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{live_url}/")
    yield tab
    context.close()
    assert problems == []  # no CSP violations, no failed scripts


def test_the_segment_count_follows_the_rules_as_they_are_typed(page, live_url):
    page.goto(f"{live_url}/subscribers/segments/new")
    page.select_option("select[name=cond-0-type]", "tag")
    page.fill("input[name=cond-0-value]", "vip")
    page.wait_for_selector("#segment-count strong:text('2')")
    page.select_option("select[name=cond-0-negate]", "1")
    page.wait_for_selector("#segment-count strong:text('1')")
    assert not page.is_visible("select[name=cond-0-campaign_id]")  # only what the type needs


def test_changing_a_column_updates_the_preview_without_reloading(page, live_url):
    from playwright.sync_api import expect

    page.goto(f"{live_url}/subscribers/import")
    page.set_input_files("input[name=file]", str(FILES / "linkedin_connections.csv"))
    page.click("text=Upload and choose columns")
    page.wait_for_selector("#preview")
    assert "Analytical Engines Ltd" in page.inner_text("#preview")
    page.select_option("select[name=column-4]", "ignore")
    expect(page.locator("#preview")).not_to_contain_text("Analytical Engines Ltd")
    page.click("text=Import 5 rows")
    page.wait_for_selector("text=Imported: 3 added")


def test_select_all_ticks_every_row_on_the_page(page, live_url):
    page.goto(f"{live_url}/subscribers/")
    page.check("input.select-all")
    assert page.locator("input[name=ids]:checked").count() == 3
