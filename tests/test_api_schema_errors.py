"""The OpenAPI schema documents the error answers the API really gives (issue: schemathesis ran
without ``status_code_conformance`` because no operation named a 4xx). Each operation lists the
statuses its shape allows, each with the contract's error body; real refusals match that body.
(schemathesis, in ``test_api_schemathesis.py``, then checks every status it meets is documented.)"""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]  # schemathesis's own validator; no stubs
import pytest

from tests.personas import CASE_PROJECT_ID, Cast

ERROR_REF = "#/components/schemas/Errors"
# A few operations of each shape, with every status they document (2xx/304 from the views).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/api/v1/authz/check"): {"200", "400", "401", "403", "503"},
    ("get", "/api/v1/authz/subjects"): {"200", "400", "401", "403", "404", "503"},
    ("post", "/api/v1/audit/events"): {"201", "400", "401", "403", "409"},
    ("get", "/api/v1/cases/{project_id}"): {"200", "401", "403", "404"},
    ("post", "/api/v1/grants/{grant_id}/revoke"): {"200", "400", "401", "403", "404"},
    ("post", "/api/v1/releases/{version}/reports"): {"201", "400", "401", "403", "404", "413"},
    ("get", "/api/v1/me/grants"): {"200", "401", "403"},
    ("get", "/api/v1/privacy-statement"): {"200", "304", "400", "404"},  # public: no 401/403
    ("get", "/api/v1/privacy-statement/versions"): {"200", "400"},
}


@pytest.fixture
def schema(cast: Cast) -> dict[str, Any]:
    document: dict[str, Any] = cast.api("investigator").get("/api/schema/", {"format": "json"}).json()
    return document


def test_each_operation_documents_the_error_answers_of_its_shape(schema: dict[str, Any]):
    for (method, path), statuses in EXPECTED.items():
        assert set(schema["paths"][path][method]["responses"]) == statuses, (method, path)


def test_every_authenticating_operation_documents_401_and_403_with_the_error_body(schema: dict[str, Any]):
    operations = [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) > 30
    for method, path, operation in operations:
        responses = operation["responses"]
        if {} not in operation.get("security", []):
            assert {"401", "403"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (
                    path,
                    status,
                )


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` in JSON Schema's words (what schemathesis does as well)."""
    if isinstance(node, dict):
        converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable"):
            converted["type"] = [node["type"], "null"]
        return converted
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    return node


def _validate(schema: dict[str, Any], body: Any) -> None:
    jsonschema.validate(body, _as_json_schema(schema["components"]["schemas"]["Errors"]))


def test_real_refusals_match_the_documented_error_body(cast: Cast, schema: dict[str, Any]):
    bad_check = cast.api("hansken_production").post("/api/v1/authz/check", {"user": 1}, format="json")
    assert bad_check.status_code == 400
    _validate(schema, bad_check.json())
    no_token = cast.api(None).get(f"/api/v1/cases/{CASE_PROJECT_ID}")
    assert no_token.status_code == 401
    _validate(schema, no_token.json())
    bulk = cast.api("hansken_production").post(
        "/api/v1/audit/events", {"events": [{"event_id": "not-a-uuid"}]}, format="json"
    )
    assert bulk.status_code == 400
    _validate(schema, bulk.json())
    assert any("index" in error for error in bulk.json()["errors"])
    with pytest.raises(jsonschema.ValidationError):
        _validate(schema, {"detail": "DRF's own shape is not the contract's"})
