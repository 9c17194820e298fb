"""Helpers for monitoring tests: a rule's sighting, as the rules make them."""

from __future__ import annotations

import datetime

from django.utils import timezone

from siem.services import AlertSighting
from tests.personas import CASE_PROJECT_ID


def denials_sighting(
    severity: str = "high", count: int = 25, now: datetime.datetime | None = None
) -> AlertSighting:
    """What the denials rule saw of the investigator on the cast's case in the five minutes before
    ``now`` (the window is part of the alert's key: give the same ``now`` for the same window)."""
    now = now or timezone.now()
    return AlertSighting(
        rule="denials",
        severity=severity,
        person="investigator",
        project_id=CASE_PROJECT_ID,
        window_start=now - datetime.timedelta(minutes=5),
        window_end=now,
        first_seen=now - datetime.timedelta(minutes=4),
        last_seen=now,
        count=count,
        first_sequence=None,
        last_sequence=None,
        details={"denials": count},
    )
