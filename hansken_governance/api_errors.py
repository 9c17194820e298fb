"""Every API error in the contract's shape:

``{"errors": [{"field": "...", "index": N, "message": "plain words"}]}``

``index`` appears for an item of a bulk request; ``field`` is null for an error about the request as
a whole. A rejected request stores nothing: views run inside a transaction (ATOMIC view wrappers are
not relied on; each service is atomic and validation happens before it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def error(message: str, field: str | None = None, index: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"field": field, "message": str(message)}
    if index is not None:
        item["index"] = index
    return item


def flatten(detail: Any, field: str | None = None, index: int | None = None) -> list[dict[str, Any]]:
    """Turn DRF's nested error detail into the contract's flat list.

    The first list of objects met is the bulk collection: each item's position becomes ``index`` and
    its keys become ``field``. Deeper nesting is joined with dots (``details.size``).
    """
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            if key == NON_FIELD:
                sub = field
            elif isinstance(key, int):  # an item of a list field: rights[1]
                sub = f"{field}[{key}]"
            else:
                sub = key if field is None else f"{field}.{key}"
            out.extend(flatten(value, sub, index))
        return out
    if isinstance(detail, list):
        if any(isinstance(item, dict) for item in detail):
            out = []
            for position, item in enumerate(detail):
                if not item:
                    continue
                if index is None:
                    out.extend(flatten(item, None, position))
                else:
                    out.extend(flatten(item, f"{field}[{position}]", index))
            return out
        return [error(str(item), field, index) for item in detail]
    return [error(str(detail), field, index)]


def errors_response(errors: list[dict[str, Any]], status_code: int) -> Response:
    return Response({"errors": errors}, status=status_code)


def contract_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError for broken rules; callers get a 400 like any other.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, RecursionError):
        # JSON that parsed just below Python's recursion limit can still exhaust it when a field
        # recurses over it (str() of the value for its error message): bad input, not our failure.
        exc = exceptions.ParseError("JSON parse error - the body nests too deeply.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        errors = [error(str(exc.detail))]
    else:  # pragma: no cover - DRF only calls us for the two kinds above
        errors = [error("The request could not be handled.")]
    response.data = {"errors": errors or [error("The request is not valid.")]}
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"errors": [error("Not found.")]}, status=status.HTTP_404_NOT_FOUND)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"errors": [error("The server failed to handle the request; nothing was stored.")]},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON under /api/, the ordinary page elsewhere."""
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
