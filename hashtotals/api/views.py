"""Thin API views: validate, call one service, serialize. Datasets are reached through the cases'
scoping door (``hashtotals.selectors.dataset_for``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import scope_or_role
from audit.actor import Actor
from cases.selectors import CasePurpose
from hansken_governance.api_base import single_query_values
from hashtotals import selectors, services
from hashtotals.api.serializers import (
    PAGE,
    ComparisonOutput,
    DifferenceFilter,
    ManifestInput,
    ManifestOutput,
    difference_json,
)
from people.roles import Role

Upload = scope_or_role("hashtotals:write", Role.OPERATOR)
# Any person may ask (the door then decides which cases exist for them); a client only with the scope.
Read = scope_or_role("hashtotals:write")
ZERO = {"matched": 0, "changed": 0, "missing": 0, "extra": 0, "moved": 0}


class ManifestUploadApi(APIView):
    permission_classes = [Upload]
    # Multipart only: Django's upload handlers stream a large file to a temporary file on disk, and
    # the service copies it from there in chunks (never the whole file in memory).
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": ManifestInput}, responses={201: ManifestOutput})
    def post(self, request: Request, project_id: str, image_id: str) -> Response:
        dataset = selectors.dataset_for(request, project_id, image_id, CasePurpose.HASHTOTALS_UPLOAD)
        data = ManifestInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        manifest, comparison = services.manifest_upload(
            dataset=dataset,
            side=data.validated_data["side"],
            source=upload,
            original_name=upload.name or "",
            fmt=data.validated_data.get("format") or None,
            by=Actor.from_request(request),
        )
        body: dict[str, Any] = dict(ManifestOutput(manifest).data)
        body["comparison"] = (
            None
            if comparison is None
            else {
                **ComparisonOutput(comparison).data,
                "counts": comparison.counts(),
            }
        )
        return Response(body, status=status.HTTP_201_CREATED)


class HashtotalsApi(APIView):
    permission_classes = [Read]

    @extend_schema(
        parameters=[DifferenceFilter], responses={200: OpenApiResponse(description="The comparison")}
    )
    def get(self, request: Request, project_id: str, image_id: str) -> Response:
        dataset = selectors.dataset_for(request, project_id, image_id, CasePurpose.HASHTOTALS_VIEW)
        filters = DifferenceFilter(data=single_query_values(request.query_params))
        filters.is_valid(raise_exception=True)
        delivered, imported, comparison = selectors.current_state(dataset)
        body: dict[str, Any] = {
            "verdict": "waiting" if comparison is None else comparison.verdict,
            "delivered": None if delivered is None else ManifestOutput(delivered).data,
            "imported": None if imported is None else ManifestOutput(imported).data,
            "counts": dict(ZERO) if comparison is None else comparison.counts(),
            "image": None if comparison is None else comparison.image,
            "comparison": None if comparison is None else ComparisonOutput(comparison).data,
            "differences": [],
            "next_cursor": None,
        }
        if comparison is not None:
            limit = filters.validated_data.get("limit", PAGE)
            after = int(filters.validated_data.get("cursor", -1))
            rows = list(
                selectors.differences(comparison, kind=filters.validated_data.get("kind"), after=after)[
                    : limit + 1
                ]
            )
            body["differences"] = [difference_json(row) for row in rows[:limit]]
            if len(rows) > limit:
                body["next_cursor"] = str(rows[limit - 1].ordinal)
        return Response(body)
