"""The only writer of notifications. Idempotent by ``dedup_key``; mail goes after commit, and only
where mail is configured (EMAIL_HOST)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from notifications.messages import render
from notifications.models import Notification

log = logging.getLogger(__name__)


def notify(*, recipient: User, kind: str, params: dict[str, Any], dedup_key: str, link: str = "") -> bool:
    """Create the notification unless one with this key exists. True when a new one was made."""
    try:
        with transaction.atomic():
            if Notification.objects.filter(dedup_key=dedup_key).exists():
                return False
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, params=params, link=link, dedup_key=dedup_key
            )
    except IntegrityError:  # a concurrent sweep made it first
        return False
    if settings.EMAIL_HOST and recipient.email:
        transaction.on_commit(lambda: _send_mail(notification.pk))
    return True


def _send_mail(notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = render(notification.kind, notification.params)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient.email])
    except Exception:
        # The notification stays visible in the application; mail is a courtesy copy.
        log.exception("Could not mail notification %s", notification_id)
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notification_mark_read(*, recipient: User, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, recipient=recipient, read_at__isnull=True).update(
        read_at=timezone.now()
    )
