"""The browser page of a case's privileged traces: counts by status, the marks under filters
(status, under a trace), one trace's history, and the export checks that were refused. For the
case lead and deputies, holders of ``review_privileged`` on the case and the privacy officer, through
the one scoping door (404 for everyone else). Read only: marks come from Hansken."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from cases.selectors import CasePurpose, cases_for_person
from privilege import selectors
from privilege.marks_input import split_trace_uid
from privilege.models import MarkStatus

PAGE = 50


class MarkFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *MarkStatus.choices]
    )
    under = forms.CharField(
        label=_("Under trace"),
        required=False,
        max_length=500,
        help_text=_("A trace uid ({imageId}:{id}): that trace and everything it contains."),
    )
    trace = forms.CharField(label=_("History of trace"), required=False, max_length=500)
    cursor = forms.CharField(required=False, max_length=700, widget=forms.HiddenInput)

    def _trace_uid(self, name: str) -> tuple[str, str] | None:
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        try:
            return split_trace_uid(text)
        except ValueError:
            raise forms.ValidationError(
                _("Give a trace uid as {imageId}:{id}, e.g. 0b6e…:0-3-1."), code="trace_uid"
            ) from None

    def clean_under(self) -> tuple[str, str] | None:
        return self._trace_uid("under")

    def clean_trace(self) -> tuple[str, str] | None:
        return self._trace_uid("trace")

    def clean_cursor(self) -> tuple[int, str] | None:
        text = self.cleaned_data.get("cursor", "")
        if not text:
            return None
        try:
            return selectors.decode_cursor(text)
        except ValueError:
            raise forms.ValidationError(
                _("This page link is not valid; start again."), code="cursor"
            ) from None


@login_required
def case_privileged(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = get_object_or_404(
        cases_for_person(request.user, CasePurpose.REVIEW_PRIVILEGED).select_related("case_lead"),
        project_id=project_id,
    )
    form = MarkFilterForm(request.GET or None)
    labels: dict[str, str] = {value: str(label) for value, label in MarkStatus.choices}
    rows: list[selectors.MarkRow] = []
    history = None
    next_query = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        data = form.cleaned_data if form.is_bound else {}
        rows, next_cursor = selectors.marks_page(
            case,
            status=data.get("status") or None,
            under=data.get("under"),
            cursor=data.get("cursor"),
            limit=PAGE,
        )
        if next_cursor is not None:
            params = {key: value for key, value in request.GET.items() if key != "cursor" and value}
            next_query = urlencode({**params, "cursor": next_cursor})
        if data.get("trace"):
            image_id, trace_id = data["trace"]
            history = {
                "trace_uid": f"{image_id}:{trace_id}",
                "versions": [
                    {"version": version, "before": labels.get(version.previous_status, "—")}
                    for version in selectors.trace_history(case, image_id, trace_id)
                ],
            }
    counts = selectors.counts_by_status(case)
    return render(
        request,
        "privilege/case_privileged.html",
        {
            "case": case,
            "form": form,
            "counts": [(label, counts[value]) for value, label in MarkStatus.choices],
            "rows": [{"mark": row, "status_label": labels.get(row.status, row.status)} for row in rows],
            "next_query": next_query,
            "history": history,
            "refused_exports": selectors.refused_export_checks(case),
        },
        status=status,
    )
