"""Input and output shapes of the release test reports API (contract section "Release test reports")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hansken_governance.api_base import AwareDateTimeField, OutputSerializer, StrictSerializer
from test_reports.models import Kind, NotPassedTest, Release, Report
from test_reports.services import NOTES_LIMIT


class ReleaseInput(StrictSerializer):
    version = serializers.CharField(max_length=100)
    released_at = AwareDateTimeField()
    notes = serializers.CharField(max_length=NOTES_LIMIT, allow_blank=True, required=False, default="")


class ReportInput(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=Kind.values, error_messages={"invalid_choice": "Choose unit, integration or regression."}
    )
    file = serializers.FileField(allow_empty_file=False)  # given twice: StrictSerializer refuses


class NotPassedOutput(OutputSerializer):
    class Meta:
        model = NotPassedTest
        fields = ["outcome", "suite", "classname", "name", "message", "details"]


class ReportOutput(OutputSerializer):
    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "format",
            "tool",
            "tests",
            "passed",
            "failed",
            "errors",
            "skipped",
            "flaky",
            "duration_seconds",
            "file_name",
            "sha256",
            "file_size",
            "uploaded_by",
            "uploaded_at",
        ]


class ReleaseOutput(OutputSerializer):
    class Meta:
        model = Release
        fields = ["version", "released_at", "notes", "created_by", "created_at"]


def release_json(release: Release, *, details: bool) -> dict[str, Any]:
    """A release with each report's counts and every test that did not pass (with its traceback
    only when ``details``: the list of releases keeps to the messages)."""
    body: dict[str, Any] = dict(ReleaseOutput(release).data)
    reports = []
    for report in release.reports.all():
        item = dict(ReportOutput(report).data)
        rows = NotPassedOutput(report.not_passed.all(), many=True).data
        item["not_passed"] = [
            row if details else {key: value for key, value in row.items() if key != "details"} for row in rows
        ]
        reports.append(item)
    body["reports"] = reports
    return body
