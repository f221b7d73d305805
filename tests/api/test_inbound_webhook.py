"""POST /api/v1/inbound: one raw message, authenticated by the inbound secret or a token."""

import hashlib
import hmac

import pytest

from campaigns.db import db
from campaigns.models import InboundMessage
from tests.support.inbound import parked_jobs, raw_message  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("parked_jobs")

SECRET = "webhook-secret-for-tests"
URL = "/api/v1/inbound"


@pytest.fixture
def app_settings():
    return {"INBOUND_SECRET": SECRET}


def _signed(body: bytes) -> dict:
    return {"X-Inbound-Signature": "sha256=" + hmac.new(SECRET.encode(), body,
                                                        hashlib.sha256).hexdigest()}


def _count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(InboundMessage.id)))


def _post(client, body, headers, content_type="message/rfc822"):
    return client.post(URL, data=body, headers=headers, content_type=content_type)


def test_the_secret_token_stores_the_message_and_a_repeat_gets_the_same_id(client, app):
    body = raw_message("Yes!")
    first = _post(client, body, {"X-Inbound-Token": SECRET})
    again = _post(client, body, {"X-Inbound-Token": SECRET})
    assert (first.status_code, first.json["duplicate"], first.json["status"]) == (
        202, False, "stored")
    assert (again.status_code, again.json["id"], again.json["duplicate"]) == (
        200, first.json["id"], True)
    with app.app_context():
        row = db.session.get(InboundMessage, first.json["id"])
        assert (row.raw, row.received_via) == (body, "webhook")


def test_an_hmac_signature_of_the_body_is_accepted(client):
    body = raw_message("Signed")
    assert _post(client, body, _signed(body)).status_code == 202


def test_a_signature_of_another_body_is_refused_and_nothing_is_stored(client, app):
    response = _post(client, raw_message("Tampered"), _signed(raw_message("Original")))
    assert (response.status_code, response.json["error"]) == (401, "unauthorized")
    assert _count(app) == 0


def test_an_api_token_is_accepted_too(client, api_token):
    response = _post(client, raw_message(), {"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 202


@pytest.mark.parametrize("headers", [{}, {"X-Inbound-Token": "wrong"},
                                     {"Authorization": "Bearer cmp_not-a-token"},
                                     {"X-Inbound-Signature": "sha256=00"}])
def test_a_request_without_valid_credentials_is_refused(client, app, headers):
    assert _post(client, raw_message(), headers).status_code == 401
    assert _count(app) == 0


def test_an_oversized_message_is_refused_with_413(client, app):
    app.config["INBOUND_MAX_BYTES"] = 1_000
    response = _post(client, raw_message("x" * 2_000), {"X-Inbound-Token": SECRET})
    assert (response.status_code, response.json["error"]) == (413, "too_large")
    assert _count(app) == 0


def test_a_form_post_is_refused_with_a_clear_message(client):
    response = client.post(URL, data={"message": "x"}, headers={"X-Inbound-Token": SECRET})
    assert response.status_code == 415
    assert "message/rfc822" in response.json["message"]


def test_a_body_that_is_not_an_email_gets_a_clear_error(client, app):
    response = _post(client, b"<html>hello</html>", {"X-Inbound-Token": SECRET})
    assert (response.status_code, response.json["error"]) == (400, "inbound_error")
    assert _count(app) == 0


def test_the_webhook_is_described_in_the_openapi_document(api):
    operation = api.get("/api/v1/openapi.json").json["paths"]["/api/v1/inbound"]["post"]
    assert "message/rfc822" in operation["requestBody"]["content"]
    assert operation["security"] == []
    assert "202" in operation["responses"]


def test_without_a_configured_secret_only_api_tokens_are_accepted(client, app, api_token):
    app.config["INBOUND_SECRET"] = ""
    assert _post(client, raw_message(), {"X-Inbound-Token": ""}).status_code == 401
    assert _post(client, raw_message(), {"Authorization": f"Bearer {api_token}"}
                 ).status_code == 202
