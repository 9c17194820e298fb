"""State of the SIEM forwarder and of the monitoring sweep, and the alerts the sweep raises.

The audit trail itself is the outbox: nothing is copied into a queue. ``SiemCursor`` says up to
which sequence number the SIEM has the events; ``MonitorCursor`` up to which one the rules have
looked at them. Both are single rows (pk 1), moved forward only by their sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SiemCursor(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # Every event with a sequence up to here was written to the SIEM and the connection was closed
    # cleanly by both sides after it (at-least-once: see siem.forwarder).
    last_sequence = models.BigIntegerField(default=0)
    # The newest ChainCheckpoint already sent as its own record.
    last_checkpoint_sequence = models.BigIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("SIEM cursor")

    def __str__(self) -> str:
        return f"SIEM has up to #{self.last_sequence}"


class MonitorCursor(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.BigIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("monitoring cursor")

    def __str__(self) -> str:
        return f"rules have looked up to #{self.last_sequence}"


class Severity(models.TextChoices):
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")


class Alert(models.Model):
    """One alert per rule, subject (person and/or case) and window (``dedup_key``): a rule that
    matches again in the same window raises the count and ``last_seen``, it makes no new alert."""

    rule = models.CharField(_("rule"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    subject_person = models.CharField(_("person"), max_length=200, blank=True)
    subject_project_id = models.UUIDField(_("case (project id)"), null=True, blank=True)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    dedup_key = models.CharField(max_length=300, unique=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    count = models.PositiveIntegerField(_("count"), default=1)
    # The audit events that matched, as sequence numbers (first and last), for the review.
    first_sequence = models.BigIntegerField(null=True, blank=True)
    last_sequence = models.BigIntegerField(null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["status", "last_seen"], name="alert_status_seen")]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_person or '-'} {self.window_start:%Y-%m-%d %H:%M}"
