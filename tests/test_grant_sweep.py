"""The hourly grant sweep: expiry events once, ending-soon notices once per end date, mail where
configured."""

from __future__ import annotations

import datetime

from django.core import mail
from django.utils import timezone

from audit.actor import Actor
from audit.models import AuditEvent
from authz.models import Grant
from authz.services import grant_change
from authz.tasks import sweep_grants
from notifications.messages import render
from notifications.models import Notification
from tests.authz_helpers import grant
from tests.personas import Cast


def test_the_sweep_records_each_expiry_once(cast: Cast):
    g = grant(cast)
    Grant.objects.filter(pk=g.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=5),
        valid_until=timezone.now() - datetime.timedelta(hours=1),
    )
    assert sweep_grants()["expired_recorded"] == 1
    assert sweep_grants()["expired_recorded"] == 0
    event = AuditEvent.objects.get(action="grant.expired")
    assert event.grant_id == g.pk
    assert event.actor == "system:grant_expiry"


def test_grants_ending_soon_are_announced_once_to_grantee_and_lead(
    cast: Cast, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_HOST = "localhost"  # mail configured: the locmem backend of the tests catches it
    cast["investigator"].email = "investigator@example.org"
    cast["investigator"].save()
    g = grant(cast, days=10)
    grant(cast, grantee="engineer", days=40)  # not ending soon
    with django_capture_on_commit_callbacks(execute=True):
        with_mail = sweep_grants()
    assert with_mail["ending_soon_notified"] == 2
    assert sweep_grants()["ending_soon_notified"] == 0
    kinds = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == [("case_lead", "grant_ending_lead"), ("investigator", "grant_ending_grantee")]
    assert len(mail.outbox) == 1  # only the grantee has an address
    assert "NFI-2026-0001" in mail.outbox[0].subject
    # Extending the grant to a new end that is still within 14 days announces the new date.
    grant_change(
        grant=g,
        valid_until=g.valid_until + datetime.timedelta(days=2),
        reason="Two more days",
        changed_by=cast["case_lead"],
        by=Actor(username="case_lead"),
    )
    assert sweep_grants()["ending_soon_notified"] == 2


def test_notifications_render_in_the_readers_language(cast: Cast):
    from django.utils import translation

    grant(cast, days=3)
    sweep_grants()
    notice = Notification.objects.get(kind="grant_ending_grantee")
    with translation.override("en"):
        subject, body = render(notice.kind, notice.params)
    assert subject.startswith("Your access to case NFI-2026-0001 ends on")
    assert "read, search" in body
