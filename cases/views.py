"""Browser pages for cases. Every case is loaded through the scoping door, so a case outside the
person's scope is a 404 here exactly as in the API."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cases.selectors import CasePurpose, case_deputy_usernames, cases_for_person
from hansken_governance.environments import Environment


def _environment_label(value: str) -> str:
    # Stored values are the contract's names; an unknown one is shown as it is rather than hidden.
    return str(Environment(value).label) if value in Environment.values else value


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = (
        cases_for_person(request.user, CasePurpose.VIEW)
        .select_related("case_lead")
        .annotate(dataset_count=Count("datasets"))
        .order_by("case_number")
    )
    return render(request, "cases/case_list.html", {"cases": cases})


@login_required
def case_detail(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = get_object_or_404(
        cases_for_person(request.user, CasePurpose.VIEW).select_related("case_lead"), project_id=project_id
    )
    dataset_rows = [
        {"dataset": dataset, "environments": [_environment_label(env) for env in dataset.environments or []]}
        for dataset in case.datasets.order_by("imported_at", "pk")
    ]
    return render(
        request,
        "cases/case_detail.html",
        {"case": case, "deputies": case_deputy_usernames(case), "dataset_rows": dataset_rows},
    )
