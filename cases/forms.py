"""Browser forms with which the case lead names deputies and changes the case's status.

As in ``authz.forms``, the forms only turn what a person typed into the services' arguments and say
in plain words what is missing; the rules are ``cases.services``' business, and their refusals come
back here field by field, in the reader's language, by their code
(``hansken_governance.service_errors``).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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
