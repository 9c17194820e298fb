"""Access at a moment says whether each person could act then at all.

A grant or a role in force is not enough: ``check`` denies everyone on a case that is not open, a
deactivated person and a person without a valid screening, whatever the grants say. The review's
answer to "who could act on the case at that moment" keeps such rows (the grant existed) but marks
them ``could_act: false`` with the reason ``check`` gave (``blocked_by``), read from the history of
the case's status, the person's active status and their screening in the trail. At the present
moment each row must agree with ``check`` itself.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.utils import timezone

from audit.actor import Actor
from authz.decisions import GATE_REASONS
from cases.services import case_set_status
from people.services import person_deactivate, person_reactivate, person_set_screening
from tests.audit_helpers import access_at_rows
from tests.authz_helpers import check, grant
from tests.personas import Cast
from tests.test_audit_pages import csv_rows

COMMAND = Actor.command("tests")
SECOND = datetime.timedelta(seconds=1)


def standing(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[bool, str | None]]:
    return {user: (row["could_act"], row["blocked_by"]) for user, row in rows.items()}


def assert_agrees_with_check(cast: Cast, rows: dict[str, dict[str, Any]]) -> None:
    """At the present moment: a row that could not act is one ``check`` denies with that very
    reason; one that could act is one no gate of ``check`` stops (its grants decide the rest)."""
    for user, row in rows.items():
        answer = check(cast, user=user, action="read")
        if row["could_act"]:
            assert answer["reason"] not in GATE_REASONS, (user, answer)
        else:
            assert (answer["allowed"], answer["reason"]) == (False, row["blocked_by"]), (user, answer)


def test_while_the_case_was_closed_nobody_could_act_and_after_reopening_they_could(cast: Cast):
    grant(cast, grantee="investigator", rights=["read"], environments=["production"])
    while_open = timezone.now()
    case_set_status(case=cast.case, status="closed", reason="Investigation finished", by=COMMAND)
    while_closed = timezone.now()
    closed_now = access_at_rows(cast, while_closed)
    assert_agrees_with_check(cast, closed_now)
    case_set_status(case=cast.case, status="open", reason="New evidence", by=COMMAND)
    reopened = timezone.now() + SECOND

    everyone = ("case_lead", "deputy", "investigator")
    assert standing(access_at_rows(cast, while_open)) == dict.fromkeys(everyone, (True, None))
    assert standing(closed_now) == dict.fromkeys(everyone, (False, "case_closed"))
    # Asked again after reopening, the closed spell is still told as it was.
    assert standing(access_at_rows(cast, while_closed)) == dict.fromkeys(everyone, (False, "case_closed"))
    now = access_at_rows(cast, reopened)
    assert standing(now) == dict.fromkeys(everyone, (True, None))
    assert_agrees_with_check(cast, now)


def test_a_lapsed_screening_stops_the_person_then_and_only_then(cast: Cast):
    grant(cast, grantee="investigator", rights=["read"], environments=["production"])
    before_lapse = timezone.now()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    person_set_screening(person=cast["investigator"], valid_until=yesterday, reference="lapsed", by=COMMAND)
    lapsed = timezone.now()
    lapsed_now = access_at_rows(cast, lapsed)
    assert_agrees_with_check(cast, lapsed_now)
    renewed_until = timezone.localdate() + datetime.timedelta(days=2)
    person_set_screening(
        person=cast["investigator"], valid_until=renewed_until, reference="renewed", by=COMMAND
    )
    renewed = timezone.now() + SECOND

    assert standing(access_at_rows(cast, before_lapse))["investigator"] == (True, None)
    assert standing(lapsed_now)["investigator"] == (False, "screening_expired")
    assert standing(access_at_rows(cast, lapsed))["investigator"] == (False, "screening_expired")
    assert standing(lapsed_now)["case_lead"] == (True, None)  # the others are not touched
    assert standing(access_at_rows(cast, renewed))["investigator"] == (True, None)
    # No change is needed for a screening to lapse: the calendar does it. Three days on, the grant
    # (thirty days) is still in force, the screening renewed for two days is not.
    three_days_on = standing(access_at_rows(cast, renewed + datetime.timedelta(days=3)))
    assert three_days_on["investigator"] == (False, "screening_expired")
    assert three_days_on["case_lead"] == (True, None)


def test_a_deactivated_case_lead_could_not_act_until_reactivated(cast: Cast):
    person_deactivate(person=cast["case_lead"], reason="Suspended", by=COMMAND)
    deactivated = timezone.now()
    deactivated_now = access_at_rows(cast, deactivated)
    assert_agrees_with_check(cast, deactivated_now)
    person_reactivate(person=cast["case_lead"], reason="Back at work", by=COMMAND)
    reactivated = timezone.now() + SECOND

    # The lead's role is not a grant: deactivation does not end it, the gate stops it.
    assert standing(deactivated_now)["case_lead"] == (False, "user_inactive")
    assert standing(access_at_rows(cast, deactivated))["case_lead"] == (False, "user_inactive")
    now = access_at_rows(cast, reactivated)
    assert standing(now)["case_lead"] == (True, None)
    assert_agrees_with_check(cast, now)


def test_the_pages_and_their_csv_say_who_could_not_act(cast: Cast):
    grant(cast, grantee="investigator", rights=["read"], environments=["production"])
    case_set_status(case=cast.case, status="closed", reason="Investigation finished", by=COMMAND)
    later = timezone.localtime(timezone.now() + datetime.timedelta(minutes=2))
    moment = {"date": later.date().isoformat(), "time": later.strftime("%H:%M")}
    client = Client()
    client.force_login(cast["privacy_officer"])

    page = client.get("/audit/access-at/", {"case": "NFI-2026-0001", **moment}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert [(row.user, row.could_act, row.blocked_by) for row in page.context["rows"]] == [
        ("case_lead", False, "case_closed"),
        ("deputy", False, "case_closed"),
        ("investigator", False, "case_closed"),
    ]
    body = page.content.decode()
    assert "Could act then" in body and "the case was not open" in body

    dutch = client.get("/audit/access-at/", {"case": "NFI-2026-0001", **moment}, HTTP_ACCEPT_LANGUAGE="nl")
    assert "de zaak was niet open" in dutch.content.decode()

    export = client.get("/audit/access-at/export.csv", {"case": "NFI-2026-0001", **moment})
    rows = csv_rows(export)
    assert {(row["user"], row["could_act"], row["blocked_by"]) for row in rows} == {
        ("case_lead", "false", "case_closed"),
        ("deputy", "false", "case_closed"),
        ("investigator", "false", "case_closed"),
    }

    person = client.get("/audit/person-at/", {"person": "investigator", **moment}, HTTP_ACCEPT_LANGUAGE="en")
    assert [(case.case_number, row.blocked_by) for case, row in person.context["rows"]] == [
        ("NFI-2026-0001", "case_closed")
    ]
