"""Browser forms for grants and access requests.

The forms only turn what a person typed into the services' arguments (a username into a person, a
date into the end of that day) and say in plain words what is missing. Every rule about grants is
the services' business: their errors come back here field by field, in the reader's language, by
their code (``hansken_governance.service_errors``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from authz.models import AccessRequest, Action, Grant
from cases.models import Case, CaseStatus
from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DayInput
from hansken_governance.environments import GRANT_ENVIRONMENT_CHOICES, Environment
from hansken_governance.service_errors import ServiceErrorForm, ServiceWarning, in_words

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

DATE_INPUT_FORMATS = DAY_INPUT_FORMATS  # the reader's format, ISO and day-month-year (date_inputs)


# The days a form accepts. The calendar ends on 9999-12-31, and the end of that day (the first moment
# of the next, see ``end_of_day``), or a moment on it in a time zone west of UTC, lies outside it;
# the start of 0001-01-01 in a zone east of UTC does too. No real question needs either end: a
# day outside these bounds is refused in words, never computed into an OverflowError.
EARLIEST_DAY = datetime.date(1900, 1, 1)
LATEST_DAY = datetime.date(9999, 12, 30)


class DayField(forms.DateField):
    """A date typed into a form, between ``EARLIEST_DAY`` and ``LATEST_DAY``."""

    default_error_messages = {
        "out_of_range": _("Give a date between %(earliest)s and %(latest)s."),
    }

    def to_python(self, value: Any) -> datetime.date | None:
        day: datetime.date | None = super().to_python(value)
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"earliest": f"{EARLIEST_DAY:%d-%m-%Y}", "latest": f"{LATEST_DAY:%d-%m-%Y}"},
            )
        return day


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The end of ``day`` in local time: a grant "until 31 May" covers all of 31 May, so it ends at
    the first moment of 1 June (validity is ``valid_from <= t < valid_until``). ``day`` lies within
    ``DayField``'s bounds (the day after 9999-12-31 does not exist)."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def last_day(moment: datetime.datetime) -> datetime.date:
    """The last local day a period ending at ``moment`` covers (the inverse of ``end_of_day``)."""
    return timezone.localtime(moment - datetime.timedelta(microseconds=1)).date()


def until_or_unchanged(day: datetime.date, current: datetime.datetime) -> datetime.datetime | None:
    """None when ``day`` is the day the period already ends on, so an untouched date field changes
    nothing (an end set through the API at noon stays at noon)."""
    return None if day == last_day(current) else end_of_day(day)


# --- the services' refusals and warnings, in the reader's language, by their code -----------------

SERVICE_WORDS: dict[str, Promise] = {
    "no_rights": _("Choose at least one right."),
    "unknown_rights": _("Choose rights from the list."),
    "no_environments": _("Choose at least one environment."),
    "unknown_environments": _("Choose environments from the list."),
    "end_before_start": _("The end date must lie after the start."),
    "end_in_past": _("The end date lies in the past."),
    "too_long": _("Access may last at most %(days)s days; choose an earlier end date."),
    "runs_past_screening": _(
        "The access runs past the screening of %(name)s, which is valid until %(date)s. After that "
        "day every decision denies access until the screening is renewed."
    ),
    "grant_to_self": _("You cannot grant access to yourself."),
    "lead_has_access": _("The case lead already has access to the case."),
    "inactive": _("%(name)s is not active, so cannot be given access."),
    "administrator": _("%(name)s is an administrator, and administrators are given no case access."),
    "not_screened": _("%(name)s has no valid screening, so cannot be given access."),
    "case_not_open": _("Access can only be granted on an open case."),
    "reason_for_grant": _("Say why access is granted."),
    "grant_revoked": _("This access has been revoked and cannot be changed; grant access anew."),
    "grant_ended": _("This access has ended; grant access anew."),
    "reason_for_change": _("Say why the access is changed."),
    "nothing_to_change": _("Nothing to change: give other rights, environments or an end date."),
    "change_own_access": _("You cannot change your own access."),
    "already_revoked": _("This access has already been revoked."),
    "reason_for_revoke": _("Say why the access is revoked."),
    "reason_for_sign_off": _("Say why the person is signed off the case."),
    "sign_off_lead": _("%(name)s is the case lead and cannot be signed off the case."),
    "nothing_to_sign_off": _(
        "%(name)s holds no access to this case (no grant in force or to come, no deputyship): "
        "there is nothing to sign off."
    ),
    "request_case_not_open": _("Access can only be requested on an open case."),
    "requester_leads_case": _("You lead this case and already have access."),
    "reason_for_request": _("Say why you need access."),
    "request_already_open": _("You already have an open request for this case."),
    "request_answered": _("This request has already been answered."),
    "approval_adds_rights": _("You may approve fewer rights than requested, not more."),
    "approval_adds_environments": _("You may approve fewer environments than requested, not more."),
    "approval_ends_later": _("You may approve an earlier end date than requested, not a later one."),
    "reason_for_rejection": _("Say why the request is rejected."),
}


def warning_in_words(warning: ServiceWarning) -> str:
    """A grant service's warning in the reader's language."""
    return in_words(warning.code, warning.message, warning.params, SERVICE_WORDS)


class ServiceForm(ServiceErrorForm):
    """A form about grants or access requests: the grant services' refusals in our words."""

    # The browser's own checks are off (no ``required`` attribute): every error is said in our words.
    use_required_attribute = False
    service_words = SERVICE_WORDS


def _rights_field(
    choices: Iterable[tuple[str, Any]] | None = None, **kwargs: Any
) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Rights"),
        choices=list(choices) if choices is not None else Action.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one right.")},
        **kwargs,
    )


def _environments_field(
    choices: Iterable[tuple[str, Any]] | None = None, **kwargs: Any
) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Environments"),
        # Production, and experiment only when ticked.
        choices=list(choices) if choices is not None else GRANT_ENVIRONMENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one environment.")},
        **kwargs,
    )


def _until_field(**kwargs: Any) -> forms.DateField:
    return DayField(
        label=_("Valid until"),
        input_formats=DATE_INPUT_FORMATS,
        widget=DayInput(),
        help_text=_("Access ends at the end of this day."),
        error_messages={
            "required": _("Give the last day of access."),
            "invalid": _("Give the date as day-month-year, for example 31-12-2026."),
        },
        **kwargs,
    )


def _reason_field(label: StrPromise, required_message: StrPromise, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": required_message},
    )


def _not_in_the_past(day: datetime.date | None) -> None:
    if day is not None and day < timezone.localdate():
        raise ValidationError(_("The end date lies in the past."), code="past")


class GrantForm(ServiceForm):
    grantee = forms.CharField(
        label=_("Person (username)"),
        max_length=150,
        error_messages={"required": _("Give the username of the person who gets access.")},
    )
    rights = _rights_field()
    environments = _environments_field(
        initial=[Environment.PRODUCTION.value],
        help_text=_("The experiment environment only when you tick it."),
    )
    valid_until = _until_field()
    reason = _reason_field(_("Reason"), _("Say why access is granted."))

    def clean_grantee(self) -> User:
        username = self.cleaned_data["grantee"].strip()
        person = User.objects.filter(username=username).first()
        if person is None:
            raise ValidationError(
                _("There is nobody with the username %(username)s."), params={"username": username}
            )
        return person

    def clean_valid_until(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["valid_until"]
        _not_in_the_past(day)
        return day


class GrantChangeForm(ServiceForm):
    rights = _rights_field()
    environments = _environments_field()
    valid_until = _until_field()
    reason = _reason_field(_("Reason for the change"), _("Say why the access is changed."))

    def __init__(self, *args: Any, grant: Grant, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "rights": grant.rights,
                "environments": grant.environments,
                "valid_until": last_day(grant.valid_until),
            },
        )
        super().__init__(*args, **kwargs)

    def clean_valid_until(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["valid_until"]
        _not_in_the_past(day)
        return day


class RevokeForm(ServiceForm):
    reason = _reason_field(_("Reason for revoking"), _("Say why the access is revoked."))


class SignOffForm(ServiceForm):
    person = forms.ChoiceField(
        label=_("Person"), error_messages={"required": _("Choose the person who leaves the case.")}
    )
    reason = _reason_field(_("Reason"), _("Say why the person is signed off the case."))

    def __init__(self, *args: Any, usernames: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a person")), *[(name, name) for name in usernames]]
        field.error_messages["invalid_choice"] = _("Choose one of the people who have access.")


class ApproveForm(ServiceForm):
    """Approve, possibly narrowed: only the requested rights and environments are offered, and the
    end date may be moved earlier."""

    rights = _rights_field()
    environments = _environments_field()
    valid_until = _until_field()
    note = _reason_field(_("Note to the requester (optional)"), _("Write a note."), required=False)

    def __init__(self, *args: Any, access_request: AccessRequest, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "rights": access_request.rights,
                "environments": access_request.environments,
                "valid_until": last_day(access_request.valid_until),
            },
        )
        kwargs.setdefault("prefix", "approve")
        super().__init__(*args, **kwargs)
        rights = self.fields["rights"]
        environments = self.fields["environments"]
        assert isinstance(rights, forms.MultipleChoiceField)
        assert isinstance(environments, forms.MultipleChoiceField)
        rights.choices = [(value, label) for value, label in Action.choices if value in access_request.rights]
        environments.choices = [
            (value, label) for value, label in Environment.choices if value in access_request.environments
        ]


class RejectForm(ServiceForm):
    note = _reason_field(_("Why do you reject the request?"), _("Say why the request is rejected."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reject")
        super().__init__(*args, **kwargs)


class AccessRequestForm(ServiceForm):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=64,
        help_text=_("As the case lead gave it to you, for example NFI-2026-0001."),
        error_messages={"required": _("Give the number of the case.")},
    )
    rights = _rights_field()
    environments = _environments_field(
        initial=[Environment.PRODUCTION.value],
        help_text=_("The experiment environment only when you tick it."),
    )
    valid_until = _until_field()
    reason = _reason_field(_("Reason"), _("Say why you need access."))
    service_fields = {"case": "case_number"}

    def clean_case_number(self) -> Case:
        number = self.cleaned_data["case_number"].strip()
        # The same words whether the case does not exist or is closed: the form tells nobody which
        # case numbers exist.
        case = Case.objects.filter(case_number__iexact=number, status=CaseStatus.OPEN).first()
        if case is None:
            raise ValidationError(
                _("There is no open case with the number %(number)s. Check the number with the case lead."),
                params={"number": number},
            )
        return case

    def clean_valid_until(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["valid_until"]
        _not_in_the_past(day)
        return day
