from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.selectors import CasePurpose, cases_for_person


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = cases_for_person(request.user, CasePurpose.VIEW).select_related("case_lead")
    return render(request, "cases/case_list.html", {"cases": cases})
