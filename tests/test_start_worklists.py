"""The start page's work lists (issue 17, item 1): each role sees what waits for it, each item links
to where it is handled, and a list costs the same number of queries whatever its length."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api_clients.services import api_client_create, personal_token_create
from audit.actor import Actor
from authz.services import access_request_create
from cases.models import Case, Dataset
from cases.services import case_create, dataset_register
from hashtotals.services import manifest_upload
from people.services import person_create
from privilege.marks_input import MarkInput
from privilege.services import marks_record
from retention.models import RetentionNotice
from retention.services import notice_decide
from retention.sweep import retention_sweep
from siem.services import AlertSighting, alert_record
from tests.authz_helpers import grant
from tests.personas import Cast

SETUP = Actor.command("tests")
DELIVERED = b"%s  a.txt\n%s  b.txt\n" % (b"a" * 64, b"b" * 64)
IMPORTED = b"%s  a.txt\n%s  b.txt\n" % (b"a" * 64, b"c" * 64)  # b.txt changed on import


def _case(cast: Cast, number: int) -> tuple[Case, Dataset, Dataset]:
    case = case_create(
        project_id=uuid.uuid4(),
        case_number=f"NFI-2026-1{number:03d}",
        title=f"Operation Test {number}",
        case_lead=cast["case_lead"],
        by=SETUP,
    )
    datasets = tuple(
        dataset_register(
            case=case,
            image_id=uuid.uuid4(),
            description=f"{kind} {number}",
            delivered_by="Police unit East",
            imported_at=timezone.now() - datetime.timedelta(days=400),
            environments=["production"],
            by=SETUP,
        )
        for kind in ("Laptop", "Phone")
    )
    return case, datasets[0], datasets[1]


def add_world(cast: Cast, numbers: range) -> None:
    """One item per number on every list of every role, through the services."""
    now = timezone.now()
    quiet_cases = []
    for number in numbers:
        case, laptop, _phone = _case(cast, number)
        quiet_cases.append(case)
        access_request_create(
            case=case,
            requester=cast["engineer"],
            rights=["read"],
            environments=["production"],
            valid_until=now + datetime.timedelta(days=30),
            reason="Needed",
            by=Actor(username="engineer", channel="test"),
        )
        marks_record(
            case=case,
            marks=[
                MarkInput(str(laptop.image_id), "0-1", "suspected", now, "reviewer", ""),
            ],
            by=SETUP,
        )
        for side, content in (("delivered", DELIVERED), ("imported", IMPORTED)):
            manifest_upload(
                dataset=laptop,
                side=side,
                source=io.BytesIO(content),
                original_name=f"{side}.txt",
                fmt="sha256sum",
                by=SETUP,
            )
        alert_record(
            sighting=AlertSighting(
                rule="usage_without_grant",
                severity="high",
                person=f"someone{number}",
                project_id=case.project_id,
                window_start=now - datetime.timedelta(hours=1),
                window_end=now,
                first_seen=now,
                last_seen=now,
                count=1,
                first_sequence=None,
                last_sequence=None,
                details={},
            )
        )
        person_create(
            username=f"ending{number}",
            roles=["investigator"],
            screened_until=timezone.localdate() + datetime.timedelta(days=10),
            by=SETUP,
        )
        person_create(username=f"unscreened{number}", roles=["investigator"], by=SETUP)
        api_client_create(
            name=f"ci-{number}",
            environment="test",
            scopes=["reports:write"],
            expires_at=now + datetime.timedelta(days=5),
            by=SETUP,
        )
        personal_token_create(
            person=cast["investigator"], by=SETUP, expires_at=now + datetime.timedelta(days=5)
        )
    retention_sweep()
    # One dataset of each case is asked to be deleted: a removal for the operator; the other stays open.
    for case in quiet_cases:
        notice = RetentionNotice.objects.filter(case=case, dataset__description__startswith="Phone").get()
        notice_decide(
            notice=notice,
            decision="delete",
            reason="Case finished",
            keep_until=None,
            decided_by=cast["case_lead"],
            by=SETUP,
        )
    for _ in numbers:
        grant(cast, grantee="investigator", days=7)  # on the cast's case, ending within 14 days


def browser(cast: Cast, persona: str) -> Client:
    client = Client()
    client.force_login(cast[persona])
    return client


def lists_of(response: Any) -> dict[str, list[str]]:
    return {work.key: [item.text for item in work.items] for work in response.context["work_lists"]}


# Which lists each role's start page holds, in order.
EXPECTED_LISTS = {
    "case_lead": [
        "access-requests",
        "grants-ending",
        "retention-notices",
        "quiet-cases",
        "privileged-marks",
        "hashtotal-differences",
    ],
    "deputy": [
        "access-requests",
        "grants-ending",
        "retention-notices",
        "quiet-cases",
        "privileged-marks",
        "hashtotal-differences",
    ],
    "investigator": ["my-grants", "my-requests"],
    "engineer": ["my-grants", "my-requests"],
    "operator": ["removals", "without-hashtotals"],
    "privacy_officer": ["alerts", "chain", "siem", "screenings-ending"],
    "security_manager": ["alerts", "chain", "siem", "screenings-ending"],
    "administrator": ["unscreened", "credentials-ending"],
}


@pytest.mark.parametrize("persona", list(EXPECTED_LISTS))
def test_each_role_sees_its_own_work_lists(cast: Cast, persona: str):
    response = browser(cast, persona).get("/")
    assert [work.key for work in response.context["work_lists"]] == EXPECTED_LISTS[persona]
    body = response.content.decode()
    for key in EXPECTED_LISTS[persona]:
        assert f'id="worklist-{key}"' in body


def test_the_case_lead_lists_hold_requests_ending_grants_notices_marks_and_differences(cast: Cast):
    add_world(cast, range(2))
    response = browser(cast, "case_lead").get("/")
    lists = lists_of(response)
    assert lists["access-requests"] == [
        "engineer asks for access to NFI-2026-1000",
        "engineer asks for access to NFI-2026-1001",
    ]
    assert lists["grants-ending"] == ["investigator on NFI-2026-0001"] * 2
    assert lists["retention-notices"] == ["NFI-2026-1000: Laptop 0", "NFI-2026-1001: Laptop 1"]
    assert lists["quiet-cases"] == ["NFI-2026-1000 Operation Test 0", "NFI-2026-1001 Operation Test 1"]
    assert lists["privileged-marks"] == ["NFI-2026-1000 Operation Test 0", "NFI-2026-1001 Operation Test 1"]
    assert lists["hashtotal-differences"] == ["NFI-2026-1000: Laptop 0", "NFI-2026-1001: Laptop 1"]
    body = response.content.decode()
    notice = RetentionNotice.objects.filter(status="open").order_by("pk").first()
    assert notice is not None and f'href="/retention/notices/{notice.pk}/"' in body
    # The deputy of the cast's case sees that case's grants, not the cases led by someone else alone.
    deputy_lists = lists_of(browser(cast, "deputy").get("/"))
    assert deputy_lists["grants-ending"] == ["investigator on NFI-2026-0001"] * 2
    assert deputy_lists["access-requests"] == []
    # Another case lead sees nothing of these cases.
    other = lists_of(browser(cast, "other_case_lead").get("/"))
    assert other["access-requests"] == other["grants-ending"] == other["retention-notices"] == []


def test_the_grantee_operator_reviewer_and_administrator_lists_are_filled(cast: Cast):
    add_world(cast, range(2))
    investigator = lists_of(browser(cast, "investigator").get("/"))
    assert investigator["my-grants"] == ["NFI-2026-0001 Operation Heron"] * 2
    engineer = lists_of(browser(cast, "engineer").get("/"))
    assert engineer["my-requests"] == ["NFI-2026-1001 Operation Test 1", "NFI-2026-1000 Operation Test 0"]
    operator = lists_of(browser(cast, "operator").get("/"))
    assert operator["removals"] == [
        "NFI-2026-1000: Phone 0 in production",
        "NFI-2026-1001: Phone 1 in production",
    ]
    # The cast's own dataset and each test case's phone (the laptops have both sides).
    assert "NFI-2026-0001: Laptop image" in operator["without-hashtotals"]
    assert not any(text.endswith("Laptop 0") for text in operator["without-hashtotals"])
    reviewer = lists_of(browser(cast, "privacy_officer").get("/"))
    assert reviewer["alerts"] == ["usage_without_grant: someone1", "usage_without_grant: someone0"]
    assert reviewer["screenings-ending"] == ["ending0", "ending1"]
    assert len(reviewer["siem"]) == 1
    administrator = lists_of(browser(cast, "administrator").get("/"))
    assert administrator["unscreened"] == ["unscreened0", "unscreened1"]
    assert [text for text in administrator["credentials-ending"] if text.startswith("API client")] == [
        "API client ci-0",
        "API client ci-1",
    ]
    assert len([t for t in administrator["credentials-ending"] if t.startswith("Personal token")]) == 2


def _queries(cast: Cast, persona: str) -> int:
    client = browser(cast, persona)
    client.get("/")  # the session and caches warmed once, as for any page after sign-in
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", list(EXPECTED_LISTS))
def test_a_start_page_costs_the_same_queries_for_two_and_for_six_items(cast: Cast, persona: str):
    add_world(cast, range(2))
    small = _queries(cast, persona)
    add_world(cast, range(2, 6))
    assert _queries(cast, persona) == small
