"""The second factor's pages: the code step of password sign-in, enrolment during sign-in (for the
roles that require it) and the person's own page (enrol, new recovery codes, remove).

Sign-in: the password form (``people.views.SignInView``, also behind the admin's login) leaves a person
who is asked for a second factor *pending* (``people.second_factor``); these pages call Django's
``login()`` only when the code is right. A wrong code is a failed sign-in twice over: on the
device's throttle and in django-axes' lockout counters for the username and the source address, so
guessing codes locks the sign-in out as guessing passwords does.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from audit.actor import Actor
from hansken_governance.request_context import client_address
from people import second_factor
from people.lockout import lockout_response, mark_refused_while_locked
from people.roles import roles_of
from people.second_factor import FACTOR_RECOVERY_CODE, USED_FACTOR_ATTR, Pending
from people.services.second_factor import (
    app_code_confirm,
    recovery_codes_renew,
    second_factor_check,
    second_factor_enrol,
    second_factor_remove,
)

CODE_MAX = 32

REFUSALS = {
    "invalid_code": _("That code is not right. Type the code your app shows now, or a recovery code."),
    "throttled": _("Too many wrong codes: wait a few seconds, then type the code your app shows now."),
}
ENROL_REFUSALS = {
    "invalid_code": _("That code does not match. Type the six digits your app shows now."),
    "already_enrolled": _("An authenticator app is enrolled already."),
}


class CodeForm(forms.Form):
    use_required_attribute = False
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        error_messages={"required": _("Type the code your app shows, or a recovery code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolForm(forms.Form):
    use_required_attribute = False
    code = forms.CharField(
        label=_("Code from your app"),
        max_length=CODE_MAX,
        help_text=_("The six digits your authenticator app shows for Hansken Governance."),
        error_messages={"required": _("Type the six digits your app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


def _person_actor(request: HttpRequest, person: User) -> Actor:
    """The pending person, who has given the password: named in the events of their second step."""
    return Actor(
        username=person.get_username(),
        role=",".join(sorted(roles_of(person))),
        source_address=client_address(request),
        request_id=str(getattr(request, "request_id", "") or ""),
        channel="browser",
        user_id=person.pk,
    )


def _complete_sign_in(request: HttpRequest, pending: Pending, factor: str) -> None:
    """Both factors proven: Django's ``login()``, so the sign-in event, the session limits and the
    lockout's reset on success happen as for any sign-in."""
    second_factor.pending_clear(request)
    setattr(request, USED_FACTOR_ATTR, factor)
    login(request, pending.user, backend=pending.backend)


def _start_again(request: HttpRequest) -> HttpResponse:
    messages.error(request, gettext("Your sign-in took too long or has ended. Please sign in again."))
    return redirect(reverse("login"))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    pending = second_factor.pending_of(request)
    if pending is None:
        return _start_again(request)
    if not second_factor.is_enrolled(pending.user):
        return redirect(reverse("sign-in-enrol"))
    form = CodeForm(request.POST) if request.method == "POST" else CodeForm()
    if request.method == "POST" and form.is_valid():
        username = pending.user.get_username()
        credentials = {"username": username}
        locked = AxesProxyHandler.is_locked(request, credentials)
        check = second_factor_check(
            person=pending.user,
            code=form.cleaned_data["code"],
            by=_person_actor(request, pending.user),
            locked_out=locked,
        )
        if check.accepted:
            assert check.factor is not None
            _complete_sign_in(request, pending, check.factor)
            if check.factor == FACTOR_RECOVERY_CODE:
                messages.warning(
                    request,
                    gettext(
                        "You signed in with a recovery code; %(left)d are left. Each works only once: "
                        "make new ones on your second-factor page when they run low."
                    )
                    % {"left": check.recovery_codes_left or 0},
                )
            return redirect(pending.next_url)
        # Counted by axes as a failed sign-in of this username from this address (and, during a
        # lockout, restarting its cool-off as a refused password does).
        if locked:
            mark_refused_while_locked(request)
        AxesProxyHandler.user_login_failed(sender=sign_in_code, credentials=credentials, request=request)
        if locked or getattr(request, "axes_locked_out", False):
            second_factor.pending_clear(request)
            return lockout_response(request)
        form.add_error("code", str(REFUSALS.get(check.reason, REFUSALS["invalid_code"])))
    status = 400 if form.errors else 200
    return render(request, "people/sign_in_code.html", {"form": form, "person": pending.user}, status=status)


def _enrol_key(request: HttpRequest) -> str:
    """The secret being enrolled, kept in the session until the person's first code confirms it (no
    device is stored before that)."""
    key = request.session.get(second_factor.ENROL_KEY_SESSION_KEY)
    if not isinstance(key, str):
        key = second_factor.new_key()
        request.session[second_factor.ENROL_KEY_SESSION_KEY] = key
    return key


def _enrol_context(request: HttpRequest, person: User, key: str, form: EnrolForm) -> dict[str, object]:
    return {
        "form": form,
        "person": person,
        "secret_text": second_factor.key_as_text(key),
        "qr_svg": second_factor.qr_svg(
            second_factor.setup_url(person, key),
            title=gettext("QR code to add Hansken Governance to your app"),
        ),
    }


def _enrol(request: HttpRequest, person: User, by: Actor) -> tuple[list[str] | None, EnrolForm, str]:
    key = _enrol_key(request)
    form = EnrolForm(request.POST) if request.method == "POST" else EnrolForm()
    codes = None
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor_enrol(person=person, key=key, code=form.cleaned_data["code"], by=by)
        except ValidationError as error:
            code = error.error_dict["code"][0].code if hasattr(error, "error_dict") else None
            form.add_error("code", str(ENROL_REFUSALS.get(code or "", ENROL_REFUSALS["invalid_code"])))
        else:
            request.session.pop(second_factor.ENROL_KEY_SESSION_KEY, None)
    return codes, form, key


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_enrol(request: HttpRequest) -> HttpResponse:
    """Enrolment before the first sign-in completes, for a person whose roles require a second
    factor and who has none yet. The first code confirms the app and completes the sign-in."""
    pending = second_factor.pending_of(request)
    if pending is None:
        return _start_again(request)
    if second_factor.is_enrolled(pending.user):
        return redirect(reverse("sign-in-code"))
    codes, form, key = _enrol(request, pending.user, _person_actor(request, pending.user))
    if codes is not None:
        _complete_sign_in(request, pending, second_factor.FACTOR_AUTHENTICATOR)
        return render(
            request, "people/recovery_codes.html", {"codes": codes, "continue_url": pending.next_url}
        )
    status = 400 if form.errors else 200
    context = {**_enrol_context(request, pending.user, key, form), "during_sign_in": True}
    return render(request, "people/second_factor_enrol.html", context, status=status)


@login_required
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def own_second_factor(request: HttpRequest) -> HttpResponse:
    """A signed-in person's own page: enrol (offered to everyone), see how many recovery codes are
    left, make new ones, or remove the factor where the roles do not require it."""
    person = request.user
    assert isinstance(person, User)
    if not second_factor.is_enrolled(person):
        codes, form, key = _enrol(request, person, Actor.from_request(request))
        if codes is not None:
            return render(
                request,
                "people/recovery_codes.html",
                {"codes": codes, "continue_url": reverse("second-factor")},
            )
        status = 400 if form.errors else 200
        context = {
            **_enrol_context(request, person, key, form),
            "during_sign_in": False,
            "required": second_factor.required_for(person),
        }
        return render(request, "people/second_factor_enrol.html", context, status=status)
    return _own_page(request, person)


class ConfirmForm(forms.Form):
    """The app's code, asked again before a person changes their own factor."""

    use_required_attribute = False
    code = forms.CharField(max_length=CODE_MAX, required=False)


def _confirmed(request: HttpRequest, person: User) -> bool:
    form = ConfirmForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    return app_code_confirm(person=person, code=code, by=Actor.from_request(request))


def _own_page(request: HttpRequest, person: User, *, status: int = 200, **errors: str) -> HttpResponse:
    return render(
        request,
        "people/second_factor.html",
        {
            "required": second_factor.required_for(person),
            "recovery_codes_left": second_factor.recovery_codes_left(person),
            "device": second_factor.authenticator_of(person),
            **errors,
        },
        status=status,
    )


def _wrong_code() -> str:
    return gettext("That code is not right. Type the six digits your app shows now.")


@require_POST
@login_required
@sensitive_post_parameters("code")
def own_recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    person = request.user
    assert isinstance(person, User)
    if not second_factor.is_enrolled(person):
        messages.error(request, gettext("Enrol an authenticator app first."))
        return redirect(reverse("second-factor"))
    if not _confirmed(request, person):
        return _own_page(request, person, status=400, renew_error=_wrong_code())
    codes = recovery_codes_renew(person=person, by=Actor.from_request(request))
    return render(
        request, "people/recovery_codes.html", {"codes": codes, "continue_url": reverse("second-factor")}
    )


@require_POST
@login_required
@sensitive_post_parameters("code")
def own_second_factor_remove(request: HttpRequest) -> HttpResponse:
    person = request.user
    assert isinstance(person, User)
    if second_factor.required_for(person):
        messages.error(request, gettext("Your roles require a second factor; it cannot be removed."))
        return redirect(reverse("second-factor"))
    if not second_factor.is_enrolled(person):
        messages.error(request, gettext("No authenticator app is enrolled."))
        return redirect(reverse("second-factor"))
    if not _confirmed(request, person):
        return _own_page(request, person, status=400, remove_error=_wrong_code())
    second_factor_remove(person=person, by=Actor.from_request(request))
    messages.success(request, gettext("Your second factor has been removed."))
    return redirect(reverse("second-factor"))
