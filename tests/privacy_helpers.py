"""Privacy statement versions for tests, made through the services as the privacy officer would."""

from __future__ import annotations

import datetime

from django.utils import timezone

from audit.actor import Actor
from privacy_statement import services
from privacy_statement.models import StatementVersion
from tests.personas import Cast

BY = Actor.command("tests")

TEXTS = {
    "title_nl": "Privacyverklaring Hansken",
    "title_en": "Hansken privacy statement",
    "source_nl": "# Wat we vastleggen\n\nHet auditspoor bewaart {{ audit_retention_days }} dagen.\n",
    "source_en": "# What we record\n\nThe audit trail keeps events for {{ audit_retention_days }} days.\n",
}


def draft(cast: Cast, **texts: str) -> StatementVersion:
    return services.statement_draft_create(author=cast["privacy_officer"], by=BY, **{**TEXTS, **texts})


def publish(
    cast: Cast,
    version: StatementVersion | None = None,
    *,
    effective_from: datetime.datetime | None = None,
    **texts: str,
) -> StatementVersion:
    """Publish ``version`` (or a new draft with ``texts``), in force from ``effective_from`` (default:
    the start of today, so it is in force at once)."""
    version = version or draft(cast, **texts)
    return services.statement_publish(
        version=version,
        effective_from=effective_from or services.start_of_day(timezone.localdate()),
        change_summary_nl="Eerste versie",
        change_summary_en="First version",
        publisher=cast["privacy_officer"],
        by=BY,
    )
