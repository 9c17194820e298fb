"""Browser pages for case access: the case lead's cases, one case's access, the grant, change,
revoke and sign-off forms, the answers to access requests, and a person's own access and requests.

Every page that manages a case loads it through the scoping door with ``MANAGE_ACCESS``, so a case
someone does not lead or deputise on is a 404 here, as in the API. The views validate a form, call
one service and redirect (POST-redirect-GET); every rule lives in ``authz.services``.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from audit.actor import Actor
from authz import services
from authz.api.serializers import grant_status
from authz.forms import (
    AccessRequestForm,
    ApproveForm,
    GrantChangeForm,
    GrantForm,
    RejectForm,
    RevokeForm,
    SignOffForm,
    end_of_day,
    until_or_unchanged,
    warning_in_words,
)
from authz.models import AccessRequest, Grant, GrantVersion
from authz.notices import ENDING_SOON
from authz.selectors import case_grants_with_history, managed_cases_with_counts, open_requests_of_case
from authz.templatetags.grant_tags import until
from cases.models import Case
from cases.selectors import CasePurpose, case_deputy_periods, case_deputy_usernames, cases_for_person
from cases.views import case_management
from hansken_governance.service_errors import ServiceWarning

STATUS_LABELS = {
    "active": gettext_lazy("Active"),
    "ending_soon": gettext_lazy("Ends soon"),
    "not_yet_valid": gettext_lazy("Not yet valid"),
    "expired": gettext_lazy("Ended"),
    "revoked": gettext_lazy("Revoked"),
}


def _person(request: HttpRequest) -> User:
    """The signed-in person (``login_required`` has let only people through)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _managed_case(request: HttpRequest, project_id: uuid.UUID) -> Case:
    return get_object_or_404(
        cases_for_person(request.user, CasePurpose.MANAGE_ACCESS).select_related("case_lead"),
        project_id=project_id,
    )


def _access_url(case: Case, anchor: str = "") -> str:
    url = reverse("case-access", args=[case.project_id])
    return f"{url}#{anchor}" if anchor else url


def _bad_input(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A form with errors is shown again, with a 400 so that nothing mistakes it for success."""
    return render(request, template, context, status=400)


def _warn(request: HttpRequest, warnings: list[ServiceWarning]) -> None:
    for warning in warnings:
        messages.warning(request, warning_in_words(warning))


@dataclass
class GrantRow:
    grant: Grant
    status: str
    label: str
    ending_soon: bool
    versions: list[GrantVersion] = field(default_factory=list)

    @property
    def in_force(self) -> bool:
        return self.status in ("active", "not_yet_valid")


def _grant_row(grant: Grant, now: datetime.datetime) -> GrantRow:
    status = grant_status(grant)
    ending_soon = status == "active" and grant.valid_until <= now + ENDING_SOON
    shown = "ending_soon" if ending_soon else status
    versions = list(grant.versions.all()) if hasattr(grant, "_prefetched_objects_cache") else []
    return GrantRow(grant, status, str(STATUS_LABELS[shown]), ending_soon, versions)


# --- the case lead's pages --------------------------------------------------------------------------


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    cases = managed_cases_with_counts(request.user, timezone.now())
    return render(request, "authz/my_cases.html", {"cases": cases})


@login_required
def case_access(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = _managed_case(request, project_id)
    now = timezone.now()
    rows = [_grant_row(grant, now) for grant in case_grants_with_history(case)]
    current = [row for row in rows if row.in_force]
    # Ended and revoked access stays on the page: its history is part of the case's record.
    past = sorted(
        (row for row in rows if not row.in_force), key=lambda row: row.grant.changed_at, reverse=True
    )
    requests = open_requests_of_case(case)
    return render(
        request,
        "authz/case_access.html",
        {
            "case": case,
            "deputies": case_deputy_usernames(case),
            "deputy_periods": case_deputy_periods(case),
            "current": current,
            "past": past,
            "history_groups": [current, past],
            "open_requests": requests,
            "is_open": case.status == "open",
            # The sections with which the case lead names deputies and changes the case's status.
            **case_management(request.user, case),
        },
    )


@login_required
def grant_create(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = _managed_case(request, project_id)
    form = GrantForm(request.POST) if request.method == "POST" else GrantForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant, warnings = services.grant_create(
                case=case,
                grantee=data["grantee"],
                rights=data["rights"],
                environments=data["environments"],
                valid_until=end_of_day(data["valid_until"]),
                reason=data["reason"],
                granted_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("%(name)s now has access to case %(case)s until %(until)s.")
                % {
                    "name": grant.grantee.get_username(),
                    "case": case.case_number,
                    "until": until(grant.valid_until),
                },
            )
            _warn(request, warnings)
            return redirect(_access_url(case, f"grant-{grant.pk}"))
    context = {"case": case, "form": form}
    if form.errors:
        return _bad_input(request, "authz/grant_form.html", context)
    return render(request, "authz/grant_form.html", context)


def _managed_grant(case: Case, grant_id: int) -> Grant:
    return get_object_or_404(Grant.objects.select_related("grantee", "granted_by"), case=case, pk=grant_id)


@login_required
def grant_change(request: HttpRequest, project_id: uuid.UUID, grant_id: int) -> HttpResponse:
    case = _managed_case(request, project_id)
    grant = _managed_grant(case, grant_id)
    row = _grant_row(grant, timezone.now())
    form = (
        GrantChangeForm(request.POST, grant=grant)
        if request.method == "POST"
        else GrantChangeForm(grant=grant)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant, warnings = services.grant_change(
                grant=grant,
                rights=data["rights"],
                environments=data["environments"],
                valid_until=until_or_unchanged(data["valid_until"], grant.valid_until),
                reason=data["reason"],
                changed_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("The access of %(name)s to case %(case)s has been changed; it now lasts until %(until)s.")
                % {
                    "name": grant.grantee.get_username(),
                    "case": case.case_number,
                    "until": until(grant.valid_until),
                },
            )
            _warn(request, warnings)
            return redirect(_access_url(case, f"grant-{grant.pk}"))
    context = {"case": case, "row": row, "grant": grant, "form": form}
    if form.errors:
        return _bad_input(request, "authz/grant_change.html", context)
    return render(request, "authz/grant_change.html", context)


@login_required
def grant_revoke(request: HttpRequest, project_id: uuid.UUID, grant_id: int) -> HttpResponse:
    """GET asks for confirmation and a reason; only the POST of that page revokes."""
    case = _managed_case(request, project_id)
    grant = _managed_grant(case, grant_id)
    row = _grant_row(grant, timezone.now())
    form = RevokeForm(request.POST) if request.method == "POST" else RevokeForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_revoke(
                grant=grant,
                reason=form.cleaned_data["reason"],
                revoked_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("The access of %(name)s to case %(case)s has been revoked.")
                % {"name": grant.grantee.get_username(), "case": case.case_number},
            )
            return redirect(_access_url(case, f"grant-{grant.pk}"))
    context = {"case": case, "row": row, "grant": grant, "form": form}
    if form.errors:
        return _bad_input(request, "authz/grant_revoke.html", context)
    return render(request, "authz/grant_revoke.html", context)


@login_required
def case_sign_off(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    case = _managed_case(request, project_id)
    holders = sorted(
        set(
            Grant.objects.filter(
                case=case, revoked_at__isnull=True, valid_until__gt=timezone.now()
            ).values_list("grantee__username", flat=True)
        )
    )
    if request.method == "POST":
        form = SignOffForm(request.POST, usernames=holders)
    else:
        form = SignOffForm(initial={"person": request.GET.get("person", "")}, usernames=holders)
    if request.method == "POST" and form.is_valid():
        person = User.objects.get(username=form.cleaned_data["person"])
        try:
            revoked = services.case_sign_off(
                case=case,
                person=person,
                reason=form.cleaned_data["reason"],
                signed_off_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(name)s has been signed off case %(case)s; %(count)d grant was revoked.",
                    "%(name)s has been signed off case %(case)s; %(count)d grants were revoked.",
                    revoked,
                )
                % {"name": person.get_username(), "case": case.case_number, "count": revoked},
            )
            return redirect(_access_url(case))
    context = {"case": case, "form": form, "holders": holders}
    if form.errors:
        return _bad_input(request, "authz/sign_off.html", context)
    return render(request, "authz/sign_off.html", context)


def _managed_request(case: Case, request_id: int) -> AccessRequest:
    return get_object_or_404(
        AccessRequest.objects.select_related("requester", "answered_by"), case=case, pk=request_id
    )


def _answer_page(
    request: HttpRequest,
    case: Case,
    access_request: AccessRequest,
    approve: ApproveForm | None = None,
    reject: RejectForm | None = None,
) -> HttpResponse:
    context = {
        "case": case,
        "access_request": access_request,
        "approve_form": approve or ApproveForm(access_request=access_request),
        "reject_form": reject or RejectForm(),
    }
    bad = any(form is not None and form.errors for form in (approve, reject))
    return render(request, "authz/request_answer.html", context, status=400 if bad else 200)


@login_required
def access_request_answer(request: HttpRequest, project_id: uuid.UUID, request_id: int) -> HttpResponse:
    case = _managed_case(request, project_id)
    return _answer_page(request, case, _managed_request(case, request_id))


@require_POST
@login_required
def access_request_approve(request: HttpRequest, project_id: uuid.UUID, request_id: int) -> HttpResponse:
    case = _managed_case(request, project_id)
    access_request = _managed_request(case, request_id)
    form = ApproveForm(request.POST, access_request=access_request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grant, warnings = services.access_request_approve(
                access_request=access_request,
                rights=data["rights"],
                environments=data["environments"],
                valid_until=until_or_unchanged(data["valid_until"], access_request.valid_until),
                note=data["note"],
                approved_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Request approved: %(name)s has access to case %(case)s until %(until)s.")
                % {
                    "name": grant.grantee.get_username(),
                    "case": case.case_number,
                    "until": until(grant.valid_until),
                },
            )
            _warn(request, warnings)
            return redirect(_access_url(case, f"grant-{grant.pk}"))
    return _answer_page(request, case, access_request, approve=form)


@require_POST
@login_required
def access_request_reject(request: HttpRequest, project_id: uuid.UUID, request_id: int) -> HttpResponse:
    case = _managed_case(request, project_id)
    access_request = _managed_request(case, request_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.access_request_reject(
                access_request=access_request,
                note=form.cleaned_data["note"],
                rejected_by=_person(request),
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("The request of %(name)s has been rejected.")
                % {"name": access_request.requester.get_username()},
            )
            return redirect(_access_url(case))
    return _answer_page(request, case, access_request, reject=form)


# --- a person's own access ----------------------------------------------------------------------------


@login_required
def my_access(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    now = timezone.now()
    grants = (
        Grant.objects.filter(grantee=person).select_related("case", "granted_by").order_by("-valid_until")
    )
    rows = [_grant_row(grant, now) for grant in grants]
    requests = (
        AccessRequest.objects.filter(requester=person)
        .select_related("case", "answered_by")
        .order_by("-created_at")
    )
    return render(
        request,
        "authz/my_access.html",
        {
            "current": [row for row in rows if row.in_force],
            "past": [row for row in rows if not row.in_force],
            "requests": requests,
        },
    )


@login_required
def access_request_create(request: HttpRequest) -> HttpResponse:
    form = AccessRequestForm(request.POST) if request.method == "POST" else AccessRequestForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = data["case_number"]
        try:
            services.access_request_create(
                case=case,
                requester=_person(request),
                rights=data["rights"],
                environments=data["environments"],
                valid_until=end_of_day(data["valid_until"]),
                reason=data["reason"],
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Your request for access to case %(case)s has been sent to the case lead.")
                % {"case": case.case_number},
            )
            return HttpResponseRedirect(reverse("my-access") + "#requests")
    context: dict[str, Any] = {"form": form}
    if form.errors:
        return _bad_input(request, "authz/request_form.html", context)
    return render(request, "authz/request_form.html", context)
