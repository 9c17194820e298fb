"""A person's profile beside Django's user: screening and employee number."""

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
