"""Helpers for privileged-trace tests: marks posted through the real API, as Hansken posts them."""

from __future__ import annotations

from typing import Any

from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

MARKS_URL = f"/api/v1/cases/{CASE_PROJECT_ID}/privileged"


def uid(trace_id: str, image: Any = IMAGE_ID) -> str:
    return f"{image}:{trace_id}"


def mark(
    trace_id: str, status: str = "confirmed", at: str = "2026-11-01T10:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {"trace_uid": uid(trace_id), "status": status, "marked_at": at, **extra}


def post_marks(cast: Cast, *marks: dict[str, Any], client: str = "hansken_production") -> dict[str, Any]:
    response = cast.api(client).post(MARKS_URL, {"marks": list(marks)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def export_check(
    cast: Cast, trace_uids: list[str], user: str = "investigator", client: str = "hansken_production"
) -> dict[str, Any]:
    response = cast.api(client).post(
        "/api/v1/authz/export-check",
        {"user": user, "project_id": str(CASE_PROJECT_ID), "trace_uids": trace_uids},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()
