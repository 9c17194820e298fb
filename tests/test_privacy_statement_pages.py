"""The privacy statement's pages: the public statement with its version picker and comparison (no
sign-in), the notice every signed-in person sees until he acknowledges the version in force, and the
privacy officer's drafting, preview, publication, warnings and list of acknowledgements (only he may
open them: one table)."""

from __future__ import annotations

import csv
import datetime
import io
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from privacy_statement import selectors, services
from privacy_statement.models import Acknowledgement, StatementVersion, VersionStatus
from tests.personas import CASE_PROJECT_ID, PEOPLE, Cast
from tests.privacy_helpers import BY, TEXTS, draft, publish

NOTICE = "privacy-notice-heading"


def signed_in(cast: Cast, username: str) -> Client:
    client = Client()
    client.force_login(cast[username])
    return client


# --- who may open the privacy officer's pages (one table) ---

# Columns: the list, a new draft (POST), a draft, the acknowledgements, their CSV.
MANAGE_PAGES = ["manage", "new", "draft", "acknowledgements", "csv"]
OFFICER = (200, 302, 200, 200, 200)
OTHERS = (403, 403, 403, 403, 403)
EXPECTED = {name: (OFFICER if name == "privacy_officer" else OTHERS) for name in PEOPLE}


@pytest.mark.parametrize("persona", [*PEOPLE, "anonymous"])
def test_only_the_privacy_officer_opens_the_drafting_pages(cast: Cast, persona: str):
    version = publish(cast)
    pending = draft(cast)
    client = Client() if persona == "anonymous" else signed_in(cast, persona)
    drafts_before = StatementVersion.objects.count()
    answers = (
        client.get("/privacy/manage/").status_code,
        client.post("/privacy/manage/new/").status_code,
        client.get(f"/privacy/manage/drafts/{pending.pk}/").status_code,
        client.get(f"/privacy/manage/versions/{version.number}/acknowledgements/").status_code,
        client.get(f"/privacy/manage/versions/{version.number}/acknowledgements.csv").status_code,
    )
    if persona == "anonymous":
        assert answers == (302,) * 5  # to the sign-in page
    else:
        assert answers == EXPECTED[persona]
    assert StatementVersion.objects.count() == drafts_before + (1 if persona == "privacy_officer" else 0)


def test_nobody_but_the_privacy_officer_can_change_a_draft_by_posting(cast: Cast):
    pending = draft(cast)
    for persona in ("case_lead", "security_manager", "administrator"):
        response = signed_in(cast, persona).post(
            f"/privacy/manage/drafts/{pending.pk}/", {"action": "save", **TEXTS, "title_en": "Mine"}
        )
        assert response.status_code == 403
    assert StatementVersion.objects.get(pk=pending.pk).title_en == TEXTS["title_en"]


# --- drafting, preview and publication ---


def test_the_privacy_officer_drafts_previews_saves_and_publishes(cast: Cast, settings):
    settings.HG_GRANT_MAX_DAYS = 365
    client = signed_in(cast, "privacy_officer")
    response = client.post("/privacy/manage/new/")
    version = StatementVersion.objects.get()
    assert response["Location"] == f"/privacy/manage/drafts/{version.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "{{ grant_max_days }}" in page and "365" in page  # the facts offered to the author

    texts = {**TEXTS, "source_en": "Grants end after at most {{ grant_max_days }} days.", "source_nl": "Nl."}
    preview = client.post(f"/privacy/manage/drafts/{version.pk}/", {"action": "preview", **texts})
    assert preview.status_code == 200
    assert "Grants end after at most 365 days." in preview.content.decode()
    assert StatementVersion.objects.get().source_en == ""  # a preview stores nothing

    saved = client.post(f"/privacy/manage/drafts/{version.pk}/", {"action": "save", **texts})
    assert saved.status_code == 302
    assert StatementVersion.objects.get().source_en == texts["source_en"]

    published = client.post(
        f"/privacy/manage/drafts/{version.pk}/",
        {
            "action": "publish",
            "publish-effective_date": timezone.localdate().isoformat(),
            "publish-change_summary_nl": "Eerste versie",
            "publish-change_summary_en": "First version",
        },
    )
    assert published.status_code == 302 and published["Location"] == "/privacy/manage/"
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.number == 1
    assert version.markdown_en == "Grants end after at most 365 days."
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="privacy_statement.")] == [
        "privacy_statement.draft_created",
        "privacy_statement.draft_changed",
        "privacy_statement.published",
    ]
    assert AuditEvent.objects.filter(action="privacy_statement.published").get().actor == "privacy_officer"
    # The published version's page is the public one now; its draft page leads there.
    assert client.get(f"/privacy/manage/drafts/{version.pk}/")["Location"] == "/privacy/?version=1"


def test_a_refusal_is_shown_in_the_readers_language(cast: Cast):
    pending = draft(cast)
    client = signed_in(cast, "privacy_officer")
    url = f"/privacy/manage/drafts/{pending.pk}/"
    response = client.post(
        url, {"action": "save", **TEXTS, "source_nl": "{{ onbekend }}"}, HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 400
    assert "Onbekende plaatshouder: {{ onbekend }}." in response.content.decode()
    past = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    publish = {
        "publish-effective_date": past,
        "publish-change_summary_nl": "x",
        "publish-change_summary_en": "x",
    }
    response = client.post(url, {"action": "publish", **publish}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 400
    assert "Een versie kan niet in het verleden ingaan." in response.content.decode()
    assert StatementVersion.objects.get().status == VersionStatus.DRAFT


def test_it_shows_a_refusal_on_the_field_and_stores_nothing(cast: Cast):
    pending = draft(cast)
    client = signed_in(cast, "privacy_officer")
    response = client.post(
        f"/privacy/manage/drafts/{pending.pk}/", {"action": "save", **TEXTS, "source_nl": "{{ nonsense }}"}
    )
    assert response.status_code == 400
    assert "Unknown placeholder: {{ nonsense }}." in response.content.decode()
    response = client.post(
        f"/privacy/manage/drafts/{pending.pk}/",
        {
            "action": "publish",
            "publish-effective_date": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
            "publish-change_summary_nl": "x",
            "publish-change_summary_en": "x",
        },
    )
    assert response.status_code == 400
    assert "A version cannot take effect in the past." in response.content.decode()
    assert StatementVersion.objects.get().status == VersionStatus.DRAFT
    assert StatementVersion.objects.get().source_nl == TEXTS["source_nl"]


@pytest.mark.parametrize(
    ("language", "typed", "words"),
    [
        ("en", "9999-12-31", "A version can take effect at most 366 days ahead, on {last} at the latest."),
        ("nl", "31-12-9999", "Een versie kan hoogstens 366 dagen vooruit ingaan, uiterlijk op {last}."),
    ],
)
def test_it_refuses_a_date_past_the_bound_on_the_field_and_stores_nothing(
    cast: Cast, settings, language: str, typed: str, words: str
):
    settings.HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD = 366
    pending = draft(cast)
    client = signed_in(cast, "privacy_officer")
    response = client.post(
        f"/privacy/manage/drafts/{pending.pk}/",
        {
            "action": "publish",
            "publish-effective_date": typed,
            "publish-change_summary_nl": "x",
            "publish-change_summary_en": "x",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    last = (timezone.localdate() + datetime.timedelta(days=366)).isoformat()
    assert response.context["publish_form"].errors["effective_date"] == [words.format(last=last)]
    assert StatementVersion.objects.get().status == VersionStatus.DRAFT
    assert not AuditEvent.objects.filter(action="privacy_statement.published").exists()


def test_it_warns_on_the_list_when_a_published_value_changed(cast: Cast, settings):
    settings.HG_AUDIT_RETENTION_DAYS = 2555
    publish(cast)
    client = signed_in(cast, "privacy_officer")
    assert (
        "names values that the settings no longer have" not in client.get("/privacy/manage/").content.decode()
    )
    settings.HG_AUDIT_RETENTION_DAYS = 1000
    page = client.get("/privacy/manage/").content.decode()
    assert "Version 1 names values that the settings no longer have" in page
    assert "2555 in the statement, 1000 now" in page


# --- the public pages ---


def test_anyone_reads_the_statement_and_picks_a_version(cast: Cast):
    client = Client()
    assert "No privacy statement has been published yet." in client.get("/privacy/").content.decode()
    publish(cast)
    publish(cast, source_en="# Second\n\nThe second version.\n")
    page = client.get("/privacy/").content.decode()
    assert "<h1>Second</h1>" in page and "The second version." in page
    assert "Version 2, in force from" in page and "Version 1, in force from" in page
    old = client.get("/privacy/?version=1").content.decode()
    assert "<h1>What we record</h1>" in old and "(replaced)" in old
    assert client.get("/privacy/?version=9").status_code == 404
    assert client.get("/privacy/?version=x").status_code == 404
    # Dutch for a Dutch reader.
    client.post("/i18n/setlang/", {"language": "nl", "next": "/privacy/"})
    assert "<h1>Wat we vastleggen</h1>" in client.get("/privacy/?version=1").content.decode()


def test_anyone_compares_two_published_versions_side_by_side(cast: Cast):
    publish(cast)
    publish(cast, source_en="# What we record\n\nThe audit trail keeps every event.\n")
    pending = draft(cast, source_en="Draft text")
    client = Client()
    page = client.get("/privacy/compare/?from=1&to=2&lang=en").content.decode()
    assert "1 line differs." in page
    assert "<del>The audit trail keeps events for" in page
    assert "<ins>The audit trail keeps every event.</ins>" in page
    # Drafts are the privacy officer's.
    assert client.get(f"/privacy/compare/?from=2&to=draft-{pending.pk}").status_code == 404
    officer = signed_in(cast, "privacy_officer")
    assert (
        "<ins>Draft text</ins>"
        in officer.get(f"/privacy/compare/?from=2&to=draft-{pending.pk}&lang=en").content.decode()
    )


# --- the notice and acknowledging in the browser ---


def test_every_signed_in_person_sees_the_notice_until_he_acknowledges(cast: Cast):
    client = signed_in(cast, "investigator")
    assert NOTICE not in client.get("/").content.decode()  # nothing in force yet
    publish(cast)
    home = client.get("/").content.decode()
    assert NOTICE in home and 'href="/privacy/?version=1"' in home
    assert NOTICE not in Client().get("/accounts/login/").content.decode()  # not for anonymous readers

    statement = client.get("/privacy/?version=1").content.decode()
    assert "I have read the privacy statement" in statement
    response = client.post("/privacy/acknowledge/", {"version": "1", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    ack = Acknowledgement.objects.get()
    assert ack.person == cast["investigator"] and ack.channel == "browser"
    event = AuditEvent.objects.get(action="privacy_statement.acknowledged")
    assert event.actor == "investigator" and event.channel == "browser"
    assert NOTICE not in client.get("/").content.decode()
    assert "You confirmed on" in client.get("/privacy/").content.decode()
    # Another person still sees it; a new version brings it back.
    assert NOTICE in signed_in(cast, "engineer").get("/").content.decode()
    publish(cast, source_en="Second.\n")
    assert NOTICE in client.get("/").content.decode()


def test_it_sends_back_only_to_this_site(cast: Cast):
    publish(cast)
    client = signed_in(cast, "investigator")
    response = client.post("/privacy/acknowledge/", {"version": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/privacy/?version=1"


def test_acknowledging_needs_a_signed_in_person_and_a_published_version(cast: Cast):
    publish(cast)
    pending = draft(cast)
    assert Client().post("/privacy/acknowledge/", {"version": "1"}).status_code == 302  # to sign in
    client = signed_in(cast, "investigator")
    assert client.post("/privacy/acknowledge/", {"version": str(pending.pk + 100)}).status_code == 404
    assert client.get("/privacy/acknowledge/").status_code == 405
    assert not Acknowledgement.objects.exists()


def test_the_notice_costs_one_query_and_none_for_anonymous_readers(cast: Cast):
    publish(cast)
    person = cast["investigator"]
    with CaptureQueriesContext(connection) as queries:
        assert selectors.notice_for(person) is not None
    assert len(queries) == 1
    services.statement_acknowledge(version=StatementVersion.objects.get(), person=person, by=BY)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.notice_for(person) is None
    assert len(queries) == 1
    from django.contrib.auth.models import AnonymousUser

    with CaptureQueriesContext(connection) as queries:
        assert selectors.notice_for(AnonymousUser()) is None
    assert len(queries) == 0


def test_the_decision_api_never_asks_for_the_notice(cast: Cast):
    publish(cast)
    with mock.patch("privacy_statement.context_processors.notice_for", side_effect=AssertionError("asked")):
        response = cast.api("hansken_production").post(
            "/api/v1/authz/check",
            {"user": "case_lead", "project_id": str(CASE_PROJECT_ID), "action": "read"},
            format="json",
        )
    assert response.status_code == 200 and response.json()["allowed"] is True


# --- who acknowledged ---


def test_the_privacy_officer_sees_who_has_and_has_not_acknowledged_and_downloads_it(cast: Cast):
    version = publish(cast)
    services.statement_acknowledge(version=version, person=cast["operator"], by=BY)
    cast["engineer"].first_name = "=HYPERLINK(1)"
    cast["engineer"].save()
    client = signed_in(cast, "privacy_officer")
    page = client.get("/privacy/manage/versions/1/acknowledgements/").content.decode()
    assert f"1 acknowledged, {len(PEOPLE) - 1} not yet." in page
    response = client.get("/privacy/manage/versions/1/acknowledgements.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "privacy-statement-v1-acknowledgements.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["username"] for row in rows} == set(PEOPLE)
    operator = next(row for row in rows if row["username"] == "operator")
    assert operator["acknowledged"] == "yes" and operator["acknowledged_at"].endswith("Z")
    assert operator["channel"] == "command"
    assert all(row["acknowledged"] == "no" for row in rows if row["username"] != "operator")
    engineer = next(row for row in rows if row["username"] == "engineer")
    assert engineer["name"].startswith("'=")  # never a formula in a spreadsheet
    assert client.get("/privacy/manage/versions/2/acknowledgements.csv").status_code == 404
