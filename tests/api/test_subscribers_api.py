"""The subscribers API: bulk import, CRUD, search, privacy and segments."""

import io
from pathlib import Path

import pytest

FILES = Path(__file__).parent.parent / "files" / "imports"


@pytest.fixture
def app_settings():
    return {"IMPORT_INLINE_ROWS": 10, "IMPORT_CHUNK_ROWS": 4}


def test_a_csv_body_imports_at_once_and_answers_with_the_report(api):
    body = (FILES / "bad_rows.csv").read_bytes()
    response = api.post("/api/v1/subscribers/import?tag=api&tag=2024", data=body,
                        content_type="text/csv")
    assert response.status_code == 200
    report = response.json
    assert {k: report[k] for k in ("status", "created", "updated", "unchanged", "skipped",
                                   "merged")} == {"status": "done", "created": 3, "updated": 0,
                                                  "unchanged": 0, "skipped": 4, "merged": 2}
    assert [e["line"] for e in report["errors"]] == [3, 4, 9, 10]
    people = api.get("/api/v1/subscribers?tag=api").json
    assert people["total"] == 3
    assert people["subscribers"][0]["tags"] == ["2024", "api"]


def test_a_multipart_upload_with_a_column_mapping(api):
    data = {"file": (io.BytesIO(b"Contact;Role\nann@example.com;CTO\n"), "people.csv")}
    response = api.post("/api/v1/subscribers/import?map=Contact%3Demail&map=Role%3Dfields.role",
                        data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    ann = api.get("/api/v1/subscribers?q=ann").json["subscribers"][0]
    assert ann["fields"] == {"role": "CTO"}


def test_a_long_import_answers_202_and_its_status_can_be_followed(api, worker):
    body = "email\n" + "".join(f"p{i}@example.com\n" for i in range(25))
    response = api.post("/api/v1/subscribers/import", data=body, content_type="text/csv")
    assert response.status_code == 202
    import_id = response.json["import_id"]
    assert api.get(f"/api/v1/subscribers/imports/{import_id}").json["status"] == "running"
    worker.drain()
    status = api.get(f"/api/v1/subscribers/imports/{import_id}").json
    assert (status["status"], status["created"], status["processed_rows"]) == ("done", 25, 25)


@pytest.mark.parametrize("body, message", [
    (b"", "empty"), (b"%PDF-1.4 binary", "PDF"), (b"name\nAda\n", "no email column")])
def test_a_file_that_cannot_be_imported_is_a_422_and_changes_nothing(api, body, message):
    response = api.post("/api/v1/subscribers/import", data=body, content_type="text/csv")
    assert response.status_code == 422
    assert response.json["error"] == "invalid" and message in response.json["message"]
    assert api.get("/api/v1/subscribers").json["total"] == 0


def test_create_read_update_and_delete_a_subscriber(api):
    created = api.post("/api/v1/subscribers", json={
        "email": "Ann@Example.com", "first_name": "Ann", "tags": ["vip"],
        "fields": {"city": "Oslo"}})
    assert created.status_code == 201
    ann = created.json
    assert (ann["email"], ann["consent_status"], ann["consent_source"], ann["tags"]) == (
        "ann@example.com", "subscribed", "api", ["vip"])
    path = f"/api/v1/subscribers/{ann['id']}"
    changed = api.patch(path, json={"company": "Acme", "fields": {"city": None, "team": "A"},
                                    "tags": ["speaker"]}).json
    assert (changed["company"], changed["fields"], changed["tags"]) == (
        "Acme", {"team": "A"}, ["speaker"])
    assert api.get(path).json["company"] == "Acme"
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_an_address_already_listed_or_suppressed_is_refused(api):
    api.post("/api/v1/subscribers", json={"email": "ann@example.com"})
    assert api.post("/api/v1/subscribers", json={"email": "ANN@example.com"}).status_code == 409
    assert api.post("/api/v1/subscribers", json={"email": "nope"}).status_code == 422


def test_the_api_records_an_unsubscribe_but_cannot_resubscribe(api):
    ann = api.post("/api/v1/subscribers", json={"email": "ann@example.com"}).json
    path = f"/api/v1/subscribers/{ann['id']}"
    after = api.patch(path, json={"consent_status": "unsubscribed"}).json
    assert (after["consent_status"], after["suppressed"]) == ("unsubscribed", "unsubscribed")
    refused = api.patch(path, json={"consent_status": "subscribed"})
    assert refused.status_code == 409 and "double opt-in" in refused.json["message"]
    assert api.get(path).json["consent_status"] == "unsubscribed"


def test_erase_and_export_through_the_api(api):
    ann = api.post("/api/v1/subscribers", json={"email": "ann@example.com"}).json
    exported = api.get(f"/api/v1/subscribers/{ann['id']}/export").json
    assert exported["subscriber"]["email"] == "ann@example.com"
    assert api.post(f"/api/v1/subscribers/{ann['id']}/erase").status_code == 204
    again = api.post("/api/v1/subscribers", json={"email": "ann@example.com"})
    assert again.status_code == 409


def test_the_list_pages_with_a_cursor_and_searches(api):
    for i in range(5):
        api.post("/api/v1/subscribers", json={"email": f"p{i}@example.com",
                                              "company": "Acme" if i < 3 else "Other"})
    first = api.get("/api/v1/subscribers?sort=email&limit=2").json
    second = api.get(f"/api/v1/subscribers?sort=email&limit=2&after={first['next']}").json
    assert [s["email"] for s in first["subscribers"] + second["subscribers"]] == [
        f"p{i}@example.com" for i in range(4)]
    assert api.get("/api/v1/subscribers?q=acme").json["total"] == 3


def test_segments_through_the_api(api):
    api.post("/api/v1/subscribers", json={"email": "a@example.com", "tags": ["vip"]})
    created = api.post("/api/v1/segments", json={"name": "VIPs", "rules": {
        "conditions": [{"type": "tag", "value": "vip"}]}})
    assert created.status_code == 201 and created.json["count"] == 1
    assert api.get("/api/v1/segments").json[0]["name"] == "VIPs"
    bad = api.post("/api/v1/segments", json={"name": "Bad", "rules": {"match": "some"}})
    assert bad.status_code == 422
    assert api.delete(f"/api/v1/segments/{created.json['id']}").status_code == 204
    assert api.get("/api/v1/tags").json == [{"name": "vip", "subscribers": 1}]


def test_the_openapi_document_describes_the_import_endpoint(api):
    spec = api.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/subscribers/import"]["post"]
    assert "text/csv" in operation["requestBody"]["content"]
    assert {p["name"] for p in operation["parameters"]} == {"tag", "map", "filename"}


def test_the_suppression_list_through_the_api(api):
    created = api.post("/api/v1/suppressions", json={"email": "No@Example.com",
                                                      "detail": "asked by phone"})
    assert created.status_code == 201
    assert (created.json["email"], created.json["reason"]) == ("no@example.com", "manual")
    refused = api.post("/api/v1/subscribers", json={"email": "no@example.com"})
    assert refused.status_code == 409
    assert [e["email"] for e in api.get("/api/v1/suppressions?q=example").json] == [
        "no@example.com"]
    assert api.delete(f"/api/v1/suppressions/{created.json['id']}").status_code == 204
    assert api.post("/api/v1/subscribers", json={"email": "no@example.com"}).status_code == 201
    ann = api.post("/api/v1/subscribers", json={"email": "ann@example.com"}).json
    api.patch(f"/api/v1/subscribers/{ann['id']}", json={"consent_status": "unsubscribed"})
    entry = api.get("/api/v1/suppressions").json[0]
    assert api.delete(f"/api/v1/suppressions/{entry['id']}").status_code == 409
