"""The whole loop in Chromium, in one-process mode with the file outbox (issue 6's proof).

Log in, create a campaign from a preset, send it to the file outbox, reply as a recipient,
see the conversation appear (an out-of-office stays out), answer it, snooze it, mark it done
with an outcome, and see the funnel update. Screenshots land in tests/artifacts/screenshots.
"""

import re
import time

import pytest

from campaigns.core import subscribers
from campaigns.db import db
from campaigns.models import Campaign
from tests.browser.conftest import screenshot


@pytest.fixture
def app_settings():
    return {"MAIL_URL": "file://", "INPROCESS_WORKER_THREADS": 2}


def reload_until(page, path: str, predicate, timeout: float = 20) -> None:
    """Open a page again and again until the predicate holds for its text."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(path)
        if predicate(page.inner_text("main")):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never showed what was expected")
        time.sleep(0.3)


def test_invite_reply_answer_snooze_finish_and_see_the_funnel(logged_in_page, app, worker):
    page = logged_in_page
    page.on("dialog", lambda dialog: dialog.accept())
    with app.app_context():
        for email, first, company in [("ann@example.com", "Ann", "Acme"),
                                      ("bob@example.com", "Bob", "Initech"),
                                      ("chen@example.com", "Chen", "Globex")]:
            subscribers.create_subscriber(email, first_name=first, company=company)
        db.session.commit()

    page.goto("/campaigns/new")
    page.check("input[name=kind][value=virtual_coffee]")
    page.fill("input[name=name]", "Coffee with founders")
    page.fill("textarea[name=goal], input[name=goal]", "Book three coffees in Berlin")
    page.click("text=Start writing")
    page.wait_for_url(re.compile(r"/campaigns/\d+/edit"))
    page.fill("input[name=from_name]", "Olive Owner")
    page.fill("input[name=from_email]", "olive@example.com")
    page.click("button[name=action][value=save]")
    page.click("text=Send now")
    reload_until(page, "/outbox/", lambda text: text.count("@example.com") >= 3)

    with app.app_context():
        campaign_id = db.session.scalar(db.select(Campaign.id))
    page.click("tr:has-text('bob@example.com') >> text=Open")
    page.fill("textarea[name=text]", "I am out of the office until Monday 7 December "
                                     "with limited access to email.")
    page.click("text=Send reply")
    page.goto("/outbox/")
    page.click("tr:has-text('ann@example.com') >> text=Open")
    page.fill("textarea[name=text]", "Sure! Tuesday at 10 works for me.")
    page.click("text=Send reply")
    reload_until(page, "/", lambda text: "Ann" in text)
    assert "Bob" not in page.inner_text("main")  # the out-of-office stays out of the inbox
    screenshot(page, "inbox")

    page.click("a.row-link:has-text('Ann')")
    assert "Book three coffees in Berlin" in page.inner_text("main")
    assert "Sure! Tuesday at 10 works for me." in page.inner_text("main")
    page.fill("#reply-body", "Great, see you Tuesday at 10 at the Oberholz café.")
    page.click("text=Send reply")
    page.wait_for_selector("text=Reply on its way.")
    assert "Oberholz" in page.inner_text(".thread")
    screenshot(page, "conversation")

    page.click("button[name=preset][value=tomorrow]")
    page.wait_for_selector("text=Snoozed.")
    assert "Ann" not in page.inner_text("#inbox-rows")
    page.goto("/?view=snoozed")
    page.click("a.row-link:has-text('Ann')")
    page.select_option("#outcome-select", "coffee_booked")
    page.click("text=Mark done")
    page.wait_for_selector("text=Marked done.")

    page.goto(f"/campaigns/{campaign_id}")
    funnel = page.inner_text(".results")
    assert re.search(r"Human replies\s*1", funnel), funnel
    assert re.search(r"Finished\s*1", funnel), funnel
    assert "Coffee booked" in funnel and "33.3%" in funnel
    screenshot(page, "campaign-results")
