"""Thin API views: validate, call one service, serialize. People only (machine clients 403); every
notice is loaded through the cases' scoping door."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import PeopleOnly, person_of, scope_or_role
from audit.actor import Actor
from cases.selectors import CasePurpose, case_for
from hansken_governance.api_base import single_query_values
from hansken_governance.api_schema import results_of
from people.roles import Role
from retention import selectors, services
from retention.api.serializers import (
    ConfirmInput,
    DecideInput,
    NoticeFilter,
    NoticeOutput,
    RemovalFilter,
    RemovalOutput,
)

Operators = scope_or_role(None, Role.OPERATOR)


class NoticeListApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(parameters=[NoticeFilter], responses={200: results_of("NoticeList", NoticeOutput)})
    def get(self, request: Request) -> Response:
        filters = NoticeFilter(data=single_query_values(request.query_params))
        filters.is_valid(raise_exception=True)
        notices = selectors.notices_visible_to(person_of(request))
        if "project_id" in filters.validated_data:
            # A case outside the caller's scope is a 404, as everywhere else.
            case = case_for(request, filters.validated_data["project_id"], CasePurpose.REVIEW_AUDIT)
            notices = notices.filter(case=case)
        if "status" in filters.validated_data:
            notices = notices.filter(status=filters.validated_data["status"])
        return Response({"results": NoticeOutput(notices.order_by("-created_at", "-pk"), many=True).data})


class NoticeDecideApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=DecideInput, responses={200: NoticeOutput})
    def post(self, request: Request, notice_id: int) -> Response:
        person = person_of(request)
        notice = selectors.notice_to_answer(person, notice_id)
        data = DecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.notice_decide(
            notice=notice,
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
            keep_until=data.validated_data.get("keep_until"),
            decided_by=person,
            by=Actor.from_request(request),
        )
        return Response(NoticeOutput(selectors.notices_visible_to(person).get(pk=notice.pk)).data)


class RemovalListApi(APIView):
    permission_classes = [Operators]

    @extend_schema(parameters=[RemovalFilter], responses={200: results_of("RemovalList", RemovalOutput)})
    def get(self, request: Request) -> Response:
        filters = RemovalFilter(data=single_query_values(request.query_params))
        filters.is_valid(raise_exception=True)
        tasks = selectors.removal_tasks()
        if "status" in filters.validated_data:
            tasks = tasks.filter(status=filters.validated_data["status"])
        return Response({"results": RemovalOutput(tasks.order_by("requested_at", "pk"), many=True).data})


class RemovalConfirmApi(APIView):
    permission_classes = [Operators]

    @extend_schema(request=ConfirmInput, responses={200: RemovalOutput})
    def post(self, request: Request, task_id: int) -> Response:
        task = get_object_or_404(selectors.removal_tasks(), pk=task_id)
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.removal_confirm(
            task=task,
            environment=data.validated_data["environment"],
            removed_at=data.validated_data["removed_at"],
            reference=data.validated_data["reference"],
            confirmed_by=person_of(request),
            by=Actor.from_request(request),
        )
        return Response(RemovalOutput(selectors.removal_tasks().get(pk=task.pk)).data)
