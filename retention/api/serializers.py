"""Input and output of the retention API (notices, decisions, removals)."""

from __future__ import annotations

from rest_framework import serializers

from hansken_governance.api_base import AwareDateTimeField, OutputSerializer, StrictSerializer
from retention.models import NoticeStatus, RemovalStatus, RemovalTask, RetentionNotice
from retention.services import Decision


class NoticeFilter(StrictSerializer):
    project_id = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=NoticeStatus.choices, required=False)


class NoticeOutput(OutputSerializer):
    project_id = serializers.UUIDField(source="case.project_id", read_only=True)
    case_number = serializers.CharField(source="case.case_number", read_only=True)
    image_id = serializers.UUIDField(source="dataset.image_id", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = RetentionNotice
        fields = [
            "id",
            "project_id",
            "image_id",
            "reason",
            "status",
            "created_at",
            "case_number",
            "idle_since",
            "reminders_sent",
            "escalated_at",
            "decided_at",
            "decided_by",
            "decision_reason",
            "keep_until",
        ]


class DecideInput(StrictSerializer):
    decision = serializers.ChoiceField(choices=Decision.CHOICES)
    reason = serializers.CharField(max_length=2000)
    keep_until = serializers.DateField(required=False, allow_null=True)


class RemovalFilter(StrictSerializer):
    status = serializers.ChoiceField(choices=RemovalStatus.choices, required=False)


class RemovalOutput(OutputSerializer):
    project_id = serializers.UUIDField(source="dataset.case.project_id", read_only=True)
    case_number = serializers.CharField(source="dataset.case.case_number", read_only=True)
    image_id = serializers.UUIDField(source="dataset.image_id", read_only=True)
    dataset_status = serializers.CharField(source="dataset.status", read_only=True)
    notice_id = serializers.IntegerField(read_only=True)
    confirmed_by = serializers.CharField(source="confirmed_by.username", read_only=True, default=None)

    class Meta:
        model = RemovalTask
        fields = [
            "id",
            "notice_id",
            "project_id",
            "case_number",
            "image_id",
            "environment",
            "status",
            "requested_at",
            "removed_at",
            "confirmed_at",
            "confirmed_by",
            "reference",
            "dataset_status",
        ]


class ConfirmInput(StrictSerializer):
    # Checked against the task's own environment by the service (an unknown name never matches);
    # a plain string here, so the schema keeps one name for the environment enum.
    environment = serializers.CharField(max_length=20)
    removed_at = AwareDateTimeField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
