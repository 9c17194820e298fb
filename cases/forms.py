"""Browser forms with which the case lead names deputies and changes the case's status.

As in ``authz.forms``, the forms only turn what a person typed into the services' arguments and say
in plain words what is missing; the rules are ``cases.services``' business, and their (English)
messages come back here field by field, in the reader's language.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from authz.forms import DATE_INPUT_FORMATS, ServiceForm, end_of_day
from cases.models import CaseStatus

_NAME = r"(?P<name>.+?)"
_STATUS = "|".join(re.escape(value) for value in CaseStatus.values)
_SERVICE_MESSAGES: list[tuple[str, Promise]] = [
    (
        r"The case lead cannot also be the deputy of the same case\.",
        _("You lead this case, so you cannot also be its deputy."),
    ),
    (rf"{_NAME} is not active\.", _("%(name)s is not active, so cannot be named deputy.")),
    (rf"{_NAME} has no valid screening\.", _("%(name)s has no valid screening, so cannot be named deputy.")),
    (rf"{_NAME} is already a deputy of this case\.", _("%(name)s is already a deputy of this case.")),
    (rf"{_NAME} is not a deputy of this case\.", _("%(name)s is not a deputy of this case (any more).")),
    (
        rf"{_NAME} is an administrator: no case access\.",
        _("%(name)s is an administrator, so cannot be named deputy."),
    ),
    (r"The end lies in the past\.", _("The end date lies in the past.")),
    (
        r"A deputyship may last at most (?P<days>\d+) days; choose an earlier end\.",
        _("A deputyship may last at most %(days)s days; choose an earlier end date."),
    ),
    (
        rf"A (?:{_STATUS}) case can become: .*\.",
        _("The case's status has changed in the meantime; this change is no longer possible."),
    ),
    (r"Say why the status changes\.", _("Say why the status of the case changes.")),
]
_COMPILED = [(re.compile(pattern), message) for pattern, message in _SERVICE_MESSAGES]


def plain(message: str) -> str:
    """A case service's message in the active language; one we do not know is shown as it is."""
    for pattern, translated in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            params = match.groupdict()
            return str(translated) % params if params else str(translated)
    return message


class CaseServiceForm(ServiceForm):
    """A ``ServiceForm`` that reads the case services' messages (not the grant services')."""

    def add_service_error(self, error: ValidationError) -> None:
        messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, texts in messages.items():
            target = self.service_fields.get(field or "", field)
            for text in texts:
                self.add_error(target if target in self.fields else None, plain(text))


class DeputyForm(CaseServiceForm):
    deputy = forms.CharField(
        label=_("Deputy (username)"),
        max_length=150,
        help_text=_("A deputy manages access to the case as you do, and has access to its data."),
        error_messages={"required": _("Give the username of the person you name deputy.")},
    )

    valid_until = forms.DateField(
        label=_("Deputy until"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the date as day-month-year, for example 31-12-2026.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Here, not on the field: in the reader's language, with the setting as it is now.
        self.fields["valid_until"].help_text = _(
            "The deputyship ends at the end of this day, at most %(days)s days from today; "
            "left empty, it lasts that long."
        ) % {"days": settings.HG_GRANT_MAX_DAYS}

    def clean_valid_until(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("valid_until")
        return end_of_day(day) if day else None

    def clean_deputy(self) -> User:
        username = self.cleaned_data["deputy"].strip()
        person = User.objects.filter(username=username).first()
        if person is None:
            raise ValidationError(
                _("There is nobody with the username %(username)s."), params={"username": username}
            )
        return person


class DeputyRemoveForm(CaseServiceForm):
    """Nothing to fill in: the page itself is the confirmation."""


class CaseStatusForm(CaseServiceForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the status of the case changes.")},
    )
