"""Audit action codes of the privacy statement, in the trail's ``<object>.<verb>`` vocabulary."""

DRAFT_CREATED = "privacy_statement.draft_created"
DRAFT_CHANGED = "privacy_statement.draft_changed"
DRAFT_DISCARDED = "privacy_statement.draft_discarded"
PUBLISHED = "privacy_statement.published"
ACKNOWLEDGED = "privacy_statement.acknowledged"
