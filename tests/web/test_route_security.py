"""Every route is behind login or on a short public list; every form needs a CSRF token."""

import pytest

from tests.support.web import log_in

# Reachable without logging in, each for a reason; adding one is a decision, not an accident.
PUBLIC_ENDPOINTS = {
    "static",  # CSS, JS, icons
    "auth.login",
    "auth.setup",  # only until the first user exists
    "consent.unsubscribe",  # people on the list; the signed token in the URL authenticates
    "consent.confirm",  # double opt-in link from the confirmation email; signed token
    "consent.signup",  # the public signup form (it only ever sends a confirmation email)
}
# Change state without a CSRF token because they authenticate otherwise.
CSRF_EXEMPT_PREFIXES = (
    "api.",  # bearer tokens, never cookies
    # RFC 8058 one-click POSTs come from mail providers with no cookie and no form: the
    # signed token authenticates (and so does the confirmation link's).
    "consent.unsubscribe",
    "consent.confirm",
    # The embeddable form posts from other websites; abuse is held by the rate limit, the
    # honeypot and the double opt-in (nothing but a confirmation email is ever sent).
    "consent.signup",
)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _url(app, rule):
    values = {arg: 1 if "int" in type(rule._converters[arg]).__name__.lower() else "x"
              for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_the_public_endpoints_are_exactly_the_allow_list(app):
    public = {endpoint for endpoint, view in app.view_functions.items()
              if getattr(view, "_public", False)} | {"static"}
    assert public == PUBLIC_ENDPOINTS


def test_every_non_public_page_refuses_an_anonymous_visitor(app, owner):
    client = app.test_client()
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(_url(app, rule), method=method)
            if rule.endpoint.startswith("api."):  # a bearer token, or the view's own secret
                assert response.status_code == 401, (rule.rule, method)
                assert response.json["error"] == "unauthorized"
            elif method in STATE_CHANGING:  # the CSRF check may refuse it before the login gate
                assert response.status_code in (302, 400), (rule.rule, method)
            elif not rule.endpoint.startswith("api."):
                assert response.status_code == 302, (rule.rule, method)
                assert "/login" in response.headers["Location"], (rule.rule, method)


def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app, owner):
    client = app.test_client()
    assert log_in(client, "owner@example.com", "correct horse battery").status_code == 302
    checked = 0
    for rule in _rules(app):
        if rule.endpoint.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        for method in rule.methods & STATE_CHANGING:
            response = client.open(_url(app, rule), method=method, data={"x": "1"})
            assert response.status_code == 400, (rule.rule, method)
            assert "CSRF" in response.get_data(as_text=True) or response.status_code == 400
            checked += 1
    assert checked >= 3  # logout, token creation, user creation at least


def test_the_api_never_accepts_a_session_cookie_instead_of_a_token(logged_in):
    assert logged_in.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("header", ["Content-Security-Policy", "X-Content-Type-Options",
                                    "X-Frame-Options", "Referrer-Policy"])
def test_pages_carry_security_headers(client, header):
    assert header in client.get("/login", follow_redirects=True).headers


def test_the_content_security_policy_forbids_inline_and_remote_scripts(client):
    policy = client.get("/setup").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
