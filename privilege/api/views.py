"""The marks API: Hansken posts privileged marks; the case lead, deputies, holders of
``review_privileged`` and the privacy officer read them. Thin views: validate, call one service or
selector, answer. Every case is reached through the one scoping door (404 outside it)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import PeopleOnly, calling_client, client_may
from audit.actor import Actor
from cases.selectors import CasePurpose, case_for
from hansken_governance.api_base import single_query_values
from hansken_governance.bulk_input import BulkProblem
from privilege import selectors, services
from privilege.marks_input import MAX_MARKS, parse_marks, split_trace_uid
from privilege.rules import STATUSES

WRITE_SCOPE = "privilege:write"


class MarkWriter(BasePermission):
    """Hansken's clients with ``privilege:write``; people never post marks."""

    message = f"Only Hansken's clients with the scope {WRITE_SCOPE} may post privileged marks."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = calling_client(request)
        return client is not None and client_may(client, WRITE_SCOPE)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _bad(field: str, message: str) -> Response:
    return Response({"errors": [{"field": field, "message": message}]}, status=status.HTTP_400_BAD_REQUEST)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a request of up to 10,000 marks is read and
    stored. Its objects (parsed JSON, marks, changes, audit details) hold no reference cycles and
    are freed by reference counting, but their number sets off many collections, and the full ones
    walk every object of the process: measured in-process, half the request's Python CPU time
    (about 130 of 270 ms per 10,000 marks). Collection resumes when the request is done."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_MARK_SCHEMA = inline_serializer(
    "PrivilegedMark",
    {
        "trace_uid": serializers.CharField(),
        "status": serializers.ChoiceField(choices=STATUSES),
        "marked_at": serializers.DateTimeField(),
        "marked_by": serializers.CharField(required=False),
        "reason": serializers.CharField(required=False),
    },
)


def mark_schema() -> Any:
    """A fresh instance of the one mark component (DRF refuses to share a field between lists)."""
    return type(_MARK_SCHEMA)()


class PrivilegedMarksApi(APIView):
    """``POST``: Hansken's marks. ``GET``: the case's marks, for review."""

    def get_permissions(self) -> list[BasePermission]:
        return [MarkWriter()] if self.request.method == "POST" else [PeopleOnly()]

    @extend_schema(
        operation_id="privileged_marks_create",
        request=inline_serializer(
            "PrivilegedMarks", {"marks": serializers.ListField(child=mark_schema(), max_length=MAX_MARKS)}
        ),
        responses={
            201: inline_serializer(
                "PrivilegedMarksAccepted",
                {"accepted": serializers.IntegerField(), "unchanged": serializers.IntegerField()},
            )
        },
    )
    def post(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MARK_PRIVILEGED)
        with _collector_paused():
            try:
                marks = parse_marks(request.data, timezone.now(), frozenset(selectors.case_images(case)))
            except BulkProblem as problem:
                return Response({"errors": problem.errors}, status=status.HTTP_400_BAD_REQUEST)
            result = services.marks_record(case=case, marks=marks, by=Actor.from_request(request))
        return Response(
            {"accepted": result.accepted, "unchanged": result.unchanged}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="privileged_marks_list",
        parameters=[
            OpenApiParameter("status", str, enum=list(STATUSES)),
            OpenApiParameter("under", str, description="a trace uid: that trace and every trace it contains"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
            OpenApiParameter(
                "limit",
                int,
                description=f"page size, 1 to {selectors.MAX_PAGE} (default {selectors.DEFAULT_PAGE})",
            ),
        ],
        responses={
            200: inline_serializer(
                "PrivilegedMarkPage",
                {
                    "results": serializers.ListField(child=mark_schema()),
                    "next_cursor": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def get(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.REVIEW_PRIVILEGED)
        params = single_query_values(request.query_params)
        unknown = sorted(set(params) - {"status", "under", "cursor", "limit"})
        if unknown:
            return _bad(unknown[0], "This parameter is not known.")
        status_filter = params.get("status") or None
        if status_filter is not None and status_filter not in STATUSES:
            return _bad("status", f"Give one of: {', '.join(STATUSES)}.")
        under = None
        if params.get("under"):
            try:
                under = split_trace_uid(params["under"])
            except ValueError as exc:
                return _bad("under", str(exc))
        cursor = None
        if params.get("cursor"):
            try:
                cursor = selectors.decode_cursor(params["cursor"])
            except ValueError:
                return _bad("cursor", "This is not a cursor this list handed out.")
        limit = selectors.DEFAULT_PAGE
        if params.get("limit"):
            text = params["limit"]
            if not text.isdigit() or not 1 <= int(text) <= selectors.MAX_PAGE:
                return _bad("limit", f"Give a whole number from 1 to {selectors.MAX_PAGE}.")
            limit = int(text)
        rows, next_cursor = selectors.marks_page(
            case, status=status_filter, under=under, cursor=cursor, limit=limit
        )
        return Response(
            {
                "results": [
                    {
                        "trace_uid": row.trace_uid,
                        "status": row.status,
                        "marked_at": _iso(row.marked_at),
                        "marked_by": row.marked_by or None,
                        "reason": row.reason,
                    }
                    for row in rows
                ],
                "next_cursor": next_cursor,
            }
        )
