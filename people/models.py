"""People beyond the login: their profile (employee number, screening) and the proposed changes that
wait for a second administrator."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """What a forensic institute keeps about a person beyond the login: employee number and
    screening. Roles are groups (see ``people.roles``); the active flag is ``User.is_active``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile", verbose_name=_("user")
    )
    employee_number = models.CharField(
        _("employee number"), max_length=32, unique=True, null=True, blank=True
    )
    screening_valid_until = models.DateField(
        _("screening valid until"),
        null=True,
        blank=True,
        help_text=_("Last day on which the person's screening is valid. Without it, no access."),
    )
    screening_reference = models.CharField(_("screening reference"), max_length=100, blank=True)
    # The identity provider's subject (``sub``) of this person, bound at the first single sign-on
    # (people.oidc): from then on single sign-on finds the person by it, never by a claim the
    # provider lets people change.
    sso_subject = models.CharField(
        _("single sign-on subject"), max_length=255, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.user.get_username()}"

    def is_screened_on(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.screening_valid_until is not None and self.screening_valid_until >= day


class ProposalKind(models.TextChoices):
    CREATE = "create", _("New person")
    ROLES = "roles", _("Change of roles")
    SCREENING = "screening", _("Change of screening")
    SSO_SUBJECT = "sso_move", _("Move of the single sign-on binding")
    SECOND_FACTOR_RESET = "2fa_reset", _("Reset of the second factor")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PersonProposal(models.Model):
    """A change to who may act on case data (a new person with a case or administrator role, a change
    of roles or of screening), proposed by one administrator and applied only when a second one
    approves it (four eyes). The proposal and its answer are each an audit event; the change itself
    is written by the same service as always, in the approval's transaction."""

    kind = models.CharField(_("kind"), max_length=10, choices=ProposalKind.choices)
    # Null for a new person until the approval creates them.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    username = models.CharField(_("username"), max_length=150)
    # What is asked for (roles, screening, details), and what it replaces: an approval applies only
    # while the person still is as the proposer saw them.
    changes = models.JSONField(_("changes"))
    before = models.JSONField(_("before"), default=dict)
    # A new person's password, hashed as Django stores it; never in the audit trail.
    password_hash = models.CharField(max_length=256, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("proposed change to a person")
        verbose_name_plural = _("proposed changes to people")
        ordering = ["-proposed_at"]
        indexes = [models.Index(fields=["status", "proposed_at"], name="personproposal_status")]

    def __str__(self) -> str:
        return f"proposal {self.pk}: {self.kind} {self.username} ({self.status})"
