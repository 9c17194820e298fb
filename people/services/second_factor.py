"""The only writers of a person's second factor (``people.second_factor``): enrolment of an
authenticator app with its recovery codes, the check of a code at sign-in, new recovery codes, removal
by the person, and the reset of someone else's (the operator's command, or a second administrator's
approval in ``people.services.proposals``). Each writes its audit event in the same transaction as the
change; a wrong code is a ``session.sign_in_failed`` event written with the device's throttle count.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import actions
from audit.actor import Actor
from audit.models import Outcome
from audit.services import audit_record
from hansken_governance.service_errors import refusal
from people import second_factor
from people.second_factor import (
    FACTOR_AUTHENTICATOR,
    FACTOR_RECOVERY_CODE,
    RECOVERY_CODE_COUNT,
    TOTP_DIGITS,
    TOTP_STEP,
    TOTP_TOLERANCE,
)

METHOD_SECOND_FACTOR = "second_factor"
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def _new_recovery_codes(person: User) -> list[str]:
    """Replaces the person's recovery codes with new ones; returns them (shown once, never again)."""
    StaticDevice.objects.filter(user=person).delete()
    device = StaticDevice.objects.create(user=person, name=RECOVERY_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_enrol(*, person: User, key: str, code: str, by: Actor) -> list[str]:
    """Enrols the authenticator app holding ``key`` once ``code`` shows it works, with new recovery
    codes; returns the recovery codes. The code's time step is the device's last used one, so the
    same code does not sign in afterwards."""
    locked = User.objects.select_for_update().get(pk=person.pk)
    if second_factor.is_enrolled(locked):
        raise refusal(
            "code", "An authenticator app is enrolled already; remove it first.", "already_enrolled"
        )
    step = second_factor.matching_step(key, second_factor.normalise_code(code))
    if step is None:
        raise refusal("code", "The code does not match: type the code your app shows now.", "invalid_code")
    TOTPDevice.objects.filter(user=person).delete()  # none confirmed: only abandoned attempts
    TOTPDevice.objects.create(
        user=person,
        name=AUTHENTICATOR_NAME,
        key=key,
        step=TOTP_STEP,
        digits=TOTP_DIGITS,
        tolerance=TOTP_TOLERANCE,
        last_t=step,
        confirmed=True,
    )
    codes = _new_recovery_codes(person)
    audit_record(
        action=actions.PERSON_SECOND_FACTOR_ENROLLED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "recovery_codes": len(codes),
            # Whether the person's roles require the factor: such an enrolment is seen by the
            # monitoring (siem.rules, person_privileges_changed), since whoever held the new password
            # first could have enrolled in the person's place.
            "required_by_roles": second_factor.required_for(person),
        },
    )
    return codes


@dataclass(frozen=True)
class CodeCheck:
    """The answer to a code given at sign-in: which factor it proved (None: refused, and why)."""

    factor: str | None
    reason: str = ""
    recovery_codes_left: int | None = None

    @property
    def accepted(self) -> bool:
        return self.factor is not None


def _anonymous(by: Actor) -> Actor:
    # Nobody is proven to be acting until both factors are: the failure names the attempted person
    # in its details, as a failed password does (people.signals).
    return dataclasses.replace(by, username="anonymous", role="", user_id=None)


def _record_failure(person: User, by: Actor, reason: str) -> None:
    audit_record(
        action=actions.PERSON_SIGN_IN_FAILED,
        actor=_anonymous(by),
        outcome=Outcome.FAILURE,
        object_type="person",
        object_id=person.pk,
        details={
            "method": METHOD_SECOND_FACTOR,
            "attempted_username": person.get_username(),
            "reason": reason,
        },
    )


@transaction.atomic
def second_factor_check(*, person: User, code: str, by: Actor, locked_out: bool = False) -> CodeCheck:
    """Checks a code given at sign-in: six digits against the authenticator app (a code already used,
    or older than the last one used, is refused), anything else against the recovery codes (each
    works once: it is deleted here, and its use is audited). A wrong code counts on the device's
    throttle (django-otp: 1, 2, 4 ... seconds before the next check) and is a failed sign-in in the
    trail, both committed together; a code during the throttle's wait, or while ``locked_out`` (the
    sign-in lockout, people.lockout), is refused without being checked."""
    if locked_out:
        _record_failure(person, by, "locked_out")
        return CodeCheck(None, "locked_out")
    typed = second_factor.normalise_code(code)
    if second_factor.looks_like_authenticator_code(typed):
        device: TOTPDevice | StaticDevice | None = (
            TOTPDevice.objects.select_for_update().filter(user=person, confirmed=True).order_by("pk").first()
        )
        factor = FACTOR_AUTHENTICATOR
    else:
        device = StaticDevice.objects.select_for_update().filter(user=person, confirmed=True).first()
        factor = FACTOR_RECOVERY_CODE
    if device is None:
        _record_failure(person, by, "invalid_code")
        return CodeCheck(None, "invalid_code")
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        _record_failure(person, by, "throttled")
        return CodeCheck(None, "throttled")
    # The device counts a failure on its throttle, or moves its last used step (TOTP) or deletes the
    # used code (recovery), and saves itself: in this transaction, with the event below.
    if not device.verify_token(typed):
        _record_failure(person, by, "invalid_code")
        return CodeCheck(None, "invalid_code")
    if factor == FACTOR_AUTHENTICATOR:
        return CodeCheck(factor)
    left = StaticToken.objects.filter(device=device).count()
    audit_record(
        action=actions.PERSON_RECOVERY_CODE_USED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "recovery_codes_left": left},
    )
    return CodeCheck(factor, recovery_codes_left=left)


@transaction.atomic
def app_code_confirm(*, person: User, code: str, by: Actor) -> bool:
    """Whether ``code`` is the code the person's authenticator app shows now. Asked again before a
    person changes their own factor (new recovery codes, removal), so a session left open is not
    enough to read new codes or drop the factor. As at sign-in, a code is accepted once, and a wrong
    one counts on the device's throttle; a refusal is in the trail
    (``person.second_factor_confirm_failed``, with why), committed with the throttle's count
    (nothing here raises). An accepted code writes nothing: the change it guards is recorded."""
    typed = second_factor.normalise_code(code)
    device = None
    if second_factor.looks_like_authenticator_code(typed):
        device = (
            TOTPDevice.objects.select_for_update().filter(user=person, confirmed=True).order_by("pk").first()
        )
    if device is None:
        reason = "invalid_code"
    elif not device.verify_is_allowed()[0]:
        reason = "throttled"
    elif device.verify_token(typed):
        return True
    else:
        reason = "invalid_code"
    audit_record(
        action=actions.PERSON_SECOND_FACTOR_CONFIRM_FAILED,
        actor=by,
        outcome=Outcome.FAILURE,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "reason": reason},
    )
    return False


@transaction.atomic
def recovery_codes_renew(*, person: User, by: Actor) -> list[str]:
    """New recovery codes for an enrolled person; the old ones stop working."""
    if not second_factor.is_enrolled(person):
        raise refusal("person", "Enrol an authenticator app first.", "not_enrolled")
    codes = _new_recovery_codes(person)
    audit_record(
        action=actions.PERSON_RECOVERY_CODES_RENEWED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "recovery_codes": len(codes)},
    )
    return codes


def _remove_devices(person: User) -> dict[str, Any]:
    removed = {
        "authenticators_removed": TOTPDevice.objects.filter(user=person)
        .delete()[1]
        .get(TOTPDevice._meta.label, 0),
        "recovery_codes_removed": StaticToken.objects.filter(device__user=person).count(),
    }
    StaticDevice.objects.filter(user=person).delete()
    return removed


@transaction.atomic
def second_factor_remove(*, person: User, by: Actor) -> None:
    """The person's own removal of their second factor; refused where their roles require one."""
    if by.user_id is not None and by.user_id != person.pk:
        raise refusal(
            "person", "Someone else's second factor is reset through four eyes, not removed.", "not_own"
        )
    if second_factor.required_for(person):
        raise refusal("person", "Your roles require a second factor; it cannot be removed.", "required")
    if not second_factor.is_enrolled(person):
        raise refusal("person", "No authenticator app is enrolled.", "not_enrolled")
    removed = _remove_devices(person)
    audit_record(
        action=actions.PERSON_SECOND_FACTOR_REMOVED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), **removed},
    )


@transaction.atomic
def second_factor_reset(*, person: User, reason: str, by: Actor) -> None:
    """The operator's reset (``manage.py reset_second_factor``): applied at once only from the command
    line, whose runner holds the host and could as well write to the database; in the browser a reset
    is a four-eyes proposal (``people.services.proposals.person_second_factor_reset_propose``)."""
    if by.channel != "command":
        raise refusal(
            "person", "A reset of a second factor needs a second administrator's approval.", "four_eyes"
        )
    if not reason.strip():
        raise refusal("reason", "Say why the second factor is reset.", "reason_missing")
    _reset(person=person, by=by, reason=reason.strip())


def _reset(*, person: User, by: Actor, reason: str, trail: dict[str, Any] | None = None) -> None:
    """Removes a person's second factor for them (lost phone): at their next password sign-in they
    enrol again, if their roles require it. Called by the operator's command and by an approved
    four-eyes proposal, inside their transaction."""
    if not second_factor.has_second_factor(person):
        raise refusal(
            "person", "%(name)s has no second factor to reset.", "not_enrolled", name=person.get_username()
        )
    removed = _remove_devices(person)
    audit_record(
        action=actions.PERSON_SECOND_FACTOR_RESET,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "reason": reason,
            **removed,
            **(trail or {}),
        },
    )
