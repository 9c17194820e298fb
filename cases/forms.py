"""Browser forms with which the case lead names deputies and changes the case's status.

As in ``authz.forms``, the forms only turn what a person typed into the services' arguments and say
in plain words what is missing; the rules are ``cases.services``' business, and their refusals come
back here field by field, in the reader's language, by their code
(``hansken_governance.service_errors``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from authz.forms import DATE_INPUT_FORMATS, end_of_day
from hansken_governance.date_inputs import DayInput
from hansken_governance.service_errors import ServiceErrorForm

# The case services' refusals in the reader's language, by their code.
SERVICE_WORDS: dict[str, Promise] = {
    "lead_as_deputy": _("You lead this case, so you cannot also be its deputy."),
    "deputy_inactive": _("%(name)s is not active, so cannot be named deputy."),
    "deputy_not_screened": _("%(name)s has no valid screening, so cannot be named deputy."),
    "already_deputy": _("%(name)s is already a deputy of this case."),
    "not_a_deputy": _("%(name)s is not a deputy of this case (any more)."),
    "status_move": _("The case's status has changed in the meantime; this change is no longer possible."),
    "reason_for_status": _("Say why the status of the case changes."),
    "deputy_administrator": _("%(name)s is an administrator, so cannot be named deputy."),
    "deputy_end_past": _("The end date lies in the past."),
    "deputy_too_long": _("A deputyship may last at most %(days)s days; choose an earlier end date."),
}


class CaseServiceForm(ServiceErrorForm):
    """A form about a case: the case services' refusals in our words."""

    # The browser's own checks are off (no ``required`` attribute): every error is said in our words.
    use_required_attribute = False
    service_words = SERVICE_WORDS


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
        widget=DayInput(),
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
