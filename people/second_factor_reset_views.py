"""The administrators' page that proposes resetting a person's second factor (their phone and their
recovery codes are lost). Like a change of roles it is only a proposal: a second administrator
approves it on the proposals page (``people.services.proposals``); the operator's alternative is
``manage.py reset_second_factor``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from audit.actor import Actor
from hansken_governance.admin_site import is_administrator
from people.proposal_forms import PersonProposalForm
from people.services.proposals import person_second_factor_reset_propose

# The service's refusals, by code, in the reader's language.
SERVICE_WORDS: dict[str, Promise] = {
    "own_second_factor": _("Another administrator must propose a reset of your own second factor."),
    "reason_missing": _("Say why the second factor is reset."),
    "not_enrolled": _("The person has no second factor to reset."),
    "already_proposed": _("A reset of this person's second factor is already waiting for approval."),
}


class SecondFactorResetForm(PersonProposalForm):
    service_words = SERVICE_WORDS

    username = forms.CharField(
        label=_("Person (username)"),
        max_length=150,
        error_messages={"required": _("Give the username of the person whose second factor is reset.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was lost, and how you established that the request comes from the person."),
        error_messages={"required": _("Say why the second factor is reset.")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_reset_propose(request: HttpRequest) -> HttpResponse:
    if not is_administrator(request.user):
        raise PermissionDenied
    assert isinstance(request.user, User)
    form = SecondFactorResetForm(request.POST) if request.method == "POST" else SecondFactorResetForm()
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["username"]
        try:
            person_second_factor_reset_propose(
                person=person,
                reason=form.cleaned_data["reason"],
                proposed_by=request.user,
                by=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                gettext(
                    "The reset of %(name)s's second factor is proposed: a second administrator must "
                    "approve it before it takes effect."
                )
                % {"name": person.get_username()},
            )
            return redirect(reverse("person-proposals"))
    status = 400 if form.errors else 200
    return render(request, "people/second_factor_reset.html", {"form": form}, status=status)
