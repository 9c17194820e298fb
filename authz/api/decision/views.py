"""The decision API's views: thin (see the package's docstring for why ``dispatch`` is plain Django).
Each parses, decides, records the denials and answers, through the modules of this package."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from api_clients.authentication import BearerTokenAuthentication
from api_clients.models import ApiClient
from authz.api.decision.authentication import SCOPE, authenticate
from authz.api.decision.bodies import batch_body, decision_body
from authz.api.decision.deciding import decide_all, decide_batch, denials_of
from authz.api.decision.denials import record_denials
from authz.api.decision.parsing import (
    CHECK_FIELDS,
    MAX_BATCH,
    USERNAME_PROBLEM,
    parse_check,
    parse_json_object,
    query_action,
)
from authz.api.decision.problems import RequestProblem, json_response, problem
from authz.cache import fact_cache
from authz.decisions import Check, is_username
from authz.models import Action, Grant
from cases.models import Case
from cases.selectors import managed_cases

log = logging.getLogger(__name__)


class FastDecisionView(APIView):
    """Plain Django underneath (see the module docstring); DRF only describes it."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes: list[Any] = []
    scope = SCOPE  # the client's scope this endpoint needs

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = getattr(self, request.method.lower(), None) if request.method in ("GET", "POST") else None
        if handler is None:
            return json_response({"errors": [{"field": None, "message": "Method not allowed."}]}, status=405)
        try:
            use_cache = fact_cache.sync()
            client = authenticate(request, use_cache, timezone.now(), self.scope)
            response: HttpResponse = handler(request, client, use_cache)
            return response
        except RequestProblem as exc:
            return json_response({"errors": exc.errors}, status=exc.status)
        except DatabaseError:
            log.exception("Decision failed: database unavailable")
            return json_response(
                {
                    "errors": [
                        {
                            "field": None,
                            "message": "The decision service cannot reach its database; no decision.",
                        }
                    ]
                },
                status=503,
            )


DECISION_SCHEMA = inline_serializer(
    "Decision",
    {
        "allowed": serializers.BooleanField(),
        "reason": serializers.CharField(),
        "grant_id": serializers.IntegerField(allow_null=True),
        "valid_until": serializers.DateTimeField(allow_null=True),
        "decision_id": serializers.UUIDField(),
    },
)
CHECK_SCHEMA = inline_serializer(
    "DecisionCheck",
    {
        "user": serializers.CharField(),
        "project_id": serializers.UUIDField(),
        "action": serializers.ChoiceField(choices=Action.choices),
        "trace_uid": serializers.CharField(required=False),
    },
)


class CheckApi(FastDecisionView):
    @extend_schema(request=CHECK_SCHEMA, responses={200: DECISION_SCHEMA}, operation_id="authz_check")
    def post(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        check = parse_check(parse_json_object(request), None, CHECK_FIELDS)
        decision = decide_all([check], client.environment, use_cache)[0]
        denials = [] if decision.allowed else [(0, check, decision)]
        ids = record_denials(request, client, denials, 1, use_cache)
        return json_response(decision_body(decision, ids[0]))


class CheckBatchApi(FastDecisionView):
    @extend_schema(
        request=inline_serializer(
            "DecisionCheckBatch",
            {"checks": serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH)},
        ),
        responses={
            200: inline_serializer(
                "DecisionBatch", {"results": serializers.ListField(child=serializers.DictField())}
            )
        },
        operation_id="authz_check_batch",
    )
    def post(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        body = parse_json_object(request)
        unknown = sorted(set(body) - {"checks"})
        if unknown:
            raise problem(400, "This field is not known.", unknown[0])
        items = body.get("checks")
        if not isinstance(items, list) or not items:
            raise problem(400, "Give 'checks': a list of 1 to 1,000 checks.", "checks")
        if len(items) > MAX_BATCH:
            raise problem(400, f"At most {MAX_BATCH} checks per request; split the batch.", "checks")
        decisions, correlation_ids = decide_batch(items, client.environment, use_cache)
        ids = record_denials(request, client, denials_of(items, decisions), len(items), use_cache)
        return HttpResponse(batch_body(correlation_ids, decisions, ids), content_type="application/json")


class ProjectsApi(FastDecisionView):
    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, required=True),
            OpenApiParameter("action", str, required=True),
        ],
        responses={
            200: inline_serializer(
                "AllowedProjects", {"project_ids": serializers.ListField(child=serializers.UUIDField())}
            )
        },
        operation_id="authz_projects",
    )
    def get(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        user = request.GET.get("user", "")
        if not is_username(user):
            # As parse_check (so the memory of answers never holds another kind of username).
            raise problem(400, USERNAME_PROBLEM, "user")
        action = query_action(request)
        people, _ = fact_cache.people_and_cases([user], [], use_cache)
        person = people.get(user)
        if person is None:
            return json_response({"project_ids": []})
        # Candidates: every case the person manages or holds a grant on; the rule then decides each,
        # so this list agrees with `check` by construction.
        case_ids = set(person.managed_case_ids) | set(person.grants_by_case) | set(person.deputy_until)
        project_ids = [
            str(p) for p in Case.objects.filter(pk__in=case_ids).values_list("project_id", flat=True)
        ]
        checks: list[Check] = [((user, pid, action), "", None, "") for pid in project_ids]
        decisions = decide_all(checks, client.environment, use_cache)
        allowed = sorted(c[0][1] for c, d in zip(checks, decisions, strict=True) if d.allowed)
        return json_response({"project_ids": allowed})


class SubjectsApi(FastDecisionView):
    @extend_schema(
        parameters=[
            OpenApiParameter("project_id", uuid.UUID, required=True),
            OpenApiParameter("action", str, required=True),
        ],
        responses={
            200: inline_serializer(
                "AllowedSubjects", {"users": serializers.ListField(child=serializers.CharField())}
            )
        },
        operation_id="authz_subjects",
    )
    def get(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        try:
            project_id = uuid.UUID(request.GET.get("project_id", ""))
        except ValueError as exc:
            raise problem(400, "Give project_id, a UUID.", "project_id") from exc
        action = query_action(request)
        case = managed_cases([project_id]).get(project_id)
        if case is None:
            return json_response({"users": []})
        candidates = set(case.managers)
        candidates.update(Grant.objects.filter(case_id=case.pk).values_list("grantee__username", flat=True))
        checks: list[Check] = [((username, str(project_id), action), "", None, "") for username in candidates]
        decisions = decide_all(checks, client.environment, use_cache)
        allowed = sorted(c[0][0] for c, d in zip(checks, decisions, strict=True) if d.allowed)
        return json_response({"users": allowed})
