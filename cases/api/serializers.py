"""Input and output of the case and dataset API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from cases.models import Case, Dataset
from cases.selectors import case_deputy_usernames
from hansken_governance.api_base import (
    AwareDateTimeField,
    OutputSerializer,
    StrictSerializer,
    StrictUUIDField,
)
from hansken_governance.environments import Environment


class UsernameField(serializers.SlugRelatedField):
    default_error_messages = {
        "does_not_exist": "There is no person with the username {value}.",
        "invalid": "Give a username.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", queryset=User.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        # Refused before the lookup: PostgreSQL cannot even compare text holding a NUL, and the
        # driver's error would be a 500 (found by schemathesis, tests/test_api_schemathesis.py).
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class CaseCreateInput(StrictSerializer):
    project_id = StrictUUIDField()
    case_number = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=300)
    case_lead = UsernameField()


class DatasetCreateInput(StrictSerializer):
    image_id = StrictUUIDField()
    description = serializers.CharField(max_length=500)
    delivered_by = serializers.CharField(max_length=200)
    imported_at = AwareDateTimeField(required=False)
    environments = serializers.ListField(
        child=serializers.ChoiceField(choices=Environment.choices), required=False, allow_empty=False
    )


class DatasetLastAccessInput(StrictSerializer):
    last_accessed_at = AwareDateTimeField()


class DatasetOutput(OutputSerializer):
    project_id = serializers.UUIDField(source="case.project_id", read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "image_id",
            "project_id",
            "description",
            "delivered_by",
            "imported_at",
            "environments",
            "status",
            "last_accessed_at",
            "registered_at",
        ]


class CaseOutput(OutputSerializer):
    case_lead = serializers.CharField(source="case_lead.username", read_only=True)
    deputies = serializers.SerializerMethodField()
    datasets = DatasetOutput(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "project_id",
            "case_number",
            "title",
            "case_lead",
            "deputies",
            "status",
            "created_at",
            "closed_at",
            "last_accessed_at",
            "datasets",
        ]

    def get_deputies(self, case: Case) -> list[str]:
        return case_deputy_usernames(case)


class DeputyInput(StrictSerializer):
    deputy = UsernameField()
    # The end of the deputyship; at most HG_GRANT_MAX_DAYS away, and that long when left out.
    valid_until = AwareDateTimeField(required=False)


class DeputyChangeInput(StrictSerializer):
    valid_until = AwareDateTimeField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CaseStatusInput(StrictSerializer):
    status = serializers.ChoiceField(
        choices=[("open", "open"), ("closed", "closed"), ("archived", "archived")]
    )
    reason = serializers.CharField(max_length=2000)
