"""Signup with double opt-in, through a real SMTP server: the only way back onto the list."""

import re
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import select

from campaigns.core import consent, privacy, subscribers
from campaigns.core.audience import can_receive
from campaigns.core.signup import form_token
from campaigns.core.suppression import suppress
from campaigns.db import db
from campaigns.models import ConsentSource, Subscriber, SuppressionReason
from tests.support.smtp import SmtpServer

LINK = re.compile(r"http://campaigns\.test(/signup/confirm/\S+)")


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def app_settings(smtp):
    return {"MAIL_URL": smtp.url, "SIGNUP_FROM_NAME": "Olive's list",
            "SIGNUP_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def public(app):
    return app.test_client(use_cookies=False)


def sign_up(public, worker, email="new@example.com", **extra):
    response = public.post("/signup", data={"email": email, **extra})
    worker.drain()
    return response


def confirmation_path(smtp, index=-1):
    message = message_from_bytes(smtp.handler.messages[index].data, policy=default)
    return LINK.search(message.get_body(("plain",)).get_content()).group(1), message


def person(app, email):
    with app.app_context():
        found = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        return None if found is None else (found.consent_status, can_receive(found),
                                           found.tag_names)


def test_signing_up_sends_a_confirmation_and_only_the_confirm_button_subscribes(
        app, public, worker, smtp):
    response = sign_up(public, worker, "New@Example.com", first_name="Nia")
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert person(app, "new@example.com") == ("pending", False, [])
    path, message = confirmation_path(smtp)
    assert smtp.handler.messages[-1].recipients == ["new@example.com"]
    assert message["To"] == "new@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Olive's list" in message["Subject"]
    assert public.get(path).status_code == 200  # a scanner following the link
    assert person(app, "new@example.com")[0] == "pending"
    response = public.post(path)
    assert response.status_code == 200 and "You are subscribed" in response.get_data(True)
    assert person(app, "new@example.com") == ("subscribed", True, [])
    assert public.post(path).status_code == 200  # a second click changes nothing


def test_the_embedded_form_tags_people_when_they_confirm(app, public, worker, smtp):
    with app.test_request_context():
        token = form_token("webinar")
    sign_up(public, worker, form=token)
    public.post(confirmation_path(smtp)[0])
    assert person(app, "new@example.com") == ("subscribed", True, ["webinar"])


def test_a_tampered_form_field_adds_no_tag(app, public, worker, smtp):
    sign_up(public, worker, form="eyJ0YWciOiJhZG1pbiJ9.forged")
    public.post(confirmation_path(smtp)[0])
    assert person(app, "new@example.com")[2] == []


def test_an_unsubscribed_person_comes_back_only_by_confirming(app, public, worker, smtp):
    with app.app_context():
        ann = subscribers.create_subscriber("ann@example.com")
        consent.unsubscribe(ann, ConsentSource.ONE_CLICK)
        db.session.commit()
    sign_up(public, worker, "ann@example.com")
    assert person(app, "ann@example.com")[:2] == ("unsubscribed", False)
    public.post(confirmation_path(smtp)[0])
    assert person(app, "ann@example.com")[:2] == ("subscribed", True)


def test_an_erased_person_can_come_back_by_confirming(app, public, worker, smtp):
    with app.app_context():
        privacy.erase_person(subscribers.create_subscriber("era@example.com"))
        db.session.commit()
    sign_up(public, worker, "era@example.com")
    assert person(app, "era@example.com")[:2] == ("pending", False)
    public.post(confirmation_path(smtp)[0])
    assert person(app, "era@example.com")[:2] == ("subscribed", True)


def test_a_manual_suppression_is_not_lifted_by_signing_up(app, public, worker, smtp):
    with app.app_context():
        suppress("blocked@example.com", SuppressionReason.MANUAL)
        db.session.commit()
    response = sign_up(public, worker, "blocked@example.com")
    assert "Check your inbox" in response.get_data(as_text=True)  # tells a stranger nothing
    assert smtp.handler.messages == []
    assert person(app, "blocked@example.com") is None


def test_someone_already_subscribed_gets_no_email_and_the_same_page(app, public, worker, smtp):
    with app.app_context():
        subscribers.create_subscriber("ann@example.com")
        db.session.commit()
    assert "Check your inbox" in sign_up(public, worker, "ann@example.com").get_data(True)
    assert smtp.handler.messages == []


def test_repeated_signups_send_one_confirmation_per_ten_minutes(app, public, worker, smtp):
    for _ in range(3):
        sign_up(public, worker)
    assert len(smtp.handler.messages) == 1


def test_the_honeypot_field_catches_bots(app, public, worker, smtp):
    response = sign_up(public, worker, website="http://spam.example")
    assert response.status_code == 200
    assert smtp.handler.messages == [] and person(app, "new@example.com") is None


def test_an_invalid_address_shows_the_form_again_with_an_error(public, worker):
    response = sign_up(public, worker, "not an address")
    assert response.status_code == 422
    assert "does not look like an email address" in response.get_data(as_text=True)


def test_an_altered_or_expired_confirmation_link_is_refused(app, public, worker, smtp):
    sign_up(public, worker)
    path, _ = confirmation_path(smtp)
    assert public.post(path[:-3] + "xyz").status_code == 400
    app.config["SIGNUP_CONFIRM_DAYS"] = -1  # the link is now older than allowed
    response = public.post(path)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert person(app, "new@example.com")[0] == "pending"


def test_a_link_for_an_address_that_changed_is_refused(app, public, worker, smtp):
    sign_up(public, worker)
    with app.app_context():
        found = subscribers.find_by_email("new@example.com")
        subscribers.update_subscriber(found, email="other@example.com")
        db.session.commit()
    assert public.post(confirmation_path(smtp)[0]).status_code == 400


def test_signups_are_rate_limited_per_client(app, public, worker):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    codes = [public.post("/signup", data={"email": f"p{i}@example.com"}).status_code
             for i in range(3)]
    worker.drain()
    assert codes == [200, 200, 429]


def test_public_pages_have_their_stylesheet_and_set_no_cookie(public):
    page = public.get("/signup")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "<script" not in page.get_data(as_text=True)
    styles = public.get("/static/app.css")
    styles.close()
    assert styles.status_code == 200  # no login needed for styles


def test_one_address_gets_at_most_three_confirmations_a_week(app, public, worker, smtp):
    from datetime import timedelta

    from campaigns.models import ConsentEvent

    for _ in range(5):
        sign_up(public, worker, "target@example.com")
        with app.app_context():  # pretend the 10 minutes have passed
            for event in db.session.scalars(db.select(ConsentEvent)):
                event.created_at -= timedelta(minutes=11)
            db.session.commit()
    assert len(smtp.handler.messages) == 3


def test_a_confirmation_says_nothing_the_form_filler_typed(app, public, worker, smtp):
    sign_up(public, worker, "target@example.com", first_name="Buy cheap pills at evil.example")
    assert b"evil.example" not in smtp.handler.messages[0].data
