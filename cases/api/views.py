"""Thin API views: validate, call one service, serialize."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import PeopleOnly, scope_or_role
from audit.actor import Actor
from cases import services
from cases.api.serializers import (
    CaseCreateInput,
    CaseOutput,
    CaseStatusInput,
    DatasetCreateInput,
    DatasetLastAccessInput,
    DatasetOutput,
    DeputyChangeInput,
    DeputyInput,
)
from cases.models import Case
from cases.selectors import CasePurpose, case_for
from people.roles import Role

CasesWrite = scope_or_role("cases:write", Role.OPERATOR)
# Any person may ask (the scoping door then decides which cases exist for them); a client only with
# cases:write, so an experiment client is refused (403), not told the case does not exist (404).
CasesRead = scope_or_role("cases:write")


class CaseCreateApi(APIView):
    permission_classes = [CasesWrite]

    @extend_schema(request=CaseCreateInput, responses={201: CaseOutput})
    def post(self, request: Request) -> Response:
        data = CaseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_create(**data.validated_data, by=Actor.from_request(request))
        return Response(CaseOutput(case).data, status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    permission_classes = [CasesRead]

    @extend_schema(responses={200: CaseOutput})
    def get(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.VIEW)
        return Response(CaseOutput(case).data)


class DatasetCreateApi(APIView):
    permission_classes = [CasesWrite]

    @extend_schema(request=DatasetCreateInput, responses={201: DatasetOutput})
    def post(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MANAGE_DATASETS)
        data = DatasetCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_register(
            case=case,
            image_id=data.validated_data["image_id"],
            description=data.validated_data["description"],
            delivered_by=data.validated_data["delivered_by"],
            imported_at=data.validated_data.get("imported_at"),
            environments=data.validated_data.get("environments"),
            by=Actor.from_request(request),
        )
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    permission_classes = [CasesWrite]

    @extend_schema(request=DatasetLastAccessInput, responses={200: DatasetOutput})
    def patch(self, request: Request, project_id: str, image_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MANAGE_DATASETS)
        dataset = get_object_or_404(case.datasets.select_related("case"), image_id=image_id)
        data = DatasetLastAccessInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.dataset_report_last_access(
            dataset=dataset,
            last_accessed_at=data.validated_data["last_accessed_at"],
            by=Actor.from_request(request),
        )
        dataset.refresh_from_db()
        return Response(DatasetOutput(dataset).data)


def _led_case(request: Request, project_id: str) -> Case:
    """The case, for its case lead only: deputies manage grants, but the lead names the deputies
    and decides the case's status."""
    case = case_for(request, project_id, CasePurpose.MANAGE_ACCESS)
    if case.case_lead_id != request.user.pk:
        raise PermissionDenied("Only the case lead names deputies and changes the case's status.")
    return case


class CaseDeputiesApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=DeputyInput, responses={201: CaseOutput})
    def post(self, request: Request, project_id: str) -> Response:
        case = _led_case(request, project_id)
        data = DeputyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_add_deputy(
            case=case,
            deputy=data.validated_data["deputy"],
            valid_until=data.validated_data.get("valid_until"),
            by=Actor.from_request(request),
        )
        return Response(CaseOutput(case).data, status=status.HTTP_201_CREATED)


class CaseDeputyApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=DeputyChangeInput, responses={200: CaseOutput})
    def patch(self, request: Request, project_id: str, username: str) -> Response:
        """Move the end of a deputyship (extend or shorten); the earlier end stays in the history."""
        case = _led_case(request, project_id)
        deputy = get_object_or_404(User, username=username)
        data = DeputyChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_change_deputy(
            case=case,
            deputy=deputy,
            valid_until=data.validated_data["valid_until"],
            reason=data.validated_data["reason"],
            by=Actor.from_request(request),
        )
        return Response(CaseOutput(case).data)

    @extend_schema(request=None, responses={200: CaseOutput})
    def delete(self, request: Request, project_id: str, username: str) -> Response:
        case = _led_case(request, project_id)
        deputy = get_object_or_404(User, username=username)
        services.case_remove_deputy(case=case, deputy=deputy, by=Actor.from_request(request))
        return Response(CaseOutput(case).data)


class CaseStatusApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=CaseStatusInput, responses={200: CaseOutput})
    def post(self, request: Request, project_id: str) -> Response:
        case = _led_case(request, project_id)
        data = CaseStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_set_status(
            case=case,
            status=data.validated_data["status"],
            reason=data.validated_data["reason"],
            by=Actor.from_request(request),
        )
        return Response(CaseOutput(case).data)
