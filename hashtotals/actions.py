"""Audit action codes of hashtotals, in the trail's ``<object>.<verb>`` vocabulary."""

MANIFEST_UPLOADED = "hash_manifest.uploaded"
COMPARISON_MADE = "hash_comparison.made"
