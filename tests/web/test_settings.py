"""Settings: API tokens and team members."""

import re

from campaigns.db import db
from campaigns.models import ApiToken, User
from tests.support.web import log_in, post_form


def test_a_token_created_in_settings_is_shown_once_and_opens_the_api(logged_in, app):
    response = post_form(logged_in, "/settings/tokens", {"name": "zapier"},
                         follow_redirects=True)
    token = re.search(r"(cmp_[A-Za-z0-9_-]+)", response.get_data(as_text=True)).group(1)
    assert logged_in.get("/settings/").get_data(as_text=True).count(token) == 0
    assert logged_in.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json[
        "email"] == "owner@example.com"


def test_a_revoked_token_no_longer_opens_the_api(logged_in, app, api_token):
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    post_form(logged_in, f"/settings/tokens/{token_id}/revoke")
    response = logged_in.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 401


def test_an_owner_adds_a_member_who_can_then_log_in(logged_in, app):
    post_form(logged_in, "/settings/users", {"email": "mia@example.com", "name": "Mia",
                                             "password": "member password", "role": "member"})
    with app.app_context():
        assert db.session.scalar(db.select(User.role).where(User.email == "mia@example.com")) \
            == "member"
    other = app.test_client()
    assert log_in(other, "mia@example.com", "member password").status_code == 302


def test_a_member_cannot_add_users(logged_in, app):
    post_form(logged_in, "/settings/users", {"email": "mia@example.com", "name": "Mia",
                                             "password": "member password", "role": "member"})
    member = app.test_client()
    log_in(member, "mia@example.com", "member password")
    response = post_form(member, "/settings/users", {"email": "x@example.com",
                                                     "password": "another password",
                                                     "role": "owner"})
    assert response.status_code == 403
