"""Input and output shapes of the hashtotals API (contract section "Hashtotals")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hansken_governance.api_base import OutputSerializer, StrictSerializer
from hashtotals.models import Comparison, Kind, Manifest, Side
from hashtotals.readers import FORMATS

PAGE = 1000
MAX_PAGE = 10000


class ManifestInput(StrictSerializer):
    side = serializers.ChoiceField(choices=Side.values)
    file = serializers.FileField(allow_empty_file=False)
    format = serializers.ChoiceField(choices=sorted(FORMATS), required=False, allow_blank=True)


class ManifestOutput(OutputSerializer):
    file_name = serializers.CharField(source="original_name")

    class Meta:
        model = Manifest
        fields = [
            "id",
            "side",
            "format",
            "tool",
            "entries",
            "algorithms",
            "image_hashes",
            "image_size",
            "not_files",
            "file_name",
            "sha256",
            "file_size",
            "uploaded_by",
            "uploaded_at",
        ]


class ComparisonOutput(OutputSerializer):
    class Meta:
        model = Comparison
        fields = ["id", "verdict", "files_compared", "algorithms", "image", "compared_at", "compared_by"]


class DifferenceFilter(StrictSerializer):
    kind = serializers.ChoiceField(choices=Kind.values, required=False)
    cursor = serializers.RegexField(r"^\d{1,10}$", required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, required=False)


def difference_json(row: Any) -> dict[str, Any]:
    return {"path": row.path, "kind": row.kind, "delivered": row.delivered, "imported": row.imported}
