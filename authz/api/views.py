"""Grant management and access requests: people only (never machine clients), scoped through the
case door so a case the caller does not manage is a 404."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import PeopleOnly, person_of
from audit.actor import Actor
from authz import services
from authz.api.serializers import (
    AccessRequestInput,
    AccessRequestOutput,
    ApproveInput,
    GrantChangeInput,
    GrantCreateInput,
    GrantOutput,
    ReasonInput,
    RejectInput,
    SignOffInput,
    with_warnings,
)
from authz.models import AccessRequest, Grant, GrantVersion
from cases.models import Case
from cases.selectors import CasePurpose, case_for, cases_for
from hansken_governance.api_schema import results_of


def grants_with_history() -> QuerySet[Grant]:
    return Grant.objects.select_related("case", "grantee", "granted_by").prefetch_related(
        Prefetch("versions", queryset=GrantVersion.objects.order_by("version"))
    )


def managed_grant(request: Request, grant_id: int) -> Grant:
    return get_object_or_404(
        grants_with_history().filter(case__in=cases_for(request, CasePurpose.MANAGE_ACCESS)), pk=grant_id
    )


class CaseGrantsApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(responses={200: results_of("CaseGrantList", GrantOutput)})
    def get(self, request: Request, project_id: str) -> Response:
        # The case lead and deputies manage; the privacy officer and security manager review.
        case = case_for(request, project_id, CasePurpose.REVIEW_AUDIT)
        grants = grants_with_history().filter(case=case).order_by("-granted_at")
        return Response({"results": GrantOutput(grants, many=True).data})

    @extend_schema(request=GrantCreateInput, responses={201: GrantOutput})
    def post(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MANAGE_ACCESS)
        data = GrantCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant, warnings = services.grant_create(
            case=case, granted_by=person_of(request), by=Actor.from_request(request), **data.validated_data
        )
        grant = grants_with_history().get(pk=grant.pk)
        return Response(with_warnings(GrantOutput(grant).data, warnings), status=status.HTTP_201_CREATED)


class GrantDetailApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(responses={200: GrantOutput})
    def get(self, request: Request, grant_id: int) -> Response:
        visible = cases_for(request, CasePurpose.REVIEW_AUDIT)
        grant = get_object_or_404(
            grants_with_history().filter(Q(case__in=visible) | Q(grantee=person_of(request))), pk=grant_id
        )
        return Response(GrantOutput(grant).data)

    @extend_schema(request=GrantChangeInput, responses={200: GrantOutput})
    def patch(self, request: Request, grant_id: int) -> Response:
        grant = managed_grant(request, grant_id)
        data = GrantChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant, warnings = services.grant_change(
            grant=grant, changed_by=person_of(request), by=Actor.from_request(request), **data.validated_data
        )
        return Response(with_warnings(GrantOutput(grants_with_history().get(pk=grant.pk)).data, warnings))


class GrantRevokeApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=ReasonInput, responses={200: GrantOutput})
    def post(self, request: Request, grant_id: int) -> Response:
        grant = managed_grant(request, grant_id)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.grant_revoke(
            grant=grant,
            reason=data.validated_data["reason"],
            revoked_by=person_of(request),
            by=Actor.from_request(request),
        )
        return Response(GrantOutput(grants_with_history().get(pk=grant.pk)).data)


class CaseSignOffApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=SignOffInput, responses={200: dict})
    def post(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MANAGE_ACCESS)
        data = SignOffInput(data=request.data)
        data.is_valid(raise_exception=True)
        revoked = services.case_sign_off(
            case=case,
            person=data.validated_data["person"],
            reason=data.validated_data["reason"],
            signed_off_by=person_of(request),
            by=Actor.from_request(request),
        )
        return Response({"revoked": revoked})


class MyGrantsApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(responses={200: results_of("MyGrantList", GrantOutput)})
    def get(self, request: Request) -> Response:
        grants = grants_with_history().filter(grantee=person_of(request)).order_by("-granted_at")
        return Response({"results": GrantOutput(grants, many=True).data})


class CaseAccessRequestsApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(responses={200: results_of("CaseAccessRequestList", AccessRequestOutput)})
    def get(self, request: Request, project_id: str) -> Response:
        case = case_for(request, project_id, CasePurpose.MANAGE_ACCESS)
        requests = AccessRequest.objects.filter(case=case).select_related("case", "requester", "answered_by")
        return Response({"results": AccessRequestOutput(requests, many=True).data})

    @extend_schema(request=AccessRequestInput, responses={201: AccessRequestOutput})
    def post(self, request: Request, project_id: str) -> Response:
        # Anyone may ask for access to an open case they know the project id of; the case lead decides.
        # The body is checked first, so a malformed request says nothing about whether the case exists.
        data = AccessRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(Case, project_id=project_id)
        access_request = services.access_request_create(
            case=case, requester=person_of(request), by=Actor.from_request(request), **data.validated_data
        )
        return Response(AccessRequestOutput(access_request).data, status=status.HTTP_201_CREATED)


class MyAccessRequestsApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(responses={200: results_of("MyAccessRequestList", AccessRequestOutput)})
    def get(self, request: Request) -> Response:
        """The caller's own requests, and the open requests on cases the caller manages."""
        managed = cases_for(request, CasePurpose.MANAGE_ACCESS)
        requests = AccessRequest.objects.filter(
            Q(requester=person_of(request)) | Q(case__in=managed, status="open")
        ).select_related("case", "requester", "answered_by")
        return Response({"results": AccessRequestOutput(requests, many=True).data})


def managed_request(request: Request, request_id: int) -> AccessRequest:
    return get_object_or_404(
        AccessRequest.objects.select_related("case", "requester").filter(
            case__in=cases_for(request, CasePurpose.MANAGE_ACCESS)
        ),
        pk=request_id,
    )


class AccessRequestApproveApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=ApproveInput, responses={201: GrantOutput})
    def post(self, request: Request, request_id: int) -> Response:
        access_request = managed_request(request, request_id)
        data = ApproveInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant, warnings = services.access_request_approve(
            access_request=access_request,
            approved_by=person_of(request),
            by=Actor.from_request(request),
            **data.validated_data,
        )
        grant = grants_with_history().get(pk=grant.pk)
        return Response(with_warnings(GrantOutput(grant).data, warnings), status=status.HTTP_201_CREATED)


class AccessRequestRejectApi(APIView):
    permission_classes = [PeopleOnly]

    @extend_schema(request=RejectInput, responses={200: AccessRequestOutput})
    def post(self, request: Request, request_id: int) -> Response:
        access_request = managed_request(request, request_id)
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        access_request = services.access_request_reject(
            access_request=access_request,
            rejected_by=person_of(request),
            note=data.validated_data["note"],
            by=Actor.from_request(request),
        )
        return Response(AccessRequestOutput(access_request).data)
