"""The editor in Chromium: typing saves the draft, the preview and the checks follow live."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from campaigns.db import db
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD
from tests.support.campaigns import add_subscribers, make_campaign
from tests.support.services import ON_CI

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def server(app):
    """The app served on a loopback port, in a thread."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def page(server, owner):
    if not Path(CHROMIUM).exists():
        if ON_CI:
            pytest.fail(f"{CHROMIUM} is missing (Debian package chromium)")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(f"{server}/login")
        page.fill("input[name=email]", OWNER_EMAIL)
        page.fill("input[name=password]", OWNER_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/**")
        yield page
        browser.close()


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
