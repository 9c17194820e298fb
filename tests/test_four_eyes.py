"""No administrator can give himself case access, directly or through another account (issue 11,
item 6): the administrator role never comes with a case role; a new person with a case or
administrator role, and every change of roles or screening, waits for a second administrator; the
proposal and its answer are in the trail; whoever registers a case cannot lead it; administrators
get no grant or deputyship; monitoring alerts on every change of roles or screening."""

from __future__ import annotations

import datetime
import uuid
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.services import personal_token_create
from audit.actor import Actor
from audit.models import AuditEvent
from authz.services import grant_create
from cases.services import case_add_deputy
from people import services
from people.models import PersonProposal, ProposalStatus
from people.roles import roles_of
from people.services import proposals
from siem.models import Alert
from siem.rules import sweep
from tests.personas import PASSWORD, Cast

COMMAND = Actor.command("tests")
SOON = datetime.date(2030, 1, 1)


def browser(person: User) -> Actor:
    return Actor(username=person.get_username(), user_id=person.pk, channel="browser")


def second_admin() -> User:
    return services.person_create(
        username="admin.two", roles=["administrator"], password=PASSWORD, by=COMMAND
    )


def propose_case_lead(admin: User, username: str) -> PersonProposal:
    return proposals.person_create_propose(
        username=username,
        roles=["case_lead"],
        screened_until=SOON,
        password="Amber-Kite-Lantern-47",
        proposed_by=admin,
        by=browser(admin),
        reason="new lead",
    )


def actions_after(sequence: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(sequence__gt=sequence)
        .exclude(action__startswith="session.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def last() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


# --- the administrator role and case roles never meet -------------------------------------------


@pytest.mark.parametrize("case_role", ["case_lead", "investigator", "engineer"])
def test_it_refuses_the_administrator_role_with_a_case_role_on_every_path(cast: Cast, case_role: str):
    with pytest.raises(ValidationError, match="cannot be combined"):
        services.person_create(username="both", roles=["administrator", case_role], by=COMMAND)
    with pytest.raises(ValidationError, match="cannot be combined"):
        services.person_set_roles(person=cast["operator"], roles=["administrator", case_role], by=COMMAND)
    with pytest.raises(ValidationError, match="cannot be combined"):
        proposals.person_roles_propose(
            person=cast["operator"],
            roles=["administrator", case_role],
            proposed_by=cast["administrator"],
            by=browser(cast["administrator"]),
        )
    with pytest.raises(CommandError, match="cannot be combined"):
        call_command(
            "create_person", "both", "--role", "administrator", "--role", case_role, stdout=StringIO()
        )
    assert not User.objects.filter(username="both").exists()
    assert roles_of(User.objects.get(username="operator")) == {"operator"}


def test_it_makes_nobody_an_administrator_who_still_has_case_access(cast: Cast):
    """The deputy of the cast's case: becoming administrator would keep the deputyship."""
    with pytest.raises(ValidationError, match="cannot be an administrator"):
        services.person_set_roles(person=cast["deputy"], roles=["administrator"], by=COMMAND)
    with pytest.raises(ValidationError, match="cannot be an administrator"):
        services.person_set_roles(person=cast["case_lead"], roles=["administrator"], by=COMMAND)
    assert roles_of(User.objects.get(username="deputy")) == {"case_lead"}


def test_it_gives_an_administrator_no_grant_and_no_deputyship(cast: Cast):
    admin = cast["administrator"]
    now = timezone.now()
    with pytest.raises(ValidationError, match="administrator"):
        grant_create(
            case=cast.case,
            grantee=admin,
            rights=["read"],
            valid_until=now + datetime.timedelta(days=5),
            reason="help",
            granted_by=cast["case_lead"],
            by=Actor(username="case_lead"),
        )
    with pytest.raises(ValidationError, match="administrator"):
        case_add_deputy(
            case=cast.case, deputy=admin, by=Actor(username="case_lead", user_id=cast["case_lead"].pk)
        )


def test_it_refuses_a_case_registered_with_its_registrar_as_lead(cast: Cast):
    registrar = services.person_create(
        username="op.lead", roles=["operator", "case_lead"], screened_until=SOON, by=COMMAND
    )
    _, token = personal_token_create(person=registrar, by=COMMAND)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"project_id": str(uuid.uuid4()), "case_number": "NFI-2026-0777", "title": "Own case"}
    before = last()
    response = api.post("/api/v1/cases", {**body, "case_lead": "op.lead"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "case_lead"
    assert actions_after(before) == []
    assert api.post("/api/v1/cases", {**body, "case_lead": "case_lead"}, format="json").status_code == 201


# --- four eyes -----------------------------------------------------------------------------------


def test_it_refuses_direct_changes_of_roles_or_screening_from_a_person(cast: Cast):
    admin = cast["administrator"]
    before = last()
    with pytest.raises(ValidationError, match="second administrator"):
        services.person_create(username="puppet", roles=["case_lead"], screened_until=SOON, by=browser(admin))
    with pytest.raises(ValidationError, match="second administrator"):
        services.person_set_roles(person=cast["operator"], roles=["operator", "case_lead"], by=browser(admin))
    with pytest.raises(ValidationError, match="second administrator"):
        services.person_set_screening(
            person=cast["engineer"], valid_until=SOON, reference="x", by=browser(admin)
        )
    assert actions_after(before) == []
    assert not User.objects.filter(username="puppet").exists()
    # Without a case or administrator role a new person needs no second pair of eyes.
    services.person_create(username="reviewer", roles=["privacy_officer"], by=browser(admin))


def test_the_puppet_account_scenario_needs_a_second_administrator(cast: Cast):
    """The issue's scenario: an administrator creates a case lead account to register a case with
    it and name himself deputy. The account is only a proposal until another administrator approves;
    he cannot approve it himself, and even then he cannot be named deputy."""
    admin = cast["administrator"]
    proposal = propose_case_lead(admin, "puppet")
    assert not User.objects.filter(username="puppet").exists()
    with pytest.raises(ValidationError, match="not its proposer"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=admin, by=browser(admin))
    with pytest.raises(PermissionDenied):
        proposals.person_proposal_approve(
            proposal=proposal, approved_by=cast["case_lead"], by=browser(cast["case_lead"])
        )
    assert PersonProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PENDING
    assert not User.objects.filter(username="puppet").exists()

    other = second_admin()
    before = last()
    puppet = proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert actions_after(before) == ["person.change_approved", "person.created"]
    assert puppet.check_password("Amber-Kite-Lantern-47")
    with pytest.raises(ValidationError, match="administrator"):
        case_add_deputy(case=cast.case, deputy=admin, by=browser(puppet))


def test_nobody_answers_a_proposal_about_himself_and_each_is_answered_once(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_screening_propose(
        person=other, valid_until=SOON, reference="S-2", proposed_by=admin, by=browser(admin)
    )
    with pytest.raises(ValidationError, match="about yourself"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    third = services.person_create(username="admin.three", roles=["administrator"], by=COMMAND)
    with pytest.raises(ValidationError, match="Say why"):
        proposals.person_proposal_reject(proposal=proposal, rejected_by=third, by=browser(third), note=" ")
    before = last()
    proposals.person_proposal_reject(proposal=proposal, rejected_by=third, by=browser(third), note="no proof")
    assert actions_after(before) == ["person.change_rejected"]
    assert other.profile.screening_valid_until != SOON
    with pytest.raises(ValidationError, match="already been answered"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=third, by=browser(third))


def test_it_applies_a_proposal_only_to_the_person_as_proposed(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_roles_propose(
        person=cast["engineer"], roles=["engineer", "investigator"], proposed_by=admin, by=browser(admin)
    )
    with pytest.raises(ValidationError, match="already waiting"):
        proposals.person_roles_propose(
            person=cast["engineer"], roles=["investigator"], proposed_by=admin, by=browser(admin)
        )
    services.person_set_roles(person=cast["engineer"], roles=["operator"], by=COMMAND)  # meanwhile
    with pytest.raises(ValidationError, match="changed since"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert roles_of(User.objects.get(username="engineer")) == {"operator"}


def test_the_proposals_page_is_for_administrators_and_speaks_dutch(cast: Cast):
    admin = cast["administrator"]
    proposals.person_roles_propose(
        person=cast["engineer"], roles=["engineer", "investigator"], proposed_by=admin, by=browser(admin)
    )
    for persona in ("case_lead", "operator", "privacy_officer", "security_manager"):
        client = Client()
        client.force_login(cast[persona])
        assert client.get("/accounts/proposals/").status_code == 403
    other = Client()
    other.force_login(second_admin())
    english = other.get("/accounts/proposals/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Approve and apply" in english.content.decode()
    other.post("/i18n/setlang/", {"language": "nl"})
    dutch = other.get("/accounts/proposals/").content.decode()
    assert "Goedkeuren en doorvoeren" in dutch and "Wachten op goedkeuring" in dutch
    # A refusal is said in plain words: the proposer's own proposal.
    mine = Client()
    mine.force_login(admin)
    proposal = PersonProposal.objects.get()
    response = mine.post(f"/accounts/proposals/{proposal.pk}/approve/", {}, follow=True)
    assert "a second administrator must answer it" in response.content.decode()
    assert PersonProposal.objects.get().status == ProposalStatus.PENDING


# --- the command line: the operator's installation path ----------------------------------------


def test_the_command_creates_case_roles_at_once_audited_as_a_command(db: None):
    call_command(
        "create_person",
        "lead.one",
        "--role",
        "case_lead",
        "--screened-until",
        "2030-01-01",
        stdout=StringIO(),
    )
    event = AuditEvent.objects.get(action="person.created")
    assert (event.actor, event.channel) == ("command:create_person", "command")
    assert event.on_behalf_of  # the operating-system user who ran it
    assert "proposal_id" not in event.details


# --- monitoring ----------------------------------------------------------------------------------


def test_a_new_person_given_roles_raises_an_alert(db: None):
    """Created from the command line, a person given roles passed no second administrator: high, as a
    change of roles made there is. Through an approved proposal: medium."""
    for username, role in (
        ("lead.one", "case_lead"),
        ("admin.one", "administrator"),
        ("po.one", "privacy_officer"),
    ):
        call_command(
            "create_person", username, "--role", role, "--screened-until", "2030-01-01", stdout=StringIO()
        )
    sweep()
    alerts = {a.subject_person: a for a in Alert.objects.filter(rule="person_privileges_changed")}
    assert {name: (a.severity, a.details["without_second_administrator"]) for name, a in alerts.items()} == {
        "lead.one": ("high", True),
        "admin.one": ("high", True),
        "po.one": ("high", True),
    }
    admin, other = User.objects.get(username="admin.one"), second_admin()
    Alert.objects.all().delete()
    proposal = propose_case_lead(admin, "lead.two")
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    sweep()
    created = Alert.objects.get(rule="person_privileges_changed", subject_person="lead.two")
    assert (created.severity, created.details["without_second_administrator"]) == ("medium", False)


def test_every_change_of_roles_or_screening_raises_an_alert(cast: Cast):
    sweep()  # the rules start after the cast's own creation (tests/personas.py)
    assert not Alert.objects.filter(rule="person_privileges_changed").exists()
    services.person_set_screening(person=cast["investigator"], valid_until=SOON, reference="S-9", by=COMMAND)
    services.person_set_roles(person=cast["investigator"], roles=["investigator", "engineer"], by=COMMAND)
    admin, other = cast["administrator"], second_admin()
    approved = proposals.person_roles_propose(
        person=cast["operator"], roles=["operator", "privacy_officer"], proposed_by=admin, by=browser(admin)
    )
    proposals.person_proposal_approve(proposal=approved, approved_by=other, by=browser(other))
    sweep()
    alerts = {a.subject_person: a for a in Alert.objects.filter(rule="person_privileges_changed")}
    assert set(alerts) == {"investigator", "operator", "admin.two"}  # admin.two: made by a command
    assert (alerts["investigator"].count, alerts["investigator"].severity) == (2, "high")
    assert alerts["investigator"].details["without_second_administrator"] is True
    assert (alerts["operator"].count, alerts["operator"].severity) == (1, "medium")
    assert alerts["operator"].details["without_second_administrator"] is False
