"""The API's own description and the caller's identity."""

from __future__ import annotations

from flask import current_app, g, jsonify

from campaigns.api import bp
from campaigns.api.spec import build_spec, documented

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string", "enum": ["owner", "member"]}}}


@bp.get("/openapi.json")
@documented(response={"type": "object", "description": "This OpenAPI document."})
def openapi():
    """Describe every route of this API (OpenAPI 3.1)."""
    return jsonify(build_spec(current_app))


@bp.get("/me")
@documented(response=USER_SCHEMA)
def me():
    """Return the user the token belongs to."""
    user = g.api_user
    return jsonify(id=user.id, email=user.email, name=user.name, role=user.role)
