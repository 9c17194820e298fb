"""The privacy statement's API shapes (contract: HANSKEN_API.md, "Privacy statement")."""

from __future__ import annotations

from rest_framework import serializers

from hansken_governance.api_base import StrictSerializer, UTCDateTimeField


class LanguageFilter(StrictSerializer):
    lang = serializers.ChoiceField(choices=["nl", "en"], required=False, default="nl")


class StatementOutput(serializers.Serializer):
    version = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    effective_from = UTCDateTimeField()
    published_at = UTCDateTimeField()
    body_markdown = serializers.CharField()
    body_html = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 (hex) of body_markdown, UTF-8.")


class VersionOutput(serializers.Serializer):
    version = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    effective_from = UTCDateTimeField()
    published_at = UTCDateTimeField()
    in_force = serializers.BooleanField(help_text="Whether this is the version in force now.")
    change_summary = serializers.CharField()
    sha256 = serializers.CharField()


class VersionListOutput(serializers.Serializer):
    results = VersionOutput(many=True)


class AcknowledgementInput(StrictSerializer):
    user = serializers.CharField(max_length=150)
    version = serializers.RegexField(r"^[0-9]{1,9}$", max_length=9)


class AcknowledgementOutput(serializers.Serializer):
    user = serializers.CharField()
    version = serializers.CharField()
    acknowledged_at = UTCDateTimeField()
    channel = serializers.CharField()
    created = serializers.BooleanField(help_text="False when this acknowledgement was recorded before.")
