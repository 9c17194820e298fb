"""What people hear about grants and access requests: the words and moments in the notifications
the services in ``authz.services`` send."""

from __future__ import annotations

import datetime

from django.utils import timezone

from authz.models import AccessRequest, Grant
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


def notify_access_requested(access_request: AccessRequest) -> None:
    case = access_request.case
    notify(
        recipient=case.case_lead,
        kind="access_requested",
        params={
            "requester": access_request.requester.get_username(),
            "case": case.case_number,
            "rights": rights_text(access_request.rights),
            "until": last_moment(access_request.valid_until),
            "reason": access_request.reason,
        },
        dedup_key=f"access-requested:{access_request.pk}",
        link=f"/cases/{case.project_id}/",
    )


def announce_ending(grant: Grant) -> int:
    """The grantee and the case lead hear that this grant ends soon, once per end date: the number
    of notifications made (0 when both were made before)."""
    params = {
        "case": grant.case.case_number,
        "grantee": grant.grantee.get_username(),
        "rights": rights_text(grant.rights),
        # The last moment included (an end "until 6 January" is stored as 7 January 00:00).
        "until": last_moment(grant.valid_until),
        "project_id": str(grant.case.project_id),
        "grant_id": grant.pk,
    }
    key = f"grant-ending:{grant.pk}:{grant.valid_until.isoformat()}"
    link = f"/cases/{grant.case.project_id}/"
    sent: int = notify(
        recipient=grant.grantee,
        kind="grant_ending_grantee",
        params=params,
        dedup_key=f"{key}:grantee",
        link=link,
    )
    sent += notify(
        recipient=grant.case.case_lead,
        kind="grant_ending_lead",
        params=params,
        dedup_key=f"{key}:lead",
        link=link,
    )
    return sent
