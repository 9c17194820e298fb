"""Moving a person's single sign-on binding to another provider subject (their account at the
provider was replaced) is a four-eyes proposal like a change of roles: proposed by one
administrator, with a reason, applied only when a second one approves, each step in the trail
(``people.services.proposals.person_sso_subject_propose``; page ``/accounts/sso-binding/``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from audit.models import AuditEvent
from people import services
from people.models import PersonProposal, Profile, ProposalKind, ProposalStatus
from people.services import proposals
from tests.personas import PASSWORD, Cast
from tests.test_four_eyes import COMMAND, actions_after, browser, last, second_admin


def _bound(cast: Cast, name: str, subject: str) -> None:
    services.person_bind_sso_subject(person=cast[name], subject=subject, by=COMMAND)


def _subject(name: str) -> str | None:
    return Profile.objects.get(user__username=name).sso_subject


def test_a_move_takes_effect_only_when_a_second_administrator_approves_it(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    _bound(cast, "investigator", "sub-old")
    before = last()
    proposal = proposals.person_sso_subject_propose(
        person=cast["investigator"],
        subject=" sub-new ",
        reason="Account replaced after the provider's migration; checked with HR.",
        proposed_by=admin,
        by=browser(admin),
    )
    assert (proposal.kind, proposal.changes, proposal.before) == (
        ProposalKind.SSO_SUBJECT,
        {"sso_subject": "sub-new"},
        {"sso_subject": "sub-old"},
    )
    assert _subject("investigator") == "sub-old"
    assert actions_after(before) == ["person.change_proposed"]
    with pytest.raises(ValidationError, match="not its proposer"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=admin, by=browser(admin))
    with pytest.raises(PermissionDenied):
        proposals.person_proposal_approve(
            proposal=proposal, approved_by=cast["case_lead"], by=browser(cast["case_lead"])
        )
    assert _subject("investigator") == "sub-old"

    before = last()
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert _subject("investigator") == "sub-new"
    assert actions_after(before) == ["person.change_approved", "person.sso_subject_moved"]
    moved = AuditEvent.objects.get(action="person.sso_subject_moved")
    assert moved.actor == "admin.two"
    assert moved.details == {
        "username": "investigator",
        "before": "sub-old",
        "after": "sub-new",
        "reason": "Account replaced after the provider's migration; checked with HR.",
        "proposal_id": proposal.pk,
        "proposed_by": "administrator",
        "approved_by": "admin.two",
    }


def test_a_person_never_bound_gets_the_subject_bound_on_approval(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_sso_subject_propose(
        person=cast["engineer"], subject="sub-e", reason="new account", proposed_by=admin, by=browser(admin)
    )
    assert proposal.before == {"sso_subject": None}
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert _subject("engineer") == "sub-e"


@pytest.mark.parametrize(
    ("subject", "reason", "field", "code"),
    [
        ("", "new account", "subject", "subject_length"),
        ("x" * 256, "new account", "subject", "subject_length"),
        ("sub-new", "  ", "reason", "reason_missing"),
        ("sub-old", "new account", "subject", "unchanged"),
        ("sub-lead", "new account", "subject", "subject_taken"),
    ],
)
def test_a_proposal_that_cannot_be_applied_is_refused_and_stores_nothing(
    cast: Cast, subject: str, reason: str, field: str, code: str
):
    _bound(cast, "investigator", "sub-old")
    _bound(cast, "case_lead", "sub-lead")
    admin = cast["administrator"]
    before = last()
    with pytest.raises(ValidationError) as refused:
        proposals.person_sso_subject_propose(
            person=cast["investigator"], subject=subject, reason=reason, proposed_by=admin, by=browser(admin)
        )
    assert [error.code for error in refused.value.error_dict[field]] == [code]
    assert actions_after(before) == []
    assert not PersonProposal.objects.exists()


def test_nobody_proposes_moving_his_own_binding_and_only_administrators_propose(cast: Cast):
    admin = cast["administrator"]
    with pytest.raises(ValidationError, match="your own binding"):
        proposals.person_sso_subject_propose(
            person=admin, subject="sub-mine", reason="mine", proposed_by=admin, by=browser(admin)
        )
    with pytest.raises(PermissionDenied):
        proposals.person_sso_subject_propose(
            person=cast["investigator"],
            subject="sub-x",
            reason="x",
            proposed_by=cast["case_lead"],
            by=browser(cast["case_lead"]),
        )
    assert not PersonProposal.objects.exists()


def test_a_binding_changed_since_the_proposal_is_not_overwritten(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_sso_subject_propose(
        person=cast["investigator"], subject="sub-new", reason="x", proposed_by=admin, by=browser(admin)
    )
    _bound(cast, "investigator", "sub-meanwhile")  # a first single sign-on in the meantime
    with pytest.raises(ValidationError, match="changed since"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert _subject("investigator") == "sub-meanwhile"
    assert PersonProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PENDING


def test_a_subject_taken_by_another_person_since_the_proposal_is_not_bound_twice(cast: Cast):
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_sso_subject_propose(
        person=cast["investigator"], subject="sub-new", reason="x", proposed_by=admin, by=browser(admin)
    )
    _bound(cast, "engineer", "sub-new")
    with pytest.raises(ValidationError, match="bound to another person"):
        proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=browser(other))
    assert _subject("investigator") is None


# --- the page -------------------------------------------------------------------------------------


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_page_is_for_administrators_only(cast: Cast):
    for persona in ("case_lead", "investigator", "operator", "privacy_officer", "security_manager"):
        assert _signed_in(cast[persona]).get("/accounts/sso-binding/").status_code == 403
    assert Client().get("/accounts/sso-binding/").status_code == 302  # to sign in


def test_the_page_proposes_the_move_and_the_proposals_page_shows_it_in_both_languages(cast: Cast):
    _bound(cast, "investigator", "sub-old")
    page = _signed_in(cast["administrator"])
    assert (
        "Move a single sign-on binding"
        in page.get("/accounts/sso-binding/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    response = page.post(
        "/accounts/sso-binding/",
        {"username": "investigator", "subject": "sub-new", "reason": "account replaced"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/proposals/"
    proposal = PersonProposal.objects.get()
    assert (proposal.kind, proposal.proposed_by, proposal.changes) == (
        ProposalKind.SSO_SUBJECT,
        cast["administrator"],
        {"sso_subject": "sub-new"},
    )
    reviewer = Client()
    assert reviewer.login(username=second_admin().get_username(), password=PASSWORD)
    english = reviewer.get("/accounts/proposals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Move of the single sign-on binding: investigator" in english
    assert "sub-old → sub-new" in english
    reviewer.post("/i18n/setlang/", {"language": "nl"})
    dutch = reviewer.get("/accounts/proposals/").content.decode()
    assert "Verplaatsing van de single sign-on-koppeling: investigator" in dutch
    assert "Stel voor een single sign-on-koppeling te verplaatsen" in dutch
    form = reviewer.get("/accounts/sso-binding/").content.decode()
    assert "Single sign-on-koppeling verplaatsen" in form


@pytest.mark.parametrize(
    ("body", "field_error"),
    [
        ({"username": "nobody", "subject": "sub-x", "reason": "x"}, "Nobody has the username nobody."),
        ({"username": "investigator", "subject": "", "reason": "x"}, "1 to 255 characters"),
        ({"username": "investigator", "subject": "sub-x", "reason": ""}, "Say why the binding moves."),
        ({"username": "investigator", "subject": "sub-lead", "reason": "x"}, "bound to another person"),
        ({"username": "administrator", "subject": "sub-x", "reason": "x"}, "your own binding"),
    ],
)
def test_bad_input_on_the_page_is_a_400_naming_what_is_wrong_and_stores_nothing(
    cast: Cast, body: dict[str, str], field_error: str
):
    _bound(cast, "case_lead", "sub-lead")
    before = last()
    response = _signed_in(cast["administrator"]).post(
        "/accounts/sso-binding/", body, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert "Nothing was saved." in response.content.decode()
    assert not PersonProposal.objects.exists()
    assert actions_after(before) == []
