"""Behind a trusted reverse proxy the app sees the client's address and scheme."""

import pytest

from tests.support.web import csrf_token


@pytest.fixture
def app_settings():
    return {"TRUSTED_PROXIES": 1, "LOGIN_RATE_LIMIT": "3 per minute"}


def test_login_limits_apply_per_client_not_per_proxy(app, owner):
    attacker, owner_client = app.test_client(), app.test_client()
    for n in range(4):
        token = csrf_token(attacker, "/login")
        attacker.post("/login", data={"csrf_token": token, "email": f"x{n}@example.com",
                                      "password": "wrong"},
                      headers={"X-Forwarded-For": "203.0.113.9"})
    token = csrf_token(owner_client, "/login")
    response = owner_client.post("/login", data={
        "csrf_token": token, "email": "owner@example.com", "password": "correct horse battery"},
        headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 302


def test_https_at_the_proxy_turns_on_strict_transport_security(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
