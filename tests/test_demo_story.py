"""The demo's story (issue 17, item 2): seed_demo tells weeks of history through the services, dated
in the past, and the chain holds; every demo person's start page shows their part of it. And the
clock that makes it possible cannot be turned back outside the demo and the tests."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from audit.verify import verify_chain
from authz.models import AccessRequest, ChangeKind, Grant, GrantVersion, RequestStatus
from cases.models import Case, CaseStatus
from hansken_governance.clock import travel_to
from people.demo_story import STORY, check_order
from retention.models import NoticeStatus, RemovalStatus, RemovalTask, RetentionNotice
from siem.models import Alert


def _seed(tmp_path: Path, settings: Any) -> str:
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _lists(username: str) -> dict[str, list[str]]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/")
    assert response.status_code == 200
    return {work.key: [item.text for item in work.items] for work in response.context["work_lists"]}


def test_the_story_is_told_in_the_past_through_the_services_and_the_chain_holds(db, tmp_path, settings):
    started = timezone.now()
    _seed(tmp_path, settings)

    result = verify_chain()
    assert result.ok, result.message
    # Weeks of history: the first event five weeks back, every one before the seeding began.
    first = AuditEvent.objects.order_by("sequence").first()
    assert first is not None and first.occurred_at < started - datetime.timedelta(days=34)
    sequences_in_time_order = list(
        AuditEvent.objects.exclude(action="model.changed")
        .order_by("sequence")
        .values_list("recorded_at", flat=True)
    )
    assert sequences_in_time_order == sorted(sequences_in_time_order)

    kinds = set(GrantVersion.objects.values_list("kind", flat=True))
    assert {ChangeKind.CREATED, ChangeKind.EXTENDED, ChangeKind.NARROWED, ChangeKind.REVOKED} <= kinds
    assert Grant.objects.filter(valid_until__lt=started, expiry_recorded_at__isnull=False).exists()
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {
        RequestStatus.APPROVED,
        RequestStatus.REJECTED,
        RequestStatus.OPEN,
    }
    assert AuditEvent.objects.filter(action__startswith="hansken.").count() == 7
    assert AuditEvent.objects.filter(action="authz.denied").count() == 25
    assert {alert.rule for alert in Alert.objects.all()} >= {"denied_burst"}
    statuses = set(RetentionNotice.objects.values_list("status", flat=True))
    assert {
        NoticeStatus.OPEN,
        NoticeStatus.KEPT,
        NoticeStatus.REMOVED,
        NoticeStatus.DELETE_REQUESTED,
    } <= statuses
    assert RemovalTask.objects.filter(status=RemovalStatus.CONFIRMED).exists()
    assert RemovalTask.objects.filter(status=RemovalStatus.OPEN).exists()
    assert Case.objects.filter(status=CaseStatus.CLOSED).count() == 1


def test_every_demo_person_finds_their_part_of_the_story_on_the_start_page(db, tmp_path, settings):
    _seed(tmp_path, settings)

    lead = _lists("lead.devries")
    assert lead["access-requests"] == ["engineer.visser asks for access to NFI-DEMO-0001"]
    assert lead["grants-ending"] == ["investigator.bakker on NFI-DEMO-0001"]
    assert lead["retention-notices"] == ["NFI-DEMO-0002: Mail server export"]
    assert lead["privileged-marks"] == ["NFI-DEMO-0001 Operation Heron"]
    assert lead["hashtotal-differences"] == ["NFI-DEMO-0001: Laptop image, suspect A"]
    deputy = _lists("deputy.jansen")
    assert deputy["access-requests"] == lead["access-requests"]  # deputy on Heron
    assert deputy["privileged-marks"] == ["NFI-DEMO-0001 Operation Heron"]

    investigator = _lists("investigator.bakker")
    assert investigator["my-grants"] == [
        "NFI-DEMO-0001 Operation Heron",
        "NFI-DEMO-0003 Operation Plover",
        "NFI-DEMO-0002 Operation Kestrel",
    ]
    assert investigator["my-requests"] == ["NFI-DEMO-0003 Operation Plover"]
    engineer = _lists("engineer.visser")
    assert engineer["my-requests"] == ["NFI-DEMO-0001 Operation Heron", "NFI-DEMO-0002 Operation Kestrel"]

    operator = _lists("operator.smit")
    assert sorted(operator["removals"]) == [
        "NFI-DEMO-0004: Phone extraction, suspect C in experiment",
        "NFI-DEMO-0004: Phone extraction, suspect C in production",
    ]
    assert "NFI-DEMO-0001: Phone extraction, suspect A" in operator["without-hashtotals"]

    for reviewer in ("privacy.meijer", "security.mulder"):
        lists = _lists(reviewer)
        assert any(text.startswith("Many denied decisions: engineer.visser") for text in lists["alerts"])
        assert lists["chain"] and lists["chain"][0].startswith("Last checkpoint")
        assert lists["screenings-ending"] == ["Daan Visser"]

    administrator = _lists("admin.bos")
    assert administrator["unscreened"] == ["Joost Dekker"]
    assert "API client ci-release" in administrator["credentials-ending"]


def test_the_story_steps_are_in_time_order():
    check_order(STORY)
    with pytest.raises(ValueError, match="time order"):
        check_order([STORY[1], STORY[0]])


def test_the_clock_goes_back_only_where_allowed(settings):
    past = timezone.now() - datetime.timedelta(days=3)
    with travel_to(past):
        assert timezone.now() == past
        assert timezone.localdate() == timezone.localtime(past).date()
        with pytest.raises(RuntimeError, match="Already travelling"), travel_to(past):
            pass
    assert timezone.now() > past + datetime.timedelta(days=2)  # the real clock is back

    with (
        pytest.raises(ValueError, match="only goes back"),
        travel_to(timezone.now() + datetime.timedelta(minutes=1)),
    ):
        pass
    with pytest.raises(RuntimeError), travel_to(past):
        raise RuntimeError("a failing step")
    assert timezone.now() > past + datetime.timedelta(days=2)  # restored after an error too

    settings.HG_TIME_TRAVEL_ALLOWED = False
    with pytest.raises(ImproperlyConfigured), travel_to(past):
        pass


def test_the_shared_settings_never_allow_time_travel():
    from hansken_governance.settings import base

    assert base.HG_TIME_TRAVEL_ALLOWED is False
