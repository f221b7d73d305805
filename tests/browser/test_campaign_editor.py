"""The editor in Chromium: typing saves the draft, the preview and the checks follow live."""

from __future__ import annotations

import pytest

from campaigns.db import db
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD
from tests.support.campaigns import add_subscribers, make_campaign

pytestmark = pytest.mark.browser


@pytest.fixture
def server(live_server):
    """The app served on a loopback port (the shared browser fixtures)."""
    return live_server


@pytest.fixture
def page(browser, server, owner):
    """A wide tab logged in as the owner."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=email]", OWNER_EMAIL)
    page.fill("input[name=password]", OWNER_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/**")
    yield page
    context.close()


def test_typing_updates_the_preview_and_an_error_jumps_to_its_line(app, server, page):
    with app.app_context():
        add_subscribers(2, first_name="Grace")
        campaign_id = make_campaign().id
        db.session.remove()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/campaigns/{campaign_id}/edit")
    assert page.inner_text(".preview-subject") == "Subject Coffee, Grace?"

    page.fill("#subject", "Tea, {{ first_name }}?")
    page.wait_for_selector(".preview-subject:has-text('Tea, Grace?')")
    frame = page.frame_locator(".frame.phone iframe")
    assert "Hi Grace," in frame.locator("body").inner_text()
    width = page.eval_on_selector(".frame.phone iframe", "e => e.getBoundingClientRect().width")
    assert width == 375

    body = page.input_value("#body_mjml")
    page.fill("#body_mjml", body.replace("</mj-column>\n", "", 1))
    page.wait_for_selector("button.jump[data-line='4']")
    page.click("button.jump[data-line='4']")
    selected = page.evaluate("(() => { const t = document.getElementById('body_mjml');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); })()")
    assert selected.strip() == "<mj-column>"
    assert errors == []  # no CSP violation, no script error
