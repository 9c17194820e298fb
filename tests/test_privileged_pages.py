"""The case's privileged-traces page: who reaches it (one table), and what it shows: counts by
status, the marks under filters, a trace's history and the refused export checks, in English and
Dutch. Read only: nothing is stored by looking."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from people.models import Profile
from privilege.models import PrivilegedMark
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast
from tests.privilege_helpers import export_check, mark, post_marks, uid

PAGE = f"/cases/{CASE_PROJECT_ID}/privileged/"
# The case lead and deputies, holders of review_privileged (the "reviewer" below: the investigator
# with that grant) and the privacy officer; to everyone else the case does not exist here.
EXPECTED = {
    None: 302,
    "case_lead": 200,
    "deputy": 200,
    "privacy_officer": 200,
    "reviewer": 200,
    "investigator": 404,
    "other_case_lead": 404,
    "engineer": 404,
    "operator": 404,
    "security_manager": 404,
    "administrator": 404,
}


def _client(cast: Cast, persona: str | None) -> Client:
    """The reviewer is the engineer with a review_privileged grant (given by the test beforehand)."""
    client = Client()
    if persona == "reviewer":
        client.force_login(cast["engineer"])
    elif persona is not None:
        client.force_login(cast[persona])
    return client


@pytest.mark.parametrize(("persona", "expected"), EXPECTED.items())
def test_who_reaches_the_page(cast: Cast, persona, expected):
    post_marks(cast, mark("0-3"))
    if persona == "reviewer":
        grant(cast, grantee="engineer", rights=["review_privileged"])
    before = AuditEvent.objects.exclude(action__startswith="session.").count()
    response = _client(cast, persona).get(PAGE)
    assert response.status_code == expected
    if expected == 200:
        assert uid("0-3") in response.content.decode()
    assert AuditEvent.objects.exclude(action__startswith="session.").count() == before
    # The case page links to it exactly for those who may open it.
    case_page = _client(cast, persona).get(f"/cases/{CASE_PROJECT_ID}/")
    if case_page.status_code == 200:
        assert (PAGE in case_page.content.decode()) == (expected == 200)


@pytest.mark.parametrize("persona", ["case_lead", "deputy", "reviewer"])
def test_without_a_valid_screening_the_marks_are_out_of_reach(cast: Cast, persona: str):
    # The marks and their reasons are about the case's data: a lapsed screening closes them, as it
    # closes every decision (screening_expired), in the browser and through the API alike.
    post_marks(cast, mark("0-3", reason="Mail from counsel"))
    grant(cast, grantee="engineer", rights=["review_privileged"])
    person = cast["engineer"] if persona == "reviewer" else cast[persona]
    api = APIClient()
    api.force_authenticate(person)
    marks_api = f"/api/v1/cases/{CASE_PROJECT_ID}/privileged"
    assert (_client(cast, persona).get(PAGE).status_code, api.get(marks_api).status_code) == (200, 200)
    Profile.objects.filter(user=person).update(
        screening_valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert (_client(cast, persona).get(PAGE).status_code, api.get(marks_api).status_code) == (404, 404)
    # The privacy officer's review does not rest on case access.
    Profile.objects.filter(user=cast["privacy_officer"]).update(screening_valid_until=None)
    assert _client(cast, "privacy_officer").get(PAGE).status_code == 200


def test_it_shows_counts_filters_history_and_refused_exports(cast: Cast):
    post_marks(
        cast,
        mark("0-3", "suspected", at="2026-11-01T10:00:00Z", reason="letter from counsel"),
        mark("0-3", "confirmed", at="2026-11-02T10:00:00Z", marked_by="reviewer.b"),
        mark("0-4", "rejected"),
        mark("1-2", "confirmed"),
    )
    grant(cast, rights=["export"])
    export_check(cast, [uid("0")])
    client = _client(cast, "case_lead")
    page = client.get(PAGE).content.decode()
    assert "Marks by status" in page
    assert "<dt>Suspected</dt><dd>0</dd>" in page
    assert "<dt>Confirmed</dt><dd>2</dd>" in page
    assert "<dt>Rejected (not privileged)</dt><dd>1</dd>" in page
    assert "contains_privileged" in page and "investigator" in page  # the refused export check
    confirmed = client.get(PAGE, {"status": "confirmed"}).content.decode()
    assert uid("1-2") in confirmed and uid("0-4") not in confirmed
    under = client.get(PAGE, {"under": uid("0")}).content.decode()
    assert uid("0-3") in under and uid("1-2") not in under
    history = client.get(PAGE, {"trace": uid("0-3")}).content.decode()
    assert f"History of {uid('0-3')}" in history
    assert "letter from counsel" in history and "reviewer.b" in history
    bad = client.get(PAGE, {"under": "not a trace"})
    assert bad.status_code == 400
    assert "Give a trace uid" in bad.content.decode()
    assert PrivilegedMark.objects.count() == 3


def test_it_pages_through_many_marks(cast: Cast):
    post_marks(cast, *[mark(f"2-{n}") for n in range(60)])
    client = _client(cast, "privacy_officer")
    first = client.get(PAGE)
    assert first.status_code == 200
    more = first.context["next_query"]
    assert more
    second = client.get(f"{PAGE}?{more}")
    shown = {row["mark"].trace_uid for row in first.context["rows"]} | {
        row["mark"].trace_uid for row in second.context["rows"]
    }
    assert shown == {uid(f"2-{n}") for n in range(60)}
    assert second.context["next_query"] is None


def test_it_speaks_dutch(cast: Cast):
    post_marks(cast, mark("0-3"))
    page = _client(cast, "case_lead").get(PAGE, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Geheimhoudersinformatie" in page or "geheimhouders" in page.lower()
    assert "Marks by status" not in page
    assert str(IMAGE_ID) in page
