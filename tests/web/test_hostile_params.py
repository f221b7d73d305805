"""Odd numbers in URLs, query strings and JSON get a clear answer, never a 500."""

import pytest


@pytest.mark.parametrize("path", [
    "/?campaign=²", "/?assignee=²", "/?campaign=99999999999999999999",
    "/?after_at=2026-01-01T00:00:00&after_id=٣", "/subscribers/?segment=²",
    "/subscribers/suppressions?before=99999999999999999999",
])
def test_odd_query_values_are_ignored(logged_in, path):
    assert logged_in.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/campaigns/99999999999999999999",
                                  "/subscribers/99999999999999999999",
                                  "/inbox/99999999999999999999"])
def test_ids_too_big_for_the_database_are_not_found(logged_in, path):
    assert logged_in.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/subscribers?segment=²",
                                  "/api/v1/followups?campaign=99999999999999999999"])
def test_the_api_ignores_odd_filters(api, path):
    assert api.get(path).status_code == 200


@pytest.mark.parametrize("body", [
    '{"name": "x", "rate_per_minute": 99999999999999999999}',
    '{"name": "x", "rate_per_minute": Infinity}',
    '{"name": "x", "audience": {"segment_id": "²"}}',
])
def test_the_api_refuses_odd_numbers_with_a_422(api, body):
    response = api.post("/api/v1/campaigns", data=body,
                        headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert set(response.json) == {"error", "message"}
