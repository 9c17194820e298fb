"""The review pages' filter forms. They are GET forms (a search can be bookmarked, and works
without JavaScript); each turns what was typed into the selectors' arguments and says in plain
words what it cannot use. Which case a person may name is the review scope's business."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Outcome
from audit.selectors import EventFilters, ReviewScope
from authz.forms import DATE_INPUT_FORMATS, DayField, end_of_day
from cases.models import Case
from hansken_governance.date_inputs import TIME_INPUT_FORMATS, DayInput, TimeOfDayInput

# Dates and times as the reader writes them, whatever the browser's locale (date_inputs).
DateInput = DayInput
TimeInput = TimeOfDayInput


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _case_field(required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Case"),
        help_text=_("Case number (e.g. NFI-2026-0001) or Hansken project id"),
        max_length=100,
        required=required,
    )


class ScopedForm(forms.Form):
    """A form that resolves the case a person typed within what they may review."""

    def __init__(self, data: Any, *, scope: ReviewScope) -> None:
        super().__init__(data)
        self.scope = scope
        self.resolved_case: Case | None = None

    def _resolve_case(self, text: str, *, registered: bool) -> uuid.UUID | None:
        """The project id of the named case. A case outside the reviewer's scope reads as unknown,
        so the message never tells a case lead that another's case exists. ``registered`` requires a
        registered case; otherwise a bare project id is enough (events of unknown projects are
        evidence too)."""
        text = text.strip()
        if not text:
            return None
        try:
            project_id: uuid.UUID | None = uuid.UUID(text)
        except ValueError:
            project_id = None
        query = Case.objects.select_related("case_lead")
        case = (
            query.filter(project_id=project_id).first()
            if project_id is not None
            else query.filter(case_number__iexact=text).first()
        )
        if case is not None and self.scope.covers(case.project_id):
            self.resolved_case = case
            return case.project_id
        if project_id is not None and not registered and self.scope.covers(project_id):
            return project_id
        raise forms.ValidationError(
            _("No case you may review has this case number or project id."), code="unknown_case"
        )


class EventSearchForm(ScopedForm):
    person = forms.CharField(
        label=_("Person"), help_text=_("Username of who acted"), max_length=200, required=False
    )
    case = _case_field(required=False)
    action = forms.CharField(
        label=_("Action"),
        help_text=_("An action code, e.g. grant.revoked, or Hansken's own action, e.g. read"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "action-codes"}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Any outcome")), *Outcome.choices], required=False
    )
    date_from = DayField(
        label=_("From (date)"), required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_until = DayField(
        label=_("Until (date, inclusive)"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
    )

    def clean_case(self) -> uuid.UUID | None:
        return self._resolve_case(self.cleaned_data.get("case", ""), registered=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_until")
        if start and end and start > end:
            self.add_error("date_until", _("The end date must not lie before the start date."))
        return data

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        return EventFilters(
            project_id=data.get("case"),
            user=data.get("person", "").strip(),
            action=data.get("action", "").strip(),
            outcome=data.get("outcome", ""),
            since=_start_of_day(data["date_from"]) if data.get("date_from") else None,
            until=end_of_day(data["date_until"]) if data.get("date_until") else None,
        )


class TimelineForm(forms.Form):
    date_from = DayField(
        label=_("From (date)"), required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_until = DayField(
        label=_("Until (date, inclusive)"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
    )
    grant = forms.IntegerField(
        label=_("Grant number"),
        help_text=_("Only the events of this grant"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_until")
        if start and end and start > end:
            self.add_error("date_until", _("The end date must not lie before the start date."))
        return data

    def since(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("date_from")
        return _start_of_day(day) if day else None

    def until(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("date_until")
        return end_of_day(day) if day else None


class MomentForm(ScopedForm):
    """A moment in local time (as the reviewer reads clocks), turned into an aware datetime."""

    date = DayField(label=_("Date"), input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    time = forms.TimeField(label=_("Time"), input_formats=TIME_INPUT_FORMATS, widget=TimeInput())

    def moment(self) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"])
        )


class AccessAtForm(MomentForm):
    case = _case_field(required=True)
    field_order = ["case", "date", "time"]

    def clean_case(self) -> uuid.UUID | None:
        return self._resolve_case(self.cleaned_data.get("case", ""), registered=True)


class PersonAtForm(MomentForm):
    person = forms.CharField(label=_("Person"), help_text=_("Username"), max_length=150)
    field_order = ["person", "date", "time"]

    def clean_person(self) -> User:
        person = User.objects.filter(username=self.cleaned_data["person"].strip()).first()
        if person is None:
            raise forms.ValidationError(_("Nobody has this username."), code="unknown_person")
        return person
