"""OpenAPI 3.1 description built from the registered routes, so it cannot drift from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def documented(*, response: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
               query: dict[str, str] | None = None, status: int = 200,
               content_type: str = "application/json") -> Callable:
    """Attach request and response schemas to an API view for the OpenAPI description."""
    def mark(view: Callable) -> Callable:
        view._openapi = {"response": response or {"type": "object"}, "body": body,
                         "query": query or {}, "status": status, "content_type": content_type}
        return view
    return mark


def build_spec(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI document for every /api/v1 route of the app."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view)
    return {
        "openapi": "3.1.0",
        "info": {"title": "campaigns API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(rule: Any, method: str, view: Callable) -> dict[str, Any]:
    """Describe one method of one route."""
    meta = getattr(view, "_openapi", None) or {"response": {"type": "object"}, "body": None,
                                               "query": {}, "status": 200,
                                               "content_type": "application/json"}
    doc = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{rule.endpoint.removeprefix('api.')}",
        "summary": doc,
        "parameters": _parameters(rule, meta["query"]),
        "responses": {
            str(meta["status"]): {"description": "OK",
                                  "content": {"application/json": {"schema": meta["response"]}}},
            "default": {"description": "Error", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    if meta["body"] is not None:
        operation["requestBody"] = {"required": True, "content": {
            meta["content_type"]: {"schema": meta["body"]}}}
    if getattr(view, "_own_auth", False):
        operation["security"] = []
    return operation


def _parameters(rule: Any, query: dict[str, str]) -> list[dict[str, Any]]:
    """List path parameters (from the rule) and documented query parameters."""
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer" if rule._converters[name].__class__.__name__
                          == "IntegerConverter" else "string"}}
              for name in rule.arguments]
    params += [{"name": name, "in": "query", "required": False, "description": text,
                "schema": {"type": "string"}} for name, text in query.items()]
    return params
