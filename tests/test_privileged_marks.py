"""Privileged marks through the API: stored all or nothing, one version per change, every change in
the trail; the same mark again and an older mark change nothing; bad input is refused naming the
field and the index, and stores nothing; the list is scoped and keyset-paginated."""

from __future__ import annotations

import uuid

import pytest

from audit.models import AuditEvent
from cases.models import Dataset
from privilege.models import PrivilegedMark, PrivilegedMarkVersion
from privilege.services import CHANGES_PER_EVENT
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast
from tests.privilege_helpers import MARKS_URL, mark, post_marks, uid

OTHER_IMAGE = uuid.UUID("66666666-6666-4666-8666-666666666666")


def _rows() -> tuple[int, int, int]:
    return PrivilegedMark.objects.count(), PrivilegedMarkVersion.objects.count(), AuditEvent.objects.count()


def test_it_stores_marks_with_their_versions_and_one_event(cast: Cast):
    before = AuditEvent.objects.order_by("-sequence").first()
    assert before is not None
    result = post_marks(
        cast,
        mark("0-3", "suspected", marked_by="reviewer.a", reason="mail to counsel"),
        mark("0-4-1", "confirmed"),
    )
    assert result == {"accepted": 2, "unchanged": 0}
    marks = {m.trace_id: m for m in PrivilegedMark.objects.all()}
    assert set(marks) == {"0-3", "0-4-1"}
    assert marks["0-3"].status == "suspected" and marks["0-3"].marked_by == "reviewer.a"
    assert marks["0-3"].client_name == "hansken_production"
    assert marks["0-3"].case == cast.case and marks["0-3"].dataset == cast.dataset
    versions = list(PrivilegedMarkVersion.objects.order_by("mark__trace_id"))
    assert [(v.mark.trace_id, v.version, v.status, v.previous_status) for v in versions] == [
        ("0-3", 1, "suspected", ""),
        ("0-4-1", 1, "confirmed", ""),
    ]
    events = list(AuditEvent.objects.filter(sequence__gt=before.sequence))
    assert [e.action for e in events] == ["privileged_marks.recorded"]
    event = events[0]
    assert event.actor == "client:hansken_production" and event.project_id == CASE_PROJECT_ID
    assert event.details["accepted"] == 2
    assert [(c["trace_uid"], c["status"], c["previous_status"]) for c in event.details["changes"]] == [
        (uid("0-3"), "suspected", None),
        (uid("0-4-1"), "confirmed", None),
    ]
    assert event.details["changes"][0]["reason"] == "mail to counsel"


def test_the_same_mark_again_and_an_older_mark_change_nothing(cast: Cast):
    post_marks(cast, mark("0-3", "suspected", at="2026-11-02T10:00:00Z"))
    before = _rows()
    assert post_marks(cast, mark("0-3", "suspected", at="2026-11-02T10:00:00Z")) == {
        "accepted": 0,
        "unchanged": 1,
    }
    # Older than the stored mark: its status does not replace the newer one.
    assert post_marks(cast, mark("0-3", "rejected", at="2026-11-01T10:00:00Z")) == {
        "accepted": 0,
        "unchanged": 1,
    }
    assert _rows() == before
    assert PrivilegedMark.objects.get().status == "suspected"


def test_a_later_mark_replaces_the_status_and_keeps_the_history(cast: Cast):
    post_marks(cast, mark("0-3", "suspected", at="2026-11-02T10:00:00Z"))
    result = post_marks(
        cast,
        mark("0-3", "confirmed", at="2026-11-03T10:00:00+01:00", marked_by="reviewer.b"),
        mark("0-3", "rejected", at="2026-11-04T10:00:00Z", reason="not privileged after all"),
    )
    assert result == {"accepted": 2, "unchanged": 0}
    current = PrivilegedMark.objects.get()
    assert (current.status, current.version, current.reason) == ("rejected", 3, "not privileged after all")
    history = list(current.versions.order_by("version").values_list("version", "status", "previous_status"))
    assert history == [(1, "suspected", ""), (2, "confirmed", "suspected"), (3, "rejected", "confirmed")]
    assert current.versions.get(version=2).marked_by == "reviewer.b"


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_sent(cast: Cast):
    # On PostgreSQL marks and versions go in by COPY's text format, where these characters are
    # escapes: a new mark, a changed mark (through the temporary table) and their versions.
    reason, reviewer = "line one\n\tline two\\n\r end\\", "reviewer.\\a"
    post_marks(cast, mark("0-3", "suspected", at="2026-11-02T10:00:00Z", reason=reason, marked_by=reviewer))
    post_marks(cast, mark("0-3", "confirmed", at="2026-11-03T10:00:00Z", reason=reason + "\t2"))
    current = PrivilegedMark.objects.get()
    assert (current.reason, current.marked_by) == (reason + "\t2", "")
    versions = list(current.versions.order_by("version").values_list("reason", "marked_by"))
    assert versions == [(reason, reviewer), (reason + "\t2", "")]


def test_many_changes_make_a_few_events_each_listing_its_changes(cast: Cast):
    count = CHANGES_PER_EVENT * 2 + 1
    before = AuditEvent.objects.order_by("-sequence").first()
    assert before is not None
    result = post_marks(cast, *[mark(f"1-{n}") for n in range(count)])
    assert result == {"accepted": count, "unchanged": 0}
    events = list(AuditEvent.objects.filter(sequence__gt=before.sequence).order_by("sequence"))
    assert [len(e.details["changes"]) for e in events] == [CHANGES_PER_EVENT, CHANGES_PER_EVENT, 1]
    assert [(e.details["part"], e.details["parts"]) for e in events] == [(1, 3), (2, 3), (3, 3)]
    listed = [c["trace_uid"] for e in events for c in e.details["changes"]]
    assert listed == [uid(f"1-{n}") for n in range(count)]


def test_a_trace_id_with_leading_zeros_is_the_same_trace(cast: Cast):
    post_marks(cast, mark("0-03", "suspected"))
    assert PrivilegedMark.objects.get().trace_id == "0-3"


GOOD = {"trace_uid": uid("0-1"), "status": "confirmed", "marked_at": "2026-11-01T10:00:00Z"}


@pytest.mark.parametrize(
    ("marks", "field", "index"),
    [
        ([GOOD, {**GOOD, "trace_uid": "not-a-trace"}], "trace_uid", 1),
        ([{**GOOD, "trace_uid": f"{IMAGE_ID}:0-x"}], "trace_uid", 0),
        ([{**GOOD, "trace_uid": f"{IMAGE_ID}:"}], "trace_uid", 0),
        ([{**GOOD, "trace_uid": f"{IMAGE_ID}:0--1"}], "trace_uid", 0),
        ([{**GOOD, "trace_uid": f"{IMAGE_ID}:\u0663"}], "trace_uid", 0),  # an Arabic-Indic digit
        ([{**GOOD, "trace_uid": "nope:0-1"}], "trace_uid", 0),
        ([{**GOOD, "trace_uid": f"{IMAGE_ID}:" + "1-" * 300 + "1"}], "trace_uid", 0),
        ([GOOD, GOOD, {**GOOD, "trace_uid": uid("0", OTHER_IMAGE)}], "trace_uid", 2),  # another case's image
        ([{**GOOD, "status": "privileged"}], "status", 0),
        ([{**GOOD, "status": None}], "status", 0),
        ([{**GOOD, "marked_at": "2026-11-01T10:00:00"}], "marked_at", 0),
        ([{**GOOD, "marked_at": "yesterday"}], "marked_at", 0),
        ([{**GOOD, "marked_at": "2999-01-01T00:00:00Z"}], "marked_at", 0),
        ([{**GOOD, "marked_by": ""}], "marked_by", 0),
        ([{**GOOD, "marked_by": "a\nb"}], "marked_by", 0),
        ([{**GOOD, "reason": "a\x00b"}], "reason", 0),
        ([{**GOOD, "reason": 7}], "reason", 0),
        ([{**GOOD, "colour": "red"}], "colour", 0),
        ([GOOD, 7], None, 1),
        ([GOOD] * 10_001, "marks", None),
        ([], "marks", None),
    ],
)
def test_bad_marks_are_refused_naming_field_and_index_and_nothing_is_stored(cast: Cast, marks, field, index):
    Dataset.objects.create(
        case=cast.other_case,
        image_id=OTHER_IMAGE,
        description="Phone",
        delivered_by="FIOD",
        imported_at="2026-01-01T00:00:00Z",
    )
    before = _rows()
    response = cast.api("hansken_production").post(MARKS_URL, {"marks": marks}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["field"], error.get("index")) == (field, index)
    assert error["message"]
    assert _rows() == before


def test_a_body_that_is_not_marks_is_refused(cast: Cast):
    api = cast.api("hansken_production")
    before = _rows()
    assert api.post(MARKS_URL, [GOOD], format="json").status_code == 400
    assert api.post(MARKS_URL, {"marks": [GOOD], "more": 1}, format="json").status_code == 400
    assert api.post(MARKS_URL, "{broken", content_type="application/json").status_code == 400
    assert _rows() == before


def test_marks_for_an_unknown_case_are_404(cast: Cast):
    response = cast.api("hansken_production").post(
        f"/api/v1/cases/{uuid.uuid4()}/privileged", {"marks": [GOOD]}, format="json"
    )
    assert response.status_code == 404


def _list(cast: Cast, persona: str = "case_lead", **params: str) -> dict:
    response = cast.api(persona).get(MARKS_URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_list_filters_by_status_and_by_container_and_pages_by_keyset(cast: Cast):
    post_marks(
        cast,
        mark("0-3", "suspected"),
        mark("0-3-1", "confirmed"),
        mark("0-3-10", "rejected"),
        mark("0-30", "confirmed"),
        mark("1", "confirmed", marked_by="reviewer.a", reason="why"),
    )
    everything = _list(cast)
    assert [r["trace_uid"] for r in everything["results"]] == [
        uid("0-3"),
        uid("0-3-1"),
        uid("0-3-10"),
        uid("0-30"),
        uid("1"),
    ]
    assert everything["next_cursor"] is None
    assert everything["results"][-1] == {
        "trace_uid": uid("1"),
        "status": "confirmed",
        "marked_at": "2026-11-01T10:00:00Z",
        "marked_by": "reviewer.a",
        "reason": "why",
    }
    confirmed = _list(cast, status="confirmed")
    assert [r["trace_uid"] for r in confirmed["results"]] == [uid("0-3-1"), uid("0-30"), uid("1")]
    # Under 0-3: the trace itself and what it contains, not its sibling 0-30.
    under = _list(cast, under=uid("0-3"))
    assert [r["trace_uid"] for r in under["results"]] == [uid("0-3"), uid("0-3-1"), uid("0-3-10")]
    seen = []
    page = _list(cast, limit="2")
    while True:
        seen += [r["trace_uid"] for r in page["results"]]
        if page["next_cursor"] is None:
            break
        page = _list(cast, limit="2", cursor=page["next_cursor"])
    assert seen == [r["trace_uid"] for r in everything["results"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "secret"}, "status"),
        ({"under": "nope"}, "under"),
        ({"cursor": "!!"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_parameters_are_400(cast: Cast, params, field):
    response = cast.api("case_lead").get(MARKS_URL, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_a_review_privileged_grant_opens_the_list_and_its_absence_hides_the_case(cast: Cast):
    post_marks(cast, mark("0-3"))
    assert cast.api("investigator").get(MARKS_URL).status_code == 404
    grant(cast, rights=["read"])
    assert cast.api("investigator").get(MARKS_URL).status_code == 404  # read alone is not enough
    grant(cast, rights=["review_privileged"])
    assert [r["trace_uid"] for r in _list(cast, "investigator")["results"]] == [uid("0-3")]
    # Another case's marks stay out of sight for the same person.
    response = cast.api("investigator").get(f"/api/v1/cases/{OTHER_PROJECT_ID}/privileged")
    assert response.status_code == 404
