"""The unsubscribe link and RFC 8058 one-click: signed, idempotent, GET never unsubscribes."""

import pytest
from sqlalchemy import select

from campaigns.core import subscribers
from campaigns.core.audience import can_receive
from campaigns.core.unsubscribe_tokens import make_token, unsubscribe_url, url_maker
from campaigns.db import db
from campaigns.models import Campaign, ConsentEvent, Subscriber, Suppression


@pytest.fixture
def ann(app):
    with app.app_context():
        campaign = Campaign(name="Coffee in March")
        db.session.add(campaign)
        person = subscribers.create_subscriber("ann@example.com", first_name="Ann")
        db.session.commit()
        return person.id, campaign.id, unsubscribe_url(person.id, campaign.id, person.email)


@pytest.fixture
def mail_app(app):
    """A client like a mail provider's: no cookies at all."""
    return app.test_client(use_cookies=False)


def state(app, subscriber_id):
    with app.app_context():
        person = db.session.get(Subscriber, subscriber_id)
        return person.consent_status, can_receive(person), db.session.scalar(
            select(Suppression.reason))


def path_of(url):
    return url.removeprefix("http://campaigns.test")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data"])
def test_one_click_post_unsubscribes_within_the_request_and_answers_200(
        app, ann, mail_app, content_type):
    subscriber_id, _, url = ann
    response = mail_app.post(path_of(url), data={"List-Unsubscribe": "One-Click"},
                             content_type=content_type)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert state(app, subscriber_id) == ("unsubscribed", False, "unsubscribed")
    with app.app_context():
        event = db.session.scalar(select(ConsentEvent).order_by(ConsentEvent.id.desc()))
        assert (event.source, event.detail) == (
            "one_click", "One-click unsubscribe from their mail app in “Coffee in March”")


def test_get_shows_a_confirm_page_and_never_unsubscribes(app, ann, mail_app):
    subscriber_id, _, url = ann
    for _ in range(3):  # a mail scanner prefetching the link
        response = mail_app.get(path_of(url))
        assert response.status_code == 200
        assert "ann@example.com" in response.get_data(as_text=True)
        assert '<form method="post">' in response.get_data(as_text=True)
    assert state(app, subscriber_id) == ("subscribed", True, None)


def test_the_pages_button_unsubscribes_without_csrf_token_or_cookie(app, ann, mail_app):
    subscriber_id, _, url = ann
    response = mail_app.post(path_of(url), data={"confirm": "1"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert state(app, subscriber_id)[0] == "unsubscribed"
    with app.app_context():
        assert db.session.scalar(select(ConsentEvent.source).order_by(
            ConsentEvent.id.desc())) == "unsubscribe_link"


def test_a_second_post_answers_200_and_changes_nothing(app, ann, mail_app):
    subscriber_id, _, url = ann
    for _ in range(2):
        response = mail_app.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    with app.app_context():
        events = db.session.scalars(select(ConsentEvent.status)).all()
        assert events == ["subscribed", "unsubscribed"]
        assert db.session.query(Suppression).count() == 1


def test_a_post_with_an_empty_body_still_unsubscribes(app, ann, mail_app):
    subscriber_id, _, url = ann
    assert mail_app.post(path_of(url)).status_code == 200
    assert state(app, subscriber_id)[0] == "unsubscribed"


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # altered signature
    lambda t: "WzIsMF0" + t[t.index("."):],  # someone else's id with the old signature
    lambda t: "nonsense",
    lambda t: "",
])
def test_a_forged_or_altered_token_is_refused_with_a_clear_page(app, ann, mail_app, tamper):
    subscriber_id, campaign_id, url = ann
    with app.app_context():
        token = make_token(subscriber_id, campaign_id, "ann@example.com")
    bad = tamper(token)
    for method in ("get", "post"):
        response = getattr(mail_app, method)(f"/unsubscribe/{bad}",
                                             data={"List-Unsubscribe": "One-Click"})
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            assert "This link does not work" in response.get_data(as_text=True)
    assert state(app, subscriber_id) == ("subscribed", True, None)


def test_a_token_signed_with_another_key_is_refused(app, ann, mail_app):
    from itsdangerous import URLSafeSerializer

    subscriber_id, _, _ = ann
    forged = URLSafeSerializer("guessed-key", salt="campaigns.unsubscribe").dumps(
        [subscriber_id, 0])
    assert mail_app.post(f"/unsubscribe/{forged}").status_code == 400
    assert state(app, subscriber_id)[0] == "subscribed"


def test_a_link_for_someone_no_longer_on_the_list_says_so(app, ann, mail_app):
    subscriber_id, _, url = ann
    with app.app_context():
        subscribers.delete_subscribers([subscriber_id])
        db.session.commit()
    response = mail_app.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "no longer on the list" in response.get_data(as_text=True)


def test_a_link_signed_before_a_key_rotation_still_works(app, ann, mail_app):
    subscriber_id, _, url = ann
    app.config.update(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=["test-secret-key"])
    assert mail_app.post(path_of(url)).status_code == 200
    assert state(app, subscriber_id)[0] == "unsubscribed"


def test_a_link_never_acts_on_someone_who_later_got_the_same_id(app, mail_app):
    with app.app_context():
        old = subscribers.create_subscriber("old@example.com")
        db.session.commit()
        link = unsubscribe_url(old.id, 0, "old@example.com")
        db.session.delete(old)
        db.session.commit()
        new = subscribers.create_subscriber("new-person@example.com")
        db.session.commit()
        new_id = new.id
    assert "new-person@example.com" not in mail_app.get(link).get_data(as_text=True)
    mail_app.post(link, data={"List-Unsubscribe": "One-Click"})
    assert state(app, new_id) == ("subscribed", True, None)


def test_the_send_paths_fast_links_are_the_same_urls(app):
    app.config.update(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=["test-secret-key"])
    with app.app_context():
        make = url_maker()
        for subscriber_id, campaign_id, email in ((1, 2, "ann@example.com"), (123456, 0, ""),
                                                  (7, 99, "Zo\u00eb@Example.com ")):
            assert make(subscriber_id, campaign_id, email) == unsubscribe_url(
                subscriber_id, campaign_id, email)
