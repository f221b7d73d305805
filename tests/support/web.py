"""Helpers for driving the HTML UI through Flask's test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """Return a CSRF token valid for this client's session, read off a page."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = _CSRF_META.search(html) or _CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict | None = None, *,
              page: str = "/settings/", **kwargs):
    """POST a form the way a browser would, with the session's CSRF token."""
    form = dict(data or {})
    form["csrf_token"] = csrf_token(client, page)
    return client.post(url, data=form, **kwargs)


def log_in(client: FlaskClient, email: str, password: str):
    """Log in through the login form."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password})
