"""A denied decision and an export check say with which roles the person asked (NEN 7513: who, with
which roles): ``actor_role`` as the trail writes it for people in the browser, from the decision
facts (no query on the decision path), and the very next denial after a change of roles carries
the new ones."""

from __future__ import annotations

from audit.actor import Actor
from audit.models import AuditEvent
from people.roles import Role
from people.services import person_set_roles
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast
from tests.privilege_helpers import export_check, mark, post_marks, uid


def _events_after(sequence: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"))


def _last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_a_denial_carries_the_persons_roles_single_and_in_a_batch(cast: Cast):
    before = _last_sequence()
    assert check(cast, "investigator")["reason"] == "no_grant"
    assert check(cast, "ghost")["reason"] == "unknown_user"
    items = [
        {"correlation_id": "a", "user": "engineer", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        {"correlation_id": "b", "user": "ghost", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        {
            "correlation_id": "c",
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": uid("0-1"),
        },
    ]
    for _ in range(2):  # the second time from remembered answers (the batch's short way)
        response = cast.api("hansken_production").post(
            "/api/v1/authz/check-batch", {"checks": items}, format="json"
        )
        assert [r["allowed"] for r in response.json()["results"]] == [False, False, False]
    events = _events_after(before)
    assert [(e.action, e.actor, e.actor_role) for e in events] == [
        ("authz.denied", "investigator", "investigator"),
        ("authz.denied", "ghost", ""),  # nobody of that name: no roles to name
        *[
            ("authz.denied", "engineer", "engineer"),
            ("authz.denied", "ghost", ""),
            ("authz.denied", "investigator", "investigator"),
        ]
        * 2,
    ]


def test_the_next_denial_after_a_change_of_roles_carries_the_new_roles(cast: Cast):
    assert check(cast, "investigator")["reason"] == "no_grant"  # the facts are loaded (and cached)
    person_set_roles(
        person=cast["investigator"],
        roles=[Role.INVESTIGATOR, Role.ENGINEER],
        by=Actor(username="command:set_roles", channel="command"),
    )
    before = _last_sequence()
    assert check(cast, "investigator")["reason"] == "no_grant"
    (event,) = _events_after(before)
    assert event.actor_role == "engineer,investigator"


def test_an_export_check_carries_the_persons_roles_allowed_or_refused(cast: Cast):
    grant(cast, rights=["export"])
    post_marks(cast, mark("0-3"))
    before = _last_sequence()
    assert export_check(cast, [uid("0-4")])["allowed"] is True
    assert export_check(cast, [uid("0-3")])["allowed"] is False
    assert export_check(cast, [uid("0-4")], user="case_lead")["allowed"] is True
    events = _events_after(before)
    assert [(e.action, e.actor, e.actor_role, e.image_id) for e in events] == [
        ("export_check.allowed", "investigator", "investigator", IMAGE_ID),
        ("export_check.refused", "investigator", "investigator", IMAGE_ID),
        ("export_check.allowed", "case_lead", "case_lead", IMAGE_ID),
    ]


def test_a_group_renamed_reaches_the_next_denial_too(cast: Cast):
    """A group renamed sends no m2m signal: it drops every worker's facts all the same."""
    from django.contrib.auth.models import Group

    assert check(cast, "investigator")["reason"] == "no_grant"  # the facts are loaded (and cached)
    before = _last_sequence()
    investigators = Group.objects.get(name=Role.INVESTIGATOR)
    investigators.name = "retired_investigator"  # no longer a role: left out of actor_role
    investigators.save()
    assert check(cast, "investigator")["reason"] == "no_grant"
    (event,) = _events_after(before)
    assert event.actor_role == ""
