"""Audit action codes of release test reports, in the trail's ``<object>.<verb>`` vocabulary."""

RELEASE_CREATED = "release.created"
REPORT_UPLOADED = "test_report.uploaded"
