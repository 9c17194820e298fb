"""Time-bounded case grants, with their full history.

django-guardian holds the deputies (a plain yes/no per case) but cannot hold grants: it has no
validity period, no environments and no history. So a grant is our own model, and every state it
ever had is a ``GrantVersion`` row with the period during which that state was in force. "Who could
act on case X at moment T, and who granted it" is then a query over versions, never a guess.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case


class Action(models.TextChoices):
    READ = "read", _("Read")
    SEARCH = "search", _("Search")
    EXPORT = "export", _("Export")
    READ_ADDED_DATA = "read_added_data", _("Read data added by investigators")
    WRITE_ADDED_DATA = "write_added_data", _("Add notes, tags and traces")
    REVIEW_PRIVILEGED = "review_privileged", _("Review privileged traces")


class Grant(models.Model):
    """The current state of one person's rights on one case. Every change also writes a
    ``GrantVersion``; this row is the latest version, kept for fast decisions."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="grants", verbose_name=_("case"))
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants", verbose_name=_("grantee")
    )
    rights = models.JSONField(_("rights"))
    environments = models.JSONField(_("environments"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    granted_at = models.DateTimeField(_("granted at"))
    changed_at = models.DateTimeField(_("last changed at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)
    revoked_by_label = models.CharField(_("revoked by"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Set once the sweep has recorded the grant's natural end, so the "expired" event is written once.
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)
    request = models.ForeignKey(
        "AccessRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-granted_at"]
        indexes = [
            models.Index(fields=["grantee", "case"], name="grant_grantee_case"),
            models.Index(fields=["case", "grantee"], name="grant_case_grantee"),
            models.Index(fields=["valid_until"], name="grant_valid_until"),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk}: {self.grantee_id} on {self.case_id}"

    def is_in_force(self, at: datetime.datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until


class ChangeKind(models.TextChoices):
    CREATED = "created", _("Granted")
    CHANGED = "changed", _("Changed")
    EXTENDED = "extended", _("Extended")
    NARROWED = "narrowed", _("Narrowed")
    REVOKED = "revoked", _("Revoked")


class GrantVersion(models.Model):
    """One state of a grant, in force from ``recorded_at`` until ``superseded_at`` (open while
    current). Append-only: a change closes the current version and opens a new one."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    rights = models.JSONField()
    environments = models.JSONField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    # A person (case lead, deputy) or, for automatic changes such as revocation on deactivation, null
    # with ``changed_by_label`` naming the actor.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    changed_by_label = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Denormalised so "access at a moment" needs no join to the grant to filter by case.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["grant_id", "version"]
        constraints = [models.UniqueConstraint(fields=["grant", "version"], name="grant_version_unique")]
        indexes = [
            models.Index(fields=["case", "recorded_at"], name="grantversion_case_time"),
            models.Index(fields=["grantee", "recorded_at"], name="grantversion_grantee_time"),
        ]

    def __str__(self) -> str:
        return f"grant {self.grant_id} v{self.version} ({self.kind})"


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AccessRequest(models.Model):
    """A person asks the case lead for rights on a case, for a period, with a reason."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="access_requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    rights = models.JSONField()
    environments = models.JSONField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answer_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "status"], name="accessrequest_case_status")]

    def __str__(self) -> str:
        return f"request {self.pk} by {self.requester_id} on {self.case_id}"
