"""The administrators' page that proposes moving a person's single sign-on binding to another
provider subject (``sub``), for when their account at the identity provider was replaced. Like a
change of roles it is only a proposal: a second administrator approves it on the proposals page
(``people.services.proposals``)."""

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
from people.services.proposals import SSO_SUBJECT_MAX, person_sso_subject_propose

# The service's refusals, by code, in the reader's language.
SERVICE_WORDS: dict[str, Promise] = {
    "subject_length": _("Give the provider's subject: 1 to 255 characters."),
    "subject_taken": _("This subject is bound to another person."),
    "unchanged": _("The person is bound to this subject already."),
    "reason_missing": _("Say why the binding moves."),
    "already_proposed": _("A move of this person's binding is already waiting for approval."),
    "own_binding": _("Another administrator must propose a move of your own binding."),
}


class SsoBindingForm(PersonProposalForm):
    service_words = SERVICE_WORDS

    username = forms.CharField(
        label=_("Person (username)"),
        max_length=150,
        error_messages={"required": _("Give the username of the person whose binding moves.")},
    )
    subject = forms.CharField(
        label=_("New subject at the identity provider"),
        max_length=SSO_SUBJECT_MAX,
        help_text=_("The provider's sub of the person's new account, exactly as the provider sends it."),
        error_messages={"required": _("Give the provider's subject: 1 to 255 characters.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the person's provider account changed, and how you established it is theirs."),
        error_messages={"required": _("Say why the binding moves.")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def sso_binding_propose(request: HttpRequest) -> HttpResponse:
    if not is_administrator(request.user):
        raise PermissionDenied
    assert isinstance(request.user, User)
    form = SsoBindingForm(request.POST) if request.method == "POST" else SsoBindingForm()
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["username"]
        try:
            person_sso_subject_propose(
                person=person,
                subject=form.cleaned_data["subject"],
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
                    "The move of %(name)s's single sign-on binding is proposed: a second administrator "
                    "must approve it before it takes effect."
                )
                % {"name": person.get_username()},
            )
            return redirect(reverse("person-proposals"))
    status = 400 if form.errors else 200
    return render(request, "people/sso_binding.html", {"form": form}, status=status)
