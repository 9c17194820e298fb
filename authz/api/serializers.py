"""Input and output of the grant and access-request API (the decision API builds its own bodies)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from authz.models import AccessRequest, Action, Grant, GrantVersion
from cases.api.serializers import UsernameField
from hansken_governance.api_base import AwareDateTimeField, OutputSerializer, StrictSerializer
from hansken_governance.environments import GRANT_ENVIRONMENT_CHOICES
from hansken_governance.service_errors import ServiceWarning


def grant_status(grant: Grant) -> str:
    now = timezone.now()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until <= now:
        return "expired"
    if grant.valid_from > now:
        return "not_yet_valid"
    return "active"


class RightsField(serializers.ListField):
    child = serializers.ChoiceField(choices=Action.choices)


class EnvironmentsField(serializers.ListField):
    # Grants and requests name production and/or experiment; case data lives nowhere else.
    child = serializers.ChoiceField(choices=GRANT_ENVIRONMENT_CHOICES)


class GrantCreateInput(StrictSerializer):
    grantee = UsernameField()
    rights = RightsField(allow_empty=False)
    environments = EnvironmentsField(allow_empty=False, required=False)
    valid_from = AwareDateTimeField(required=False)
    valid_until = AwareDateTimeField()
    reason = serializers.CharField(max_length=2000)


class GrantChangeInput(StrictSerializer):
    rights = RightsField(allow_empty=False, required=False)
    environments = EnvironmentsField(allow_empty=False, required=False)
    valid_until = AwareDateTimeField(required=False)
    reason = serializers.CharField(max_length=2000)


class ReasonInput(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class SignOffInput(StrictSerializer):
    person = UsernameField()
    reason = serializers.CharField(max_length=2000)


class AccessRequestInput(StrictSerializer):
    rights = RightsField(allow_empty=False)
    environments = EnvironmentsField(allow_empty=False, required=False)
    valid_from = AwareDateTimeField(required=False)
    valid_until = AwareDateTimeField()
    reason = serializers.CharField(max_length=2000)


class ApproveInput(StrictSerializer):
    rights = RightsField(allow_empty=False, required=False)
    environments = EnvironmentsField(allow_empty=False, required=False)
    valid_until = AwareDateTimeField(required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectInput(StrictSerializer):
    note = serializers.CharField(max_length=2000)


class GrantVersionOutput(OutputSerializer):
    changed_by = serializers.CharField(source="changed_by_label")

    class Meta:
        model = GrantVersion
        fields = [
            "version",
            "kind",
            "rights",
            "environments",
            "valid_from",
            "valid_until",
            "revoked",
            "changed_by",
            "reason",
            "recorded_at",
            "superseded_at",
        ]


class GrantOutput(OutputSerializer):
    project_id = serializers.UUIDField(source="case.project_id")
    grantee = serializers.CharField(source="grantee.username")
    granted_by = serializers.CharField(source="granted_by.username")
    revoked_by = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    history = GrantVersionOutput(source="versions", many=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "project_id",
            "grantee",
            "rights",
            "environments",
            "valid_from",
            "valid_until",
            "reason",
            "granted_by",
            "granted_at",
            "changed_at",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
            "status",
            "version",
            "history",
        ]

    def get_status(self, grant: Grant) -> str:
        return grant_status(grant)

    def get_revoked_by(self, grant: Grant) -> str | None:
        return grant.revoked_by_label or None


class AccessRequestOutput(OutputSerializer):
    project_id = serializers.UUIDField(source="case.project_id")
    case_number = serializers.CharField(source="case.case_number")
    requester = serializers.CharField(source="requester.username")
    answered_by = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "project_id",
            "case_number",
            "requester",
            "rights",
            "environments",
            "valid_from",
            "valid_until",
            "reason",
            "status",
            "created_at",
            "answered_at",
            "answered_by",
            "answer_note",
        ]

    def get_answered_by(self, request: AccessRequest) -> str | None:
        return request.answered_by.username if request.answered_by else None


def with_warnings(data: Any, warnings: list[ServiceWarning]) -> Any:
    data = dict(data)
    data["warnings"] = [str(warning) for warning in warnings]
    return data
