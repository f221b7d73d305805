"""Login by default, CSRF on every form, login rate limits and strict security headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, redirect, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from campaigns.db import db

F = TypeVar("F", bound=Callable)

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()

# Frames may show only our own sanitised pages; no inline script anywhere; no remote fetches.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def public(view: F) -> F:
    """Mark a view as reachable without logging in (login, unsubscribe, signup...)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def _require_login() -> Response | None:
    """Send anonymous visitors of any non-public page to login (or first-run set-up)."""
    if request.endpoint in (None, "static") or request.blueprint == "api":
        return None  # 404s stay 404s; assets are public; the API checks its own bearer tokens
    view = current_app_view()
    if view is None or getattr(view, "_public", False) or current_user.is_authenticated:
        return None
    from campaigns.models import User

    if db.session.query(User.id).limit(1).first() is None:
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def current_app_view() -> Callable | None:
    """Return the view function handling this request."""
    from flask import current_app

    return current_app.view_functions.get(request.endpoint or "")


def _security_headers(response: Response) -> Response:
    """Add CSP and the other security headers unless a view set its own CSP."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@login_manager.user_loader
def _load_user(user_id: str):  # noqa: ANN202
    """Return the logged-in user from the session, if still active."""
    from campaigns.models import User

    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def init_app(app: Flask) -> None:
    """Wire proxies, CSRF, the limiter, Flask-Login, the login gate and the headers."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATELIMIT_STORAGE_URL"])
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    app.before_request(_require_login)
    app.after_request(_security_headers)
