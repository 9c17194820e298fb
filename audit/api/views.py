"""The audit API: Hansken posts usage events; reviewers read the trail and ask who had access when.

Thin views: validate, call one service or selector, serialize. Every opening of the trail is itself
audited (``audit.viewed``), after the read, so a page never lists its own opening.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import PeopleOnly, calling_client, client_may
from audit import services
from audit.actor import Actor
from audit.models import Outcome
from audit.real_access import UsageRefused
from audit.selectors import (
    DEFAULT_PAGE,
    MAX_PAGE,
    EventFilters,
    ReviewScope,
    decode_cursor,
    encode_cursor,
    event_page,
    review_scope,
)
from audit.usage import MAX_EVENTS, parse_usage_events
from authz.selectors import access_at
from cases.models import Case
from hansken_governance.api_base import single_query_values
from hansken_governance.bulk_input import BulkProblem
from hansken_governance.query_numbers import whole_number
from hansken_governance.request_context import client_address

WRITE_SCOPE = "audit:write"
NOT_A_REVIEWER = (
    "Only the privacy officer, the security manager, and case leads and deputies (for their own cases) "
    "may review the audit trail."
)


class UsageWriter(BasePermission):
    """Hansken's machine clients with ``audit:write`` (experiment clients included: they report usage
    too). People never post usage events."""

    message = f"Only Hansken's clients with the scope {WRITE_SCOPE} may post usage events."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = calling_client(request)
        return client is not None and client_may(client, WRITE_SCOPE)


def _iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


class BadQuery(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bad(exc: BadQuery) -> Response:
    return Response(
        {"errors": [{"field": exc.field, "message": exc.message}]}, status=status.HTTP_400_BAD_REQUEST
    )


def _query_uuid(params: Any, name: str) -> uuid.UUID | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadQuery(name, "Give a UUID.") from None


def _query_time(params: Any, name: str) -> datetime.datetime | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    # An offset's "+" sent unescaped in a query string arrives as a space.
    text = value.strip().replace(" ", "+") if "T" in value else value
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(name, "Give an ISO 8601 time with an offset, e.g. 2026-01-31T12:00:00Z.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadQuery(name, "Give the time with an offset, e.g. 2026-01-31T12:00:00Z.")
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # e.g. year 1 with an eastern offset
        raise BadQuery(name, "This time lies outside the calendar.") from None


def _query_text(params: Any, name: str, limit: int) -> str:
    value = params.get(name, "")
    if len(value) > limit:
        raise BadQuery(name, f"At most {limit} characters.")
    if not str(value).isprintable():
        # PostgreSQL refuses NUL in text; any control character here is a mistake, not a name.
        raise BadQuery(name, "Control characters are not allowed.")
    return str(value)


def _only(params: Any, known: set[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadQuery(unknown[0], "This parameter is not known.")


def _scope_or_403(request: Request) -> ReviewScope:
    scope = review_scope(request)
    if scope is None:
        raise PermissionDenied(NOT_A_REVIEWER)
    return scope


class UsageEventsApi(APIView):
    """``POST``: Hansken's usage events. ``GET``: the trail, for review."""

    def get_permissions(self) -> list[BasePermission]:
        return [UsageWriter()] if self.request.method == "POST" else [PeopleOnly()]

    @extend_schema(
        operation_id="audit_events_create",
        request=inline_serializer(
            "UsageEvents",
            {
                "events": serializers.ListField(
                    child=inline_serializer(
                        "UsageEvent",
                        {
                            "event_id": serializers.UUIDField(),
                            "occurred_at": serializers.DateTimeField(),
                            "user": serializers.CharField(),
                            "project_id": serializers.UUIDField(),
                            "image_id": serializers.UUIDField(required=False),
                            "trace_uid": serializers.CharField(required=False),
                            "action": serializers.CharField(),
                            "outcome": serializers.ChoiceField(choices=["success", "failure"]),
                            "details": serializers.DictField(required=False),
                        },
                    ),
                    max_length=MAX_EVENTS,
                )
            },
        ),
        responses={
            201: inline_serializer(
                "UsageEventsAccepted",
                {"accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField()},
            )
        },
    )
    def post(self, request: Request) -> Response:
        client = calling_client(request)
        assert client is not None  # UsageWriter admitted only clients
        try:
            events = parse_usage_events(request.data, timezone.now())
        except BulkProblem as problem:
            return Response({"errors": problem.errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = services.usage_events_record(
                events=events,
                client_name=client.name,
                environment=client.environment,
                source_address=client_address(request._request),
                request_id=getattr(request._request, "request_id", ""),
            )
        except UsageRefused as refused:  # a real case for a test client (403), an id reused (409)
            return Response({"errors": refused.errors}, status=refused.status)
        return Response(
            {"accepted": result.accepted, "duplicates": result.duplicates}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[
            OpenApiParameter("project_id", uuid.UUID),
            OpenApiParameter("user", str),
            OpenApiParameter(
                "action",
                str,
                description="the stored code (grant.revoked, hansken.read) or a usage event's action "
                "as Hansken sent it (read)",
            ),
            OpenApiParameter("outcome", str, enum=Outcome.values),
            OpenApiParameter("since", datetime.datetime, description="occurred at or after (with offset)"),
            OpenApiParameter("until", datetime.datetime, description="occurred before (with offset)"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
            OpenApiParameter(
                "limit", int, description=f"page size, 1 to {MAX_PAGE} (default {DEFAULT_PAGE})"
            ),
        ],
        responses={
            200: inline_serializer(
                "AuditEventPage",
                {
                    "results": serializers.ListField(child=serializers.DictField()),
                    "next_cursor": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        scope = _scope_or_403(request)
        params = single_query_values(request.query_params)
        try:
            _only(params, {"project_id", "user", "action", "outcome", "since", "until", "cursor", "limit"})
            filters = EventFilters(
                project_id=_query_uuid(params, "project_id"),
                user=_query_text(params, "user", 200),
                action=_query_text(params, "action", 100),
                outcome=_query_text(params, "outcome", 10),
                since=_query_time(params, "since"),
                until=_query_time(params, "until"),
            )
            if filters.outcome and filters.outcome not in Outcome.values:
                raise BadQuery("outcome", f"Give one of: {', '.join(Outcome.values)}.")
            if filters.since and filters.until and filters.since >= filters.until:
                raise BadQuery("until", "until must lie after since.")
            before = None
            if params.get("cursor"):
                try:
                    before = decode_cursor(params["cursor"])
                except ValueError:
                    raise BadQuery("cursor", "This cursor is not one this API handed out.") from None
            limit = DEFAULT_PAGE
            if params.get("limit"):
                number = whole_number(params["limit"], 1, MAX_PAGE)
                if number is None:
                    raise BadQuery("limit", f"Give a whole number from 1 to {MAX_PAGE}.")
                limit = number
        except BadQuery as exc:
            return _bad(exc)
        if filters.project_id is not None and not scope.covers(filters.project_id):
            raise Http404
        rows, next_before = event_page(scope=scope, filters=filters, before=before, limit=limit)
        services.audit_opened(
            by=Actor.from_request(request),
            view="events",
            filters={**filters.as_details(), **({"cursor": params["cursor"]} if before else {})},
            project_id=filters.project_id,
        )
        return Response(
            {
                "results": [_event_json(row) for row in rows],
                "next_cursor": encode_cursor(next_before) if next_before is not None else None,
            }
        )


def _event_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "sequence": row["sequence"],
        "event_id": str(row["event_id"]),
        "occurred_at": _iso(row["occurred_at"]),
        "recorded_at": _iso(row["recorded_at"]),
        "actor": row["actor"],
        "on_behalf_of": row["on_behalf_of"],
        "actor_role": row["actor_role"],
        "client_name": row["client_name"],
        "environment": row["environment"],
        "channel": row["channel"],
        "source_address": row["source_address"],
        "action": row["action"],
        "outcome": row["outcome"],
        "project_id": str(row["project_id"]) if row["project_id"] else None,
        "image_id": str(row["image_id"]) if row["image_id"] else None,
        "trace_uid": row["trace_uid"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "grant_id": row["grant_id"],
        "basis": row["basis"],
        "request_id": row["request_id"],
        "details": row["details"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


class AccessAtApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(
        operation_id="audit_access_at",
        parameters=[
            OpenApiParameter("project_id", uuid.UUID, required=True),
            OpenApiParameter("at", datetime.datetime, required=True, description="the moment (with offset)"),
        ],
        responses={
            200: inline_serializer(
                "AccessAtMoment",
                {"access": serializers.ListField(child=serializers.DictField())},
            )
        },
    )
    def get(self, request: Request) -> Response:
        scope = _scope_or_403(request)
        params = single_query_values(request.query_params)
        try:
            _only(params, {"project_id", "at"})
            project_id = _query_uuid(params, "project_id")
            if project_id is None:
                raise BadQuery("project_id", "Give project_id, the case's Hansken project UUID.")
            at = _query_time(params, "at")
            if at is None:
                raise BadQuery("at", "Give at, the moment, e.g. 2026-01-31T12:00:00Z.")
        except BadQuery as exc:
            return _bad(exc)
        case = (
            Case.objects.select_related("case_lead").filter(project_id=project_id).first()
            if scope.covers(project_id)
            else None
        )
        if case is None:
            raise Http404
        access = access_at(case, at)
        services.audit_opened(
            by=Actor.from_request(request),
            view="access_at",
            filters={"project_id": str(project_id), "at": at.isoformat()},
            project_id=project_id,
        )
        return Response(
            {
                "access": [
                    {
                        "user": row.user,
                        "rights": row.rights,
                        "environments": row.environments,
                        "grant_id": row.grant_id,
                        "granted_by": row.granted_by,
                        "granted_at": _iso(row.granted_at),
                        "valid_from": _iso(row.valid_from),
                        "valid_until": _iso(row.valid_until),
                        "reason": row.reason,
                        "could_act": row.could_act,
                        "blocked_by": row.blocked_by,
                    }
                    for row in access
                ]
            }
        )
