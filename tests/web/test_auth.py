"""First-run set-up, logging in and out, and the limits around them."""

from campaigns.db import db
from campaigns.models import Role, User
from tests.support.web import csrf_token, log_in, post_form


def test_a_fresh_install_sends_visitors_to_first_run_setup(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/setup")


def test_first_run_setup_creates_an_owner_and_logs_them_in(client, app):
    token = csrf_token(client, "/setup")
    response = client.post("/setup", data={"csrf_token": token, "name": "Ann",
                                           "email": "Ann@Example.com",
                                           "password": "long enough pw",
                                           "confirm": "long enough pw"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.email, user.role) == ("ann@example.com", Role.OWNER)
        assert "long enough pw" not in user.password_hash
        assert user.password_hash.startswith("scrypt:")


def test_setup_is_gone_once_an_owner_exists(client, owner):
    assert client.get("/setup").status_code == 404


def test_a_wrong_password_does_not_log_in(client, owner):
    response = log_in(client, "owner@example.com", "not the password")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_returns_to_the_page_asked_for(client, owner):
    client.get("/campaigns/")
    token = csrf_token(client, "/login")
    response = client.post("/login?next=/campaigns/", data={
        "csrf_token": token, "email": "owner@example.com", "password": "correct horse battery"})
    assert response.headers["Location"] == "/campaigns/"


def test_login_never_redirects_to_another_site(client, owner):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_token(client, "/login")
        response = client.post(f"/login?next={target}", data={
            "csrf_token": token, "email": "owner@example.com",
            "password": "correct horse battery"})
        assert response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_logging_out_ends_the_session(logged_in):
    response = post_form(logged_in, "/logout", page="/")
    assert response.status_code == 302
    assert logged_in.get("/").status_code == 302


def test_repeated_failed_logins_are_rate_limited(client, owner, app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    statuses = [log_in(client, "owner@example.com", "wrong password").status_code
                for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


def test_a_disabled_user_cannot_log_in(client, owner, app):
    with app.app_context():
        db.session.scalar(db.select(User)).active = False
        db.session.commit()
    assert log_in(client, "owner@example.com", "correct horse battery").status_code == 401

