"""What people hear about grants and access requests: the words and moments in the notifications
the services in ``authz.services`` send."""

from __future__ import annotations

import datetime

from django.utils import timezone

from authz.models import AccessRequest
from notifications.services import notify

# Grants ending within this span are announced (and marked on the pages).
ENDING_SOON = datetime.timedelta(days=14)


def rights_text(rights: list[str]) -> str:
    return ", ".join(rights)


def last_moment(end: datetime.datetime) -> str:
    """The last minute an exclusive end still includes, in local time, for people to read."""
    return timezone.localtime(end - datetime.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M")


def notify_answer(access_request: AccessRequest, outcome: str) -> None:
    notify(
        recipient=access_request.requester,
        kind="request_answered",
        params={
            "case": access_request.case.case_number,
            "outcome": outcome,
            "note": access_request.answer_note,
        },
        dedup_key=f"request-answered:{access_request.pk}",
        link="/",
    )
