"""Browser pages for cases. Every case is loaded through the scoping door, so a case outside the
person's scope is a 404 here exactly as in the API.

The case lead's own pages (naming deputies, changing the case's status) sit on the case's access
page: they validate a form, call one service of ``cases.services`` and redirect (POST-redirect-GET).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from cases import services
from cases.forms import CaseStatusForm, DeputyForm, DeputyRemoveForm
from cases.models import Case, CaseStatus
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
    may_review_privileged = (
        cases_for_person(request.user, CasePurpose.REVIEW_PRIVILEGED).filter(pk=case.pk).exists()
    )
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "deputies": case_deputy_usernames(case),
            "dataset_rows": dataset_rows,
            "may_review_privileged": may_review_privileged,
        },
    )


# --- the case lead's pages: deputies and the case's status ------------------------------------------


@dataclass(frozen=True)
class StatusMove:
    """One change of status the case lead may make, with the words the pages use for it."""

    before: str
    after: str
    button: Promise
    title: Promise  # the question on the confirmation page; %(number)s is the case number
    explanation: Promise
    confirm: Promise
    done: Promise  # the message after the change; %(number)s is the case number
    # Closing and archiving stop all work on the case, so they ask first; the way back does not.
    asks_first: bool


MOVES = {
    (move.before, move.after): move
    for move in (
        StatusMove(
            CaseStatus.OPEN,
            CaseStatus.CLOSED,
            _("Close the case"),
            _("Close case %(number)s?"),
            _(
                "From the moment you confirm, every request for this case's data is denied, also for "
                "you and the deputies. The grants stay on record. The closing date starts the "
                "retention period of the case's data. You can reopen the case later."
            ),
            _("Yes, close the case"),
            _("Case %(number)s has been closed."),
            True,
        ),
        StatusMove(
            CaseStatus.CLOSED,
            CaseStatus.OPEN,
            _("Reopen the case"),
            _("Reopen case %(number)s?"),
            _("Access that is still valid counts again from the moment the case is open."),
            _("Reopen the case"),
            _("Case %(number)s has been reopened."),
            False,
        ),
        StatusMove(
            CaseStatus.CLOSED,
            CaseStatus.ARCHIVED,
            _("Archive the case"),
            _("Archive case %(number)s?"),
            _(
                "An archived case stays closed: every request for its data is denied. To reopen it, "
                "first take it out of the archive."
            ),
            _("Yes, archive the case"),
            _("Case %(number)s has been archived."),
            True,
        ),
        StatusMove(
            CaseStatus.ARCHIVED,
            CaseStatus.CLOSED,
            _("Take the case out of the archive"),
            _("Take case %(number)s out of the archive?"),
            _("The case becomes closed again; after that it can be reopened."),
            _("Take the case out of the archive"),
            _("Case %(number)s has been taken out of the archive; it is closed."),
            False,
        ),
    )
}


def _person(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _led_case(request: HttpRequest, project_id: uuid.UUID) -> Case:
    """The case, for its case lead only (as in the API): deputies manage grants, but the lead names
    the deputies and decides the case's status. Outside the scoping door the case does not exist."""
    case = get_object_or_404(
        cases_for_person(request.user, CasePurpose.MANAGE_ACCESS).select_related("case_lead"),
        project_id=project_id,
    )
    if case.case_lead_id != request.user.pk:
        raise PermissionDenied
    return case


def _access_url(case: Case, anchor: str) -> str:
    return f"{reverse('case-access', args=[case.project_id])}#{anchor}"


def _page(request: HttpRequest, template: str, context: dict[str, Any], form: Any) -> HttpResponse:
    """A form with errors is shown again with a 400, so that nothing mistakes it for success."""
    return render(request, template, context, status=400 if form.errors else 200)


def _status_form(move: StatusMove, data: Any = None) -> CaseStatusForm:
    # Each inline form on the access page needs its own element ids.
    return CaseStatusForm(data, auto_id=f"id_%s_{move.after}")


def case_management(user: Any, case: Case) -> dict[str, Any]:
    """What the access page needs for its sections on deputies and on the case's status."""
    is_lead = case.case_lead_id == getattr(user, "pk", None)
    moves = [move for (before, _after), move in MOVES.items() if before == case.status]
    return {
        "is_case_lead": is_lead,
        "deputy_form": DeputyForm() if is_lead else None,
        "status_moves": [(move, _status_form(move)) for move in moves] if is_lead else [],
    }


@login_required
def deputy_add(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = _led_case(request, project_id)
    form = DeputyForm(request.POST) if request.method == "POST" else DeputyForm()
    if request.method == "POST" and form.is_valid():
        deputy = form.cleaned_data["deputy"]
        try:
            services.case_add_deputy(
                case=case,
                deputy=deputy,
                valid_until=form.cleaned_data["valid_until"],
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                gettext("%(name)s is now a deputy of case %(number)s.")
                % {"name": deputy.get_username(), "number": case.case_number},
            )
            return redirect(_access_url(case, "deputies"))
    return _page(request, "cases/deputy_add.html", {"case": case, "form": form}, form)


@login_required
def deputy_remove(request: HttpRequest, project_id: uuid.UUID, username: str) -> HttpResponse:
    """GET asks for confirmation; only the POST of that page removes the deputy."""
    case = _led_case(request, project_id)
    deputy = get_object_or_404(User, username=username)
    form = DeputyRemoveForm(request.POST) if request.method == "POST" else DeputyRemoveForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.case_remove_deputy(case=case, deputy=deputy, by=Actor.from_request(request))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                gettext("%(name)s is no longer a deputy of case %(number)s.")
                % {"name": deputy.get_username(), "number": case.case_number},
            )
            return redirect(_access_url(case, "deputies"))
    context = {
        "case": case,
        "deputy": deputy,
        "is_deputy": username in case_deputy_usernames(case),
        "form": form,
    }
    return _page(request, "cases/deputy_remove.html", context, form)


@login_required
def case_status(request: HttpRequest, project_id: uuid.UUID, status: str) -> HttpResponse:
    """GET asks for the reason (and for confirmation); the POST changes the status."""
    case = _led_case(request, project_id)
    if status not in CaseStatus.values:
        raise Http404
    move = MOVES.get((case.status, status))
    form = CaseStatusForm(request.POST) if request.method == "POST" else CaseStatusForm()
    if request.method == "POST" and form.is_valid():
        try:
            # The service decides whether the move is allowed; a move we have no words for fails there.
            case = services.case_set_status(
                case=case, status=status, reason=form.cleaned_data["reason"], by=Actor.from_request(request)
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            # MOVES holds every move the service allows (a test holds them equal); the fallback is
            # for a move added to the service before it got its own words here.
            done = move.done if move else _("The status of case %(number)s has been changed.")
            messages.success(request, str(done) % {"number": case.case_number})
            return redirect(_access_url(case, "status"))
    title = str(move.title) % {"number": case.case_number} if move else ""
    context = {"case": case, "move": move, "title": title, "form": form}
    return _page(request, "cases/case_status.html", context, form)
