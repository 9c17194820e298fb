"""Thin API views of release test reports: validate, call one service, serialize."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import scope_or_role
from audit.actor import Actor
from hansken_governance.api_errors import error, errors_response
from test_reports import selectors, services, upload
from test_reports.api.serializers import ReleaseInput, ReportInput, ReportOutput, release_json
from test_reports.rights import UPLOADER_ROLES, WRITE_SCOPE

Publish = scope_or_role(WRITE_SCOPE, *UPLOADER_ROLES)
# Every signed-in person reads; a client only with the scope.
Read = scope_or_role(WRITE_SCOPE)


def _too_large() -> Response:
    return errors_response(
        [
            error(
                f"The file is larger than {upload.max_bytes()} bytes, the most a test report may be.", "file"
            )
        ],
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class ReleasesApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [Publish()] if self.request.method == "POST" else [Read()]

    @extend_schema(
        operation_id="v1_releases_list",  # an APIView's GET is a "retrieve" to drf-spectacular otherwise
        responses={200: OpenApiResponse(description="Every release, newest first, with its reports")},
    )
    def get(self, request: Request) -> Response:
        releases = selectors.releases_newest_first().prefetch_related("reports__not_passed")
        return Response({"results": [release_json(release, details=False) for release in releases]})

    @extend_schema(request=ReleaseInput, responses={201: OpenApiResponse(description="The release")})
    def post(self, request: Request) -> Response:
        data = ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        release = services.release_create(
            version=data.validated_data["version"],
            released_at=data.validated_data["released_at"],
            notes=data.validated_data["notes"],
            by=Actor.from_request(request),
        )
        return Response(release_json(release, details=True), status=status.HTTP_201_CREATED)


class ReleaseApi(APIView):
    permission_classes = [Read]

    @extend_schema(
        responses={
            200: OpenApiResponse(description="The release, its reports and every test that did not pass")
        }
    )
    def get(self, request: Request, version: str) -> Response:
        release = selectors.release_by_version(version)
        return Response(release_json(release, details=True))


class ReportUploadApi(APIView):
    permission_classes = [Publish]
    # Multipart only: the file streams to a temporary file, behind the size cap (test_reports.upload).
    parser_classes = [MultiPartParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (a session's CSRF check does): the cap counts every byte.
        upload.install_cap(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ReportInput}, responses={201: ReportOutput})
    def post(self, request: Request, version: str) -> Response:
        if upload.declared_too_large(request):
            return _too_large()
        release = selectors.release_by_version(version)
        data = ReportInput(data=request.data)
        if upload.too_large(request):
            return _too_large()
        data.is_valid(raise_exception=True)
        file = data.validated_data["file"]
        report = services.report_upload(
            release=release,
            kind=data.validated_data["kind"],
            source=file,
            original_name=file.name or "",
            by=Actor.from_request(request),
        )
        return Response(ReportOutput(report).data, status=status.HTTP_201_CREATED)
