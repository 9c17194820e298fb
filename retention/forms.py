"""Browser forms of retention. They check the shape of the input; the services check the rules, and
their refusals are shown on the field they name (``hansken_governance.service_errors``; these
forms have no words of their own for them, so they read as the service words them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DAY_TIME_INPUT_FORMATS, DayInput, DayTimeInput
from hansken_governance.service_errors import ServiceErrorForm
from retention.services import MAX_DAYS


class KeepForm(ServiceErrorForm):
    reason = forms.CharField(
        label=_("Why the data must stay"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    keep_until = forms.DateField(label=_("Keep until"), input_formats=DAY_INPUT_FORMATS, widget=DayInput())

    prefix = "keep"  # two forms on one page: their fields must not share ids


class DeleteForm(ServiceErrorForm):
    reason = forms.CharField(
        label=_("Why the data may go"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    prefix = "delete"


class ConfirmRemovalForm(ServiceErrorForm):
    removed_at = forms.DateTimeField(
        label=_("Removed at"),
        input_formats=DAY_TIME_INPUT_FORMATS,
        widget=DayTimeInput(),
    )
    reference = forms.CharField(label=_("Reference (optional)"), max_length=200, required=False)


def _days(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=MAX_DAYS)


class PolicyForm(ServiceErrorForm):
    inactivity_days = _days(_("Inactivity threshold (days)"))
    reminder_days = _days(_("Reminder interval (days)"))
    escalation_days = _days(_("Escalation to the privacy officer after (days)"))
    closure_limit_days = _days(_("Longest stay after the case is closed (days)"))


class OverrideForm(PolicyForm):
    case = forms.ModelChoiceField(
        label=_("Case"), queryset=Case.objects.order_by("case_number"), to_field_name="case_number"
    )

    field_order = ["case", "inactivity_days", "reminder_days", "escalation_days", "closure_limit_days"]
