"""The API skeleton: bearer tokens, JSON errors and an OpenAPI document in step with routes."""

import re


def test_requests_without_a_token_get_a_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert set(response.json) == {"error", "message"}


def test_a_malformed_authorization_header_is_refused(client, api_token):
    response = client.get("/api/v1/me", headers={"Authorization": f"Token {api_token}"})
    assert response.status_code == 401


def test_unknown_api_paths_answer_in_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_the_openapi_document_lists_every_api_route(api, app):
    spec = api.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed


def test_every_documented_operation_has_a_summary_and_an_error_response(api):
    spec = api.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], (path, method)
            assert "default" in operation["responses"], (path, method)
