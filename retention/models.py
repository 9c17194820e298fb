"""Retention: policies, the notices the daily sweep raises, the case lead's answers and the removal
tasks that follow a decision to delete.

A notice fixes its own schedule when it is opened (when to remind, when to escalate), so the sweep
can move every notice with one set-based UPDATE, and a later change of policy does not re-time
notices already sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hansken_governance.environments import Environment

# The defaults an environment has until the privacy officer sets its policy.
DEFAULT_INACTIVITY_DAYS = 180
DEFAULT_REMINDER_DAYS = 14
DEFAULT_ESCALATION_DAYS = 30
DEFAULT_CLOSURE_LIMIT_DAYS = 365


class RetentionPolicy(models.Model):
    """The retention rules of one environment, or of one case (an override of its environments'
    rules). Exactly one of ``environment`` and ``case`` is set."""

    # NULL rather than "": a case's override has no environment, and the unique index per environment
    # must leave those rows out.
    environment = models.CharField(  # noqa: DJ001
        _("environment"), max_length=20, choices=Environment.choices, null=True, blank=True
    )
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retention_policy",
        verbose_name=_("case"),
    )
    inactivity_days = models.PositiveIntegerField(
        _("inactivity threshold (days)"),
        default=DEFAULT_INACTIVITY_DAYS,
        help_text=_("A dataset not accessed for this many days gets a notice."),
    )
    reminder_days = models.PositiveIntegerField(
        _("reminder interval (days)"),
        default=DEFAULT_REMINDER_DAYS,
        help_text=_("The case lead is reminded this often while a notice is unanswered."),
    )
    escalation_days = models.PositiveIntegerField(
        _("escalation after (days)"),
        default=DEFAULT_ESCALATION_DAYS,
        help_text=_("An unanswered notice goes to the privacy officer after this many days."),
    )
    closure_limit_days = models.PositiveIntegerField(
        _("longest stay after closure (days)"),
        default=DEFAULT_CLOSURE_LIMIT_DAYS,
        help_text=_("Data of a closed case gets a notice this many days after the closure."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=(Q(environment__isnull=False) & Q(case__isnull=True))
                | (Q(environment__isnull=True) & Q(case__isnull=False)),
                name="retention_policy_environment_xor_case",
            ),
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(case__isnull=True),
                name="retention_policy_one_per_environment",
            ),
        ]

    def __str__(self) -> str:
        return f"policy for {self.environment or self.case_id}"


class NoticeReason(models.TextChoices):
    INACTIVE = "inactive", _("Not accessed")
    CLOSURE_LIMIT = "closure_limit", _("Case closed too long")


class NoticeStatus(models.TextChoices):
    OPEN = "open", _("Awaiting an answer")
    KEPT = "kept", _("Kept")
    DELETE_REQUESTED = "delete_requested", _("Deletion requested")
    REMOVED = "removed", _("Removed")
    ACCESSED_AGAIN = "accessed_again", _("Accessed again")


class RetentionNotice(models.Model):
    """The sweep's finding that a dataset is idle past its threshold, or kept past its case's closure
    limit; the case lead answers it with keep or delete."""

    dataset = models.ForeignKey(
        "cases.Dataset", on_delete=models.PROTECT, related_name="retention_notices", verbose_name=_("dataset")
    )
    # The dataset's case, kept on the notice so the scoping door filters notices without a join.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="retention_notices", verbose_name=_("case")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=NoticeReason.choices)
    status = models.CharField(_("status"), max_length=20, choices=NoticeStatus.choices)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    idle_since = models.DateTimeField(_("last access when opened"))
    reminder_interval = models.DurationField(_("reminder interval"))
    next_reminder_at = models.DateTimeField(_("next reminder at"))
    reminders_sent = models.PositiveIntegerField(_("reminders sent"))
    last_reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalate at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason given"), blank=True)
    keep_until = models.DateField(_("keep until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Which sweep step last touched the notice ("<run id>:<step>"): each set-based UPDATE stamps the
    # rows it changed, and the sweep then reads exactly those rows back for the audit trail and the
    # notifications, without a query per notice and without racing a concurrent change.
    sweep_stamp = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        verbose_name = _("retention notice")
        verbose_name_plural = _("retention notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open notice per dataset; the sweep's INSERT ... ON CONFLICT DO NOTHING leans on it
            # when two sweeps run at once.
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status="open"), name="retention_one_open_notice"
            ),
        ]
        indexes = [models.Index(fields=["status", "case"], name="retention_notice_status_case")]

    def __str__(self) -> str:
        return f"notice {self.pk} ({self.status})"


class RemovalStatus(models.TextChoices):
    OPEN = "open", _("To do")
    CONFIRMED = "confirmed", _("Confirmed")


class RemovalTask(models.Model):
    """Removing one dataset from one environment, after the case lead decided to delete it. The
    operator confirms it (when, by whom, with an optional reference); when every environment is
    confirmed, the dataset is deleted."""

    notice = models.ForeignKey(
        RetentionNotice, on_delete=models.PROTECT, related_name="removals", verbose_name=_("notice")
    )
    dataset = models.ForeignKey(
        "cases.Dataset", on_delete=models.PROTECT, related_name="removal_tasks", verbose_name=_("dataset")
    )
    environment = models.CharField(_("environment"), max_length=20)
    status = models.CharField(
        _("status"), max_length=10, choices=RemovalStatus.choices, default=RemovalStatus.OPEN
    )
    requested_at = models.DateTimeField(_("requested at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    reference = models.CharField(_("reference"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("removal task")
        verbose_name_plural = _("removal tasks")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "environment"], name="retention_one_removal_per_env"),
        ]

    def __str__(self) -> str:
        return f"remove {self.dataset_id} from {self.environment} ({self.status})"
