"""The JSON API under /api/v1: bearer tokens, JSON errors, an OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from campaigns.db import db
from campaigns.errors import CampaignsError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def own_auth(view):  # noqa: ANN001, ANN201
    """Mark an API view that authenticates by itself (e.g. the inbound webhook's secret)."""
    view._own_auth = True
    return view


def error_response(code: str, message: str, status: int):  # noqa: ANN201
    """Return the API's error shape: {"error", "message"}."""
    return jsonify(error=code, message=message), status


@bp.before_request
def _authenticate():  # noqa: ANN202
    """Require a valid bearer token, except on views that check their own secret."""
    from flask import current_app

    from campaigns.core.users import user_for_token

    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "_own_auth", False):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        return error_response("unauthorized", "Send a valid token as 'Authorization: Bearer "
                              "TOKEN' (create one in Settings or with 'campaigns users token').",
                              401)
    g.api_user = user
    if db.session.dirty:
        db.session.commit()  # the token's last-used time
    return None


@bp.errorhandler(CampaignsError)
def _domain_error(error: CampaignsError):  # noqa: ANN202
    """Map a domain error to its HTTP status and the JSON error shape."""
    db.session.rollback()
    return error_response(error.code, error.message, error.http_status)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # noqa: ANN202
    """Render HTTP errors (404, 405, 413...) as JSON."""
    name = (error.name or "error").lower().replace(" ", "_")
    return error_response(name, error.description or name, error.code or 500)


def init_app(app: Flask) -> None:
    """Register the API routes; the API uses tokens, not cookies, so CSRF does not apply."""
    from campaigns.api import campaigns as campaigns_routes  # noqa: F401 - registers routes
    from campaigns.api import followups, inbound, meta, subscribers  # noqa: F401 - routes
    from campaigns.security import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
