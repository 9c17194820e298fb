"""The four-eyes page: administrators see the proposed changes to people (new people with a case or
administrator role, changes of roles or screening) and a second administrator approves or rejects
each; the proposer sees his own proposals waiting, without buttons."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.actor import Actor
from hansken_governance.admin_site import is_administrator
from people.models import PersonProposal, ProposalStatus
from people.roles import Role
from people.services.proposals import person_proposal_approve, person_proposal_reject

ANSWERED_SHOWN = 50

# The service's refusals, by code, in the reader's language.
REFUSALS = {
    "answered": _("This proposal has already been answered."),
    "own_proposal": _("You proposed this change; a second administrator must answer it."),
    "about_self": _("This proposal is about you; another administrator must answer it."),
    "stale": _("The person has changed since this was proposed; propose the change again."),
    "note_missing": _("Say why you reject the proposal."),
}


class ProposalAnswerForm(forms.Form):
    use_required_attribute = False
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _administrator(request: HttpRequest) -> User:
    if not is_administrator(request.user):
        raise PermissionDenied
    assert isinstance(request.user, User)
    return request.user


def _role_labels(values: list[str] | None) -> str:
    labels = dict(Role.choices)
    return ", ".join(str(labels.get(value, value)) for value in values or [])


def _moment(value: object) -> datetime.datetime | None:
    """A moment a proposal kept as ISO text, for the page to show in the reader's format."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def _row(proposal: PersonProposal, viewer: User) -> dict[str, object]:
    changes, before = proposal.changes, proposal.before
    return {
        "proposal": proposal,
        "roles": _role_labels(changes.get("roles")) if "roles" in changes else "",
        "roles_before": _role_labels(before.get("roles")) if "roles" in before else "",
        "screened_until": changes.get("screened_until"),
        "screened_until_before": before.get("screened_until"),
        "screening_reference": changes.get("screening_reference"),
        "sso_subject": changes.get("sso_subject"),
        "sso_subject_before": before.get("sso_subject"),
        "second_factor_since": _moment(before.get("second_factor")),
        "may_answer": proposal.proposed_by_id != viewer.pk and proposal.person_id != viewer.pk,
    }


@login_required
def proposals(request: HttpRequest) -> HttpResponse:
    viewer = _administrator(request)
    pending = PersonProposal.objects.filter(status=ProposalStatus.PENDING).select_related("proposed_by")
    answered = (
        PersonProposal.objects.exclude(status=ProposalStatus.PENDING)
        .select_related("proposed_by", "answered_by")
        .order_by("-answered_at")[:ANSWERED_SHOWN]
    )
    return render(
        request,
        "people/proposals.html",
        {
            "pending": [_row(p, viewer) for p in pending.order_by("proposed_at")],
            "answered": [_row(p, viewer) for p in answered],
        },
    )


def _refusal(error: ValidationError) -> str:
    code = getattr(error, "code", None)
    if hasattr(error, "error_dict"):
        codes = [e.code for errors in error.error_dict.values() for e in errors]
        code = codes[0] if codes else None
    return str(REFUSALS[code]) if code in REFUSALS else " ".join(error.messages)


def _answer(request: HttpRequest, proposal_id: int, approve: bool) -> HttpResponse:
    viewer = _administrator(request)
    proposal = get_object_or_404(PersonProposal, pk=proposal_id)
    form = ProposalAnswerForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    by = Actor.from_request(request)
    try:
        if approve:
            person_proposal_approve(proposal=proposal, approved_by=viewer, by=by, note=note)
        else:
            person_proposal_reject(proposal=proposal, rejected_by=viewer, by=by, note=note)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        done = (
            gettext("The change for %(name)s has been approved and applied.")
            if approve
            else gettext("The change for %(name)s has been rejected.")
        )
        messages.success(request, done % {"name": proposal.username})
    return redirect(reverse("person-proposals"))


@require_POST
@login_required
def proposal_approve(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _answer(request, proposal_id, approve=True)


@require_POST
@login_required
def proposal_reject(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _answer(request, proposal_id, approve=False)
