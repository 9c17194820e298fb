"""Resetting someone else's second factor (their phone and recovery codes are lost): in the browser a
four-eyes proposal like a change of roles (``people.services.proposals.person_second_factor_reset_propose``,
page ``/accounts/second-factor/reset/``, approved on ``/accounts/proposals/``); for the operator the
command ``reset_second_factor``. Both are in the trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from notifications.models import Notification
from people.models import PersonProposal, ProposalKind, ProposalStatus
from people.services import proposals
from people.services.second_factor import second_factor_reset
from siem.models import Alert
from siem.rules import sweep
from tests.personas import PASSWORD, Cast
from tests.second_factor_helpers import enrol
from tests.test_four_eyes import actions_after, browser, last, second_admin

REASON = "Phone lost on duty, recovery codes were in the same bag; identity checked in person."


def _has_factor(person: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=person).exists()
        or StaticToken.objects.filter(device__user=person).exists()
    )


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_a_reset_takes_effect_only_when_a_second_administrator_approves_it(cast: Cast):
    admin, other, person = cast["administrator"], second_admin(), cast["privacy_officer"]
    enrol(person)
    before = last()
    proposal = proposals.person_second_factor_reset_propose(
        person=person, reason=REASON, proposed_by=admin, by=browser(admin)
    )
    assert proposal.kind == ProposalKind.SECOND_FACTOR_RESET
    assert proposal.before["second_factor"] == TOTPDevice.objects.get(user=person).created_at.isoformat()
    assert _has_factor(person)
    assert actions_after(before) == ["person.change_proposed"]
    with pytest.raises(ValidationError, match="not its proposer"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=admin, by=browser(admin))
    with pytest.raises(PermissionDenied):
        proposals.person_proposal_approve(
            proposal=proposal, approved_by=cast["security_manager"], by=browser(cast["security_manager"])
        )
    assert _has_factor(person)

    before = last()
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert not _has_factor(person)
    assert actions_after(before) == ["person.change_approved", "person.second_factor_reset"]
    reset = AuditEvent.objects.get(action="person.second_factor_reset")
    assert (reset.actor, reset.object_id) == ("admin.two", str(person.pk))
    assert reset.details == {
        "username": "privacy_officer",
        "reason": REASON,
        "authenticators_removed": 1,
        "recovery_codes_removed": 10,
        "proposal_id": proposal.pk,
        "proposed_by": "administrator",
        "approved_by": "admin.two",
    }
    # At the next password sign-in the privacy officer sets up a new one before signing in.
    client = Client()
    response = client.post("/accounts/login/", {"username": "privacy_officer", "password": PASSWORD})
    assert response["Location"] == "/accounts/login/enrol/"
    assert SESSION_KEY not in client.session


def test_nobody_proposes_his_own_reset_nor_one_without_reason_or_factor(cast: Cast):
    admin = cast["administrator"]
    enrol(admin)
    enrol(cast["security_manager"])
    before = last()
    with pytest.raises(ValidationError) as own:
        proposals.person_second_factor_reset_propose(
            person=admin, reason=REASON, proposed_by=admin, by=browser(admin)
        )
    assert own.value.error_dict["person"][0].code == "own_second_factor"
    with pytest.raises(ValidationError) as no_reason:
        proposals.person_second_factor_reset_propose(
            person=cast["security_manager"], reason="  ", proposed_by=admin, by=browser(admin)
        )
    assert no_reason.value.error_dict["reason"][0].code == "reason_missing"
    with pytest.raises(ValidationError) as nothing:
        proposals.person_second_factor_reset_propose(
            person=cast["operator"], reason=REASON, proposed_by=admin, by=browser(admin)
        )
    assert nothing.value.error_dict["person"][0].code == "not_enrolled"
    with pytest.raises(PermissionDenied):
        proposals.person_second_factor_reset_propose(
            person=cast["security_manager"],
            reason=REASON,
            proposed_by=cast["privacy_officer"],
            by=browser(cast["privacy_officer"]),
        )
    assert actions_after(before) == []
    assert not PersonProposal.objects.exists()


def test_a_factor_set_up_anew_since_the_proposal_is_not_reset(cast: Cast):
    admin, other, person = cast["administrator"], second_admin(), cast["engineer"]
    enrol(person)
    proposal = proposals.person_second_factor_reset_propose(
        person=person, reason=REASON, proposed_by=admin, by=browser(admin)
    )
    # The engineer found the phone, removed the factor and set up a new one: not what was proposed.
    TOTPDevice.objects.filter(user=person).delete()
    enrol(person)
    new_key = TOTPDevice.objects.get(user=person).key
    before = last()
    with pytest.raises(ValidationError) as stale:
        proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert stale.value.error_dict["proposal"][0].code == "stale"
    assert TOTPDevice.objects.get(user=person).key == new_key
    assert actions_after(before) == []
    assert PersonProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PENDING


def test_the_page_is_for_administrators_only(cast: Cast):
    assert _signed_in(cast["security_manager"]).get("/accounts/second-factor/reset/").status_code == 403
    assert Client().get("/accounts/second-factor/reset/").status_code == 302  # to sign in
    assert _signed_in(cast["administrator"]).get("/accounts/second-factor/reset/").status_code == 200


def test_the_page_proposes_the_reset_and_the_proposals_page_shows_it_in_both_languages(cast: Cast):
    enrol(cast["security_manager"])
    page = _signed_in(cast["administrator"])
    response = page.post("/accounts/second-factor/reset/", {"username": "security_manager", "reason": ""})
    assert response.status_code == 400
    assert "Say why the second factor is reset." in response.content.decode()
    response = page.post("/accounts/second-factor/reset/", {"username": "operator", "reason": REASON})
    assert response.status_code == 400
    assert "The person has no second factor to reset." in response.content.decode()
    assert not PersonProposal.objects.exists()

    response = page.post("/accounts/second-factor/reset/", {"username": "security_manager", "reason": REASON})
    assert (response.status_code, response["Location"]) == (302, "/accounts/proposals/")
    proposal = PersonProposal.objects.get()
    assert (proposal.kind, proposal.username, proposal.reason) == ("2fa_reset", "security_manager", REASON)

    reviewer = _signed_in(second_admin())
    english = reviewer.get("/accounts/proposals/").content.decode()
    assert "Reset of the second factor: security_manager" in english
    reviewer.post("/i18n/setlang/", {"language": "nl"})
    dutch = reviewer.get("/accounts/proposals/").content.decode()
    assert "Terugzetten van de tweede factor: security_manager" in dutch
    response = reviewer.post(f"/accounts/proposals/{proposal.pk}/approve/", {"note": "checked"})
    assert response.status_code == 302
    assert not _has_factor(cast["security_manager"])


def test_the_operator_resets_with_the_command(cast: Cast, capsys):
    person = cast["security_manager"]
    enrol(person)
    before = last()
    call_command("reset_second_factor", "security_manager", "--reason", REASON)
    assert not _has_factor(person)
    [event] = AuditEvent.objects.filter(sequence__gt=before)
    assert (event.action, event.actor, event.channel) == (
        "person.second_factor_reset",
        "command:reset_second_factor",
        "command",
    )
    assert event.details == {
        "username": "security_manager",
        "reason": REASON,
        "authenticators_removed": 1,
        "recovery_codes_removed": 10,
    }
    assert "security_manager" in capsys.readouterr().out
    # Nothing left to reset, an unknown person, no reason: refused, and nothing written.
    before = last()
    for args in (["security_manager"], ["nobody"]):
        with pytest.raises(CommandError):
            call_command("reset_second_factor", *args, "--reason", REASON)
    enrol(person)
    with pytest.raises(CommandError, match="Say why"):
        call_command("reset_second_factor", "security_manager", "--reason", " ")
    assert _has_factor(person)
    assert (
        AuditEvent.objects.filter(sequence__gt=before).exclude(action="person.second_factor_enrolled").count()
        == 0
    )


def test_the_reset_service_refuses_anyone_but_the_command_line(cast: Cast):
    person = cast["operator"]
    enrol(person)
    with pytest.raises(ValidationError) as refused:
        second_factor_reset(person=person, reason=REASON, by=browser(cast["administrator"]))
    assert refused.value.error_dict["person"][0].code == "four_eyes"
    assert _has_factor(person)


def test_monitoring_sees_every_reset_of_a_second_factor(cast: Cast):
    """A reset weakens what protects an account until it is set up again: reviewers see each one,
    high when it did not pass a second administrator (the command line)."""
    admin, other = cast["administrator"], second_admin()
    enrol(cast["security_manager"])
    enrol(cast["privacy_officer"])
    sweep()
    # Their enrolments (required by their roles) are seen already, as their own acts: medium.
    enrolled = {a.subject_person: a.severity for a in Alert.objects.filter(rule="person_privileges_changed")}
    # (admin.two was made from a command with the administrator's role: high.)
    assert enrolled == {"security_manager": "medium", "privacy_officer": "medium", "admin.two": "high"}
    Alert.objects.filter(subject_person="security_manager").update(status="acknowledged")
    call_command("reset_second_factor", "security_manager", "--reason", REASON)
    proposal = proposals.person_second_factor_reset_propose(
        person=cast["privacy_officer"], reason=REASON, proposed_by=admin, by=browser(admin)
    )
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    sweep()
    alerts = {a.subject_person: a for a in Alert.objects.filter(rule="person_privileges_changed")}
    assert set(alerts) == {"security_manager", "privacy_officer", "admin.two"}
    assert (alerts["security_manager"].severity, alerts["security_manager"].details) == (
        "high",
        {"without_second_administrator": True},
    )
    assert (alerts["privacy_officer"].severity, alerts["privacy_officer"].details) == (
        "medium",
        {"without_second_administrator": False},
    )
    # The command-line reset made the same day's alert graver: open again, raised again in the trail
    # (so the SIEM sees it as high), and every reviewer told once more.
    assert alerts["security_manager"].status == "open"
    raised = AuditEvent.objects.filter(
        action="monitoring.alert_raised", object_id=str(alerts["security_manager"].pk)
    ).order_by("sequence")
    assert [(e.details["severity"], e.details.get("escalated_from")) for e in raised] == [
        ("medium", None),
        ("high", "medium"),
    ]
    notices = Notification.objects.filter(kind="monitoring_alert", params__person="security_manager")
    told = [notices.filter(params__severity=severity).count() for severity in ("medium", "high")]
    assert told[0] == told[1] > 0
