"""The decision API's errors: a problem raised anywhere on the way becomes a 4xx answer with the
contract's ``{"errors": [...]}`` body; and the JSON answer itself."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse


class RequestProblem(Exception):
    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


def problem(status: int, message: str, field: str | None = None, index: int | None = None) -> RequestProblem:
    item: dict[str, Any] = {"field": field, "message": message}
    if index is not None:
        item["index"] = index
    return RequestProblem(status, [item])


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """orjson instead of Django's encoder: a batch answer of 1,000 decisions is serialised about ten
    times faster."""
    return HttpResponse(orjson.dumps(data), content_type="application/json", status=status)
