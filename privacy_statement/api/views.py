"""Thin API views of the privacy statement. Reading is public (organisations considering Hansken read
it too, and Hansken polls it with ``If-None-Match``); acknowledgements come from Hansken (scope
``audit:write``) or from a person for himself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_clients.permissions import calling_client, scope_or_role
from audit.actor import Actor
from hansken_governance.api_base import single_query_values
from privacy_statement import selectors, services
from privacy_statement.api.serializers import (
    AcknowledgementInput,
    AcknowledgementOutput,
    LanguageFilter,
    StatementOutput,
    VersionListOutput,
)
from privacy_statement.models import StatementVersion

# Revalidate every time: the version in force changes when a new one's date comes, and a 304 costs
# Hansken next to nothing.
CACHE_CONTROL = "no-cache"


def _language(request: Request) -> str:
    filters = LanguageFilter(data=single_query_values(request.query_params))
    filters.is_valid(raise_exception=True)
    return str(filters.validated_data["lang"])


def etag_of(version: StatementVersion, language: str) -> str:
    # A published version never changes, so its number, the language and the text's hash name the
    # whole answer.
    return f'"{version.number}-{language}-{version.sha256(language)[:32]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison, as a GET uses it: ``*``, or any listed tag with or without ``W/``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def statement_data(version: StatementVersion, language: str) -> dict[str, Any]:
    return {
        "version": str(version.number),
        "language": language,
        "title": version.title(language),
        "effective_from": version.effective_from,
        "published_at": version.published_at,
        "body_markdown": version.markdown(language),
        "body_html": version.html(language),
        "sha256": version.sha256(language),
    }


class StatementApi(APIView):
    # No sign-in, and no token lookup either: a token sent along is simply not needed.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[LanguageFilter],
        responses={200: StatementOutput, 304: OpenApiResponse(description="Not modified (If-None-Match).")},
    )
    def get(self, request: Request) -> Response:
        language = _language(request)
        version = selectors.version_in_force()
        if version is None:
            raise NotFound("No privacy statement is in force yet.")
        etag = etag_of(version, language)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if etag_matches(request.headers.get("If-None-Match"), etag):
            return Response(status=304, headers=headers)
        return Response(StatementOutput(statement_data(version, language)).data, headers=headers)


class VersionListApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(parameters=[LanguageFilter], responses={200: VersionListOutput})
    def get(self, request: Request) -> Response:
        language = _language(request)
        in_force = selectors.version_in_force()
        results = [
            {
                "version": str(version.number),
                "language": language,
                "title": version.title(language),
                "effective_from": version.effective_from,
                "published_at": version.published_at,
                "in_force": in_force is not None and version.pk == in_force.pk,
                "change_summary": version.change_summary(language),
                "sha256": version.sha256(language),
            }
            for version in selectors.published_versions()
        ]
        return Response(VersionListOutput({"results": results}).data)


class AcknowledgementApi(APIView):
    # Hansken with audit:write for anyone it showed the statement to; a person only for himself.
    permission_classes = [scope_or_role("audit:write")]

    @extend_schema(
        request=AcknowledgementInput,
        responses={201: AcknowledgementOutput},
    )
    def post(self, request: Request) -> Response:
        data = AcknowledgementInput(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["user"]
        if calling_client(request) is None and username != request.user.get_username():
            raise PermissionDenied("A person acknowledges the privacy statement for himself only.")
        person = User.objects.filter(username=username).first()
        if person is None:
            raise ValidationError({"user": [f"Unknown user: {username}."]})
        version = selectors.published_versions().filter(number=int(data.validated_data["version"])).first()
        if version is None:
            raise ValidationError({"version": ["No published version has this number."]})
        acknowledgement, created = services.statement_acknowledge(
            version=version, person=person, by=Actor.from_request(request)
        )
        answer = {
            "user": person.get_username(),
            "version": str(version.number),
            "acknowledged_at": acknowledgement.acknowledged_at,
            "channel": acknowledgement.channel,
            "created": created,
        }
        # 201 also for a repeat (stored once, "created": false): the contract answers 201, and a
        # client that retries after a lost answer must not read its retry as a failure.
        return Response(AcknowledgementOutput(answer).data, status=201)
