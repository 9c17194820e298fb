"""Shapes of the OpenAPI schema shared by several apps' API views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def results_of(name: str, item: type[serializers.Serializer[Any]]) -> Any:
    """A list answer as the views give it, ``{"results": [item, ...]}``, under its own component
    ``name`` (schemathesis found the lists described as bare arrays)."""
    return inline_serializer(name, {"results": item(many=True)})


# The error answers -----------------------------------------------------------------------------
#
# Every 4xx (and the decision API's 503) has the contract's one body (``api_errors``). Which
# statuses an operation can give follows from its shape, so they are added here, once, after the
# views' own schema, rather than repeated on some fifty views (and forgotten on the next one):
#
# - 400 Bad input: the operation reads a body or query parameters.
# - 401 No token, a bad, expired or revoked one: every operation that authenticates (all but the
#   public privacy statement, which reads no credentials).
# - 403 The token or person may not do this (a scope, a role, a client of the wrong environment).
# - 404 An object in the path, or a case named in the query, that does not exist or is outside the
#   caller's scope (never 403 for those: scoping does not tell what exists).
# - and the few answers particular to one operation, in ``PARTICULAR``.

ERRORS_COMPONENT = "Errors"
ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "description": "A refused request; nothing was stored.",
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "The field at fault (dotted, with [n] for a list item); null "
                        "when the request as a whole is refused.",
                    },
                    "index": {
                        "type": "integer",
                        "description": "The position of the item at fault in a bulk request.",
                    },
                    "message": {"type": "string", "description": "What is wrong, in plain words."},
                },
                "required": ["field", "message"],
            },
        }
    },
    "required": ["errors"],
}
DESCRIPTIONS = {
    400: "Bad input: each error names its field (and, in a bulk request, the item's index).",
    401: "No token, or a token that is unknown, expired or revoked.",
    403: "The token or person may not do this.",
    404: "Not found, or outside the caller's scope.",
    409: "Conflicts with what is stored.",
    413: "The upload is larger than the limit.",
    503: "A dependency (the database) is unavailable: no answer was given, and none is implied.",
}
_DECISIONS = "A decision needs its database; without it the answer is 503, never an allow."
PARTICULAR: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/api/v1/audit/events"): {409: "An event id that was sent before with other content."},
    ("post", "/api/v1/authz/check"): {503: _DECISIONS},
    ("post", "/api/v1/authz/check-batch"): {503: _DECISIONS},
    ("get", "/api/v1/authz/projects"): {503: _DECISIONS},
    ("get", "/api/v1/authz/subjects"): {503: _DECISIONS},
    ("post", "/api/v1/releases/{version}/reports"): {
        413: "The file is larger than HG_TEST_REPORT_MAX_BYTES."
    },
    ("get", "/api/v1/privacy-statement"): {404: "No version of the privacy statement is in force yet."},
}
# Query parameters that name a case: an unknown case, or one outside the caller's scope, is a 404.
CASE_QUERY = "project_id"
METHODS = ("get", "post", "put", "patch", "delete")


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> dict[int, str]:
    """The 4xx/5xx statuses this operation can answer, each with its description."""
    parameters = operation.get("parameters", [])
    query = [p["name"] for p in parameters if p.get("in") == "query"]
    authenticates = {} not in operation.get("security", [{}])
    statuses: dict[int, str] = {}
    if "requestBody" in operation or query:
        statuses[400] = DESCRIPTIONS[400]
    if authenticates:
        statuses[401] = DESCRIPTIONS[401]
        statuses[403] = DESCRIPTIONS[403]
    if any(p.get("in") == "path" for p in parameters) or CASE_QUERY in query:
        statuses[404] = DESCRIPTIONS[404]
    statuses.update(PARTICULAR.get((method, path), {}))
    return statuses


def document_error_answers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the error answers of every operation, with their body."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERRORS_COMPONENT] = ERROR_BODY
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERRORS_COMPONENT}"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in error_statuses(method, path, operation).items():
                responses.setdefault(str(status_code), {"description": description, "content": body})
    return result
