"""A notification to one person, once per deduplication key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message for one person, shown in the application and mailed where mail is configured.

    The text is not stored: ``kind`` and ``params`` are, and the message is rendered in the reader's
    language when shown (``notifications.messages``). ``dedup_key`` makes every sender idempotent:
    a sweep that runs twice notifies once.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=50)
    params = models.JSONField(_("parameters"), default=dict)
    link = models.CharField(_("link"), max_length=300, blank=True)
    dedup_key = models.CharField(max_length=300, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"
