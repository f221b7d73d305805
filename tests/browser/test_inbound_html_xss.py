"""An XSS suite: hostile inbound HTML shown in the conversation page in real Chromium.

Every message goes through understand() (parse, sanitise) into a conversation; the page is
opened with every "original formatting" frame expanded. Nothing may run, navigate or fetch:
0 dialogs, 0 script messages, 0 requests to any other origin.
"""

from email.message import EmailMessage

from campaigns.db import db
from campaigns.mail.inbound.understand import understand
from campaigns.models import (
    Direction,
    FollowUpMessage,
    InboundKind,
    InboundMessage,
    ReceivedVia,
)
from tests.browser.conftest import screenshot
from tests.browser.hostile_html import PAYLOADS
from tests.support import factories


def hostile_email(n: int, html: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@example.com>"
    message["To"] = "reply+token@reply.campaigns.test"
    message["Subject"] = f"Re: Coffee? ({n})"
    message["Message-ID"] = f"<hostile-{n}@example.com>"
    message.set_content(f"Plain text part {n} <script>alert(1)</script>")
    message.add_alternative(f"<html><body><p>Reply {n}</p>{html}</body></html>", subtype="html")
    return message.as_bytes()


def seed_hostile_conversation(app) -> int:
    with app.app_context():
        person = factories.subscriber(first_name="<img src=x onerror=alert(1)>")
        followup = factories.followup(person, factories.campaign())
        for n, payload in enumerate(PAYLOADS):
            raw = hostile_email(n, payload)
            understood = understand(raw)
            inbound = InboundMessage(
                dedupe_key=understood.message_id, message_id=understood.message_id,
                content_hash=str(n), raw=raw, size=len(raw), received_via=ReceivedVia.WEBHOOK,
                kind=InboundKind(understood.kind.value), new_text=understood.new_text,
                quoted_text=understood.quoted_text, html=understood.html,
                subject=understood.subject)
            db.session.add(inbound)
            db.session.flush()
            db.session.add(FollowUpMessage(followup=followup, direction=Direction.INBOUND,
                                           text=understood.new_text, inbound_message_id=inbound.id))
        db.session.commit()
        return followup.id


def watch(page, origin: str) -> dict:
    """Count dialogs, script messages and requests to other origins; block the latter."""
    seen = {"dialogs": [], "foreign_requests": [], "script_messages": []}
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))

    def route(route_request):
        url = route_request.request.url
        if url.startswith(origin) or url.startswith(("data:", "about:", "blob:")):
            route_request.continue_()
        else:
            seen["foreign_requests"].append(url)
            route_request.abort()

    page.context.route("**/*", route)
    page.on("console", lambda msg: seen["script_messages"].append(msg.text)
            if "xss" in msg.text else None)
    return seen


def test_hostile_inbound_html_cannot_run_navigate_or_phone_home(logged_in_page, app,
                                                               live_server):
    assert len(PAYLOADS) >= 50
    followup_id = seed_hostile_conversation(app)
    page = logged_in_page
    seen = watch(page, live_server)
    page.goto(f"/inbox/{followup_id}")
    page.evaluate("""() => {
        window.__xss = [];
        window.addEventListener('message', e => { window.__xss.push(String(e.data)); });
        document.querySelectorAll('details').forEach(d => d.open = true);
    }""")
    frames = page.locator("iframe.original")
    assert frames.count() == len(PAYLOADS)
    for index in range(frames.count()):
        frames.nth(index).scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    page.mouse.move(400, 400)
    posted = page.evaluate("() => window.__xss")
    screenshot(page, "xss-conversation")

    assert seen["dialogs"] == []
    assert posted == [] and seen["script_messages"] == []
    assert seen["foreign_requests"] == []
    assert page.url.endswith(f"/inbox/{followup_id}")


def test_the_message_frame_url_is_inert_when_opened_directly(logged_in_page, app, live_server):
    followup_id = seed_hostile_conversation(app)
    page = logged_in_page
    seen = watch(page, live_server)
    with app.app_context():
        ids = db.session.scalars(db.select(FollowUpMessage.inbound_message_id).where(
            FollowUpMessage.followup_id == followup_id)).all()
    for inbound_id in ids[:20]:
        page.goto(f"/inbox/messages/{inbound_id}/html")
        page.wait_for_timeout(50)
    assert seen["dialogs"] == [] and seen["foreign_requests"] == []
