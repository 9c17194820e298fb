"""Browser forms of retention. They check the shape of the input; the services check the rules, and
their refusals are shown on the field they name, in the reader's language, by their code
(``hansken_governance.service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DAY_TIME_INPUT_FORMATS, DayInput, DayTimeInput
from hansken_governance.service_errors import ServiceErrorForm
from retention.services import MAX_DAYS

# The retention services' refusals that a page can meet, in the reader's language, by their code.
SERVICE_WORDS: dict[str, Promise] = {
    "unknown_decision": _("Choose keep or delete."),
    "reason_for_decision": _("Give the reason for the decision."),
    "no_keep_until": _("Give the date until which the data is kept."),
    "keep_until_passed": _("The date until which the data is kept must lie ahead."),
    "keep_too_long": _("Keep the data for at most %(days)s days at a time."),
    "keep_until_with_delete": _("A date to keep until goes only with the decision to keep."),
    "notice_closed": _("This notice is no longer open: it was answered in the meantime."),
    "dataset_not_active": _("This dataset has been deleted already; it cannot be deleted again."),
    "removal_in_future": _("The removal time lies in the future."),
    "removal_before_request": _("The removal time lies before the deletion was requested."),
    "reference_too_long": _("The reference is too long (at most 200 characters)."),
    "removal_confirmed": _("This removal has already been confirmed."),
    "no_case_policy": _("Case %(case_number)s has no retention policy of its own."),
}


class RetentionServiceForm(ServiceErrorForm):
    service_words = SERVICE_WORDS


class KeepForm(RetentionServiceForm):
    reason = forms.CharField(
        label=_("Why the data must stay"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    keep_until = forms.DateField(label=_("Keep until"), input_formats=DAY_INPUT_FORMATS, widget=DayInput())

    prefix = "keep"  # two forms on one page: their fields must not share ids


class DeleteForm(RetentionServiceForm):
    reason = forms.CharField(
        label=_("Why the data may go"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    prefix = "delete"


class ConfirmRemovalForm(RetentionServiceForm):
    removed_at = forms.DateTimeField(
        label=_("Removed at"),
        input_formats=DAY_TIME_INPUT_FORMATS,
        widget=DayTimeInput(),
    )
    reference = forms.CharField(label=_("Reference (optional)"), max_length=200, required=False)


def _days(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=MAX_DAYS)


class PolicyForm(RetentionServiceForm):
    inactivity_days = _days(_("Inactivity threshold (days)"))
    reminder_days = _days(_("Reminder interval (days)"))
    escalation_days = _days(_("Escalation to the privacy officer after (days)"))
    closure_limit_days = _days(_("Longest stay after the case is closed (days)"))


class OverrideForm(PolicyForm):
    case = forms.ModelChoiceField(
        label=_("Case"), queryset=Case.objects.order_by("case_number"), to_field_name="case_number"
    )

    field_order = ["case", "inactivity_days", "reminder_days", "escalation_days", "closure_limit_days"]
