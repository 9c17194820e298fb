"""The privacy statement's versions: drafting, publication, the version in force, immutability (in the
service and in the database), the live facts and their warning, and safe rendering."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from privacy_statement import selectors, services
from privacy_statement.diff import side_by_side
from privacy_statement.facts import live_facts, stale_facts, substitute
from privacy_statement.models import Acknowledgement, StatementVersion, VersionStatus
from privacy_statement.rendering import render
from tests.personas import Cast
from tests.privacy_helpers import BY, TEXTS, draft, publish
from tests.settings_helpers import django_setup_refused


def test_it_publishes_a_draft_with_the_next_number_and_frozen_text(cast: Cast, settings):
    settings.HG_AUDIT_RETENTION_DAYS = 2555
    first = publish(cast)
    assert first.number == 1 and first.status == VersionStatus.PUBLISHED
    assert first.markdown_en == "# What we record\n\nThe audit trail keeps events for 2555 days.\n"
    assert "<h1>What we record</h1>" in first.html_en and "2555 dagen" in first.html_nl
    assert first.facts["audit_retention_days"] == 2555
    import hashlib

    assert first.sha256_nl == hashlib.sha256(first.markdown_nl.encode()).hexdigest()
    second = publish(cast, source_en="Changed.\n")
    assert second.number == 2
    event = AuditEvent.objects.filter(action="privacy_statement.published").order_by("-sequence").first()
    assert event is not None and event.details["version"] == "2" and event.actor == "command:tests"
    assert event.details["sha256"]["en"] == second.sha256_en


def test_it_takes_the_newest_published_version_whose_date_has_come(cast: Cast):
    assert selectors.version_in_force() is None
    draft(cast)  # a draft is never in force
    assert selectors.version_in_force() is None
    first = publish(cast)
    later = publish(
        cast, effective_from=services.start_of_day(timezone.localdate() + datetime.timedelta(days=10))
    )
    assert selectors.version_in_force() == first
    assert selectors.version_in_force(timezone.now() + datetime.timedelta(days=11)) == later


def test_it_refuses_a_date_in_the_past_or_before_the_last_version(cast: Cast):
    version = draft(cast)
    with pytest.raises(ValidationError) as error:
        publish(
            cast,
            version,
            effective_from=services.start_of_day(timezone.localdate() - datetime.timedelta(days=1)),
        )
    assert "effective_from" in error.value.message_dict
    publish(cast, effective_from=services.start_of_day(timezone.localdate() + datetime.timedelta(days=5)))
    with pytest.raises(ValidationError) as error:
        publish(cast, version)
    assert "cannot take effect before" in error.value.message_dict["effective_from"][0]
    assert StatementVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT


# Days from today (None: 31-12-9999, as a tester typed it), the bound, and the refusal's code (None:
# published). The bound counts in whole days in DJANGO_TIME_ZONE: its last day is still allowed.
# fmt: off
EFFECTIVE_DATES: list[tuple[int | None, int, str | None]] = [
    (-1,   366, "effective_in_past"),
    (0,    366, None),
    (1,    366, None),
    (366,  366, None),
    (367,  366, "effective_too_far"),
    (3650, 366, "effective_too_far"),
    (None, 366, "effective_too_far"),
    (30,   30,  None),
    (31,   30,  "effective_too_far"),
]
# fmt: on


@pytest.mark.parametrize(("days", "bound", "code"), EFFECTIVE_DATES)
def test_it_publishes_only_for_a_date_from_today_to_the_bound(
    cast: Cast, settings, days: int | None, bound: int, code: str | None
):
    settings.HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD = bound
    today = timezone.localdate()
    day = datetime.date(9999, 12, 31) if days is None else today + datetime.timedelta(days=days)
    version = draft(cast)
    if code is None:
        assert publish(cast, version, effective_from=services.start_of_day(day)).number == 1
        return
    with pytest.raises(ValidationError) as error:
        publish(cast, version, effective_from=services.start_of_day(day))
    [refused] = error.value.error_dict["effective_from"]
    assert refused.code == code
    if code == "effective_too_far":
        last = (today + datetime.timedelta(days=bound)).isoformat()
        assert error.value.message_dict["effective_from"] == [
            f"A version can take effect at most {bound} days ahead, on {last} at the latest."
        ]
    assert StatementVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT
    assert not AuditEvent.objects.filter(action="privacy_statement.published").exists()


def test_a_version_at_the_bound_still_lets_the_next_one_follow(cast: Cast, settings):
    """What the bound is for: the furthest a publication can block newer versions is the bound."""
    settings.HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD = 10
    last = timezone.localdate() + datetime.timedelta(days=10)
    publish(cast, effective_from=services.start_of_day(last))
    assert publish(cast, effective_from=services.start_of_day(last)).number == 2


@pytest.mark.parametrize("value", ["0", "-1", "3661", "forever"])
def test_the_settings_refuse_to_start_with_a_bound_out_of_range(value: str):
    refused = django_setup_refused({"HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD": value})
    assert "HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD must be" in refused


def test_it_refuses_to_publish_without_both_languages_or_a_summary(cast: Cast):
    version = draft(cast, source_en="")
    with pytest.raises(ValidationError) as error:
        publish(cast, version)
    assert set(error.value.message_dict) == {"source_en"}
    with pytest.raises(ValidationError) as error:
        services.statement_publish(
            version=version,
            effective_from=timezone.now(),
            change_summary_nl=" ",
            change_summary_en="x",
            publisher=cast["privacy_officer"],
            by=BY,
        )
    assert "change_summary_nl" in error.value.message_dict


def test_it_refuses_an_unknown_placeholder(cast: Cast):
    with pytest.raises(ValidationError) as error:
        draft(cast, source_nl="Bewaard {{ forever_days }} dagen")
    assert error.value.message_dict["source_nl"] == ["Unknown placeholder: {{ forever_days }}."]
    assert not StatementVersion.objects.exists()


@pytest.mark.parametrize(
    "persona", ["case_lead", "investigator", "operator", "security_manager", "administrator"]
)
def test_it_lets_only_the_privacy_officer_draft_and_publish(cast: Cast, persona: str):
    with pytest.raises(PermissionDenied):
        services.statement_draft_create(author=cast[persona], by=BY, **TEXTS)
    version = draft(cast)
    with pytest.raises(PermissionDenied):
        services.statement_draft_update(version=version, author=cast[persona], by=BY, title_en="Mine")
    with pytest.raises(PermissionDenied):
        services.statement_publish(
            version=version,
            effective_from=timezone.now(),
            change_summary_nl="x",
            change_summary_en="x",
            publisher=cast[persona],
            by=BY,
        )
    assert StatementVersion.objects.get().status == VersionStatus.DRAFT


def test_it_records_every_change_of_a_draft_with_its_difference(cast: Cast):
    version = draft(cast)
    _, changed = services.statement_draft_update(
        version=version, author=cast["privacy_officer"], by=BY, source_en=TEXTS["source_en"] + "More.\n"
    )
    assert changed
    event = AuditEvent.objects.filter(action="privacy_statement.draft_changed").get()
    assert list(event.details["changed"]) == ["source_en"]
    assert "+More." in event.details["changed"]["source_en"]["diff"]
    # Saving the same text again is no change, and no event.
    _, changed = services.statement_draft_update(
        version=version, author=cast["privacy_officer"], by=BY, source_en=TEXTS["source_en"] + "More.\n"
    )
    assert not changed
    assert AuditEvent.objects.filter(action="privacy_statement.draft_changed").count() == 1


def test_the_service_refuses_to_change_or_discard_a_published_version(cast: Cast):
    version = publish(cast)
    with pytest.raises(ValidationError) as error:
        services.statement_draft_update(
            version=version, author=cast["privacy_officer"], by=BY, title_en="New"
        )
    assert error.value.code == "published"
    with pytest.raises(ValidationError):
        services.statement_draft_discard(version=version, author=cast["privacy_officer"], by=BY)
    with pytest.raises(ValidationError):
        publish(cast, version)
    assert StatementVersion.objects.get(pk=version.pk).title_en == TEXTS["title_en"]


def test_the_database_refuses_to_change_a_published_version(cast: Cast):
    version = publish(cast)
    with pytest.raises(DatabaseError), transaction.atomic():
        StatementVersion.objects.filter(pk=version.pk).update(markdown_en="Something else")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE privacy_statement_statementversion SET status = 'draft' WHERE id = %s", [version.pk]
        )
    assert StatementVersion.objects.get(pk=version.pk).markdown_en == version.markdown_en
    # A draft still changes freely.
    other = draft(cast)
    StatementVersion.objects.filter(pk=other.pk).update(title_en="Fine")


def test_the_database_refuses_to_delete_a_published_version(cast: Cast):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE open for the test runner's flush (privacy_statement.triggers)")
    version = publish(cast)
    with pytest.raises(DatabaseError), transaction.atomic():
        StatementVersion.objects.filter(pk=version.pk).delete()
    assert StatementVersion.objects.filter(pk=version.pk).exists()


def test_it_discards_a_draft_with_an_event(cast: Cast):
    version = draft(cast)
    services.statement_draft_discard(version=version, author=cast["privacy_officer"], by=BY)
    assert not StatementVersion.objects.exists()
    assert AuditEvent.objects.filter(action="privacy_statement.draft_discarded").count() == 1


def test_it_warns_when_a_published_value_is_no_longer_the_setting(cast: Cast, settings):
    settings.HG_AUDIT_RETENTION_DAYS = 2555
    version = publish(cast)
    assert stale_facts(version) == []
    settings.HG_AUDIT_RETENTION_DAYS = 3650
    stale = stale_facts(version)
    assert [(fact.name, fact.published, fact.now) for fact in stale] == [("audit_retention_days", 2555, 3650)]
    # A fact the statement does not name is no reason to warn.
    settings.HG_GRANT_MAX_DAYS = 30
    assert [fact.name for fact in stale_facts(version)] == ["audit_retention_days"]


def test_it_reads_the_inactivity_period_from_productions_retention_policy(cast: Cast):
    from retention.services import policy_set

    assert live_facts()["inactivity_days"] == 180
    policy_set(
        environment="production",
        inactivity_days=90,
        reminder_days=14,
        escalation_days=30,
        closure_limit_days=365,
        by=BY,
    )
    assert live_facts()["inactivity_days"] == 90
    assert substitute("after {{inactivity_days}} days", live_facts()) == "after 90 days"


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", r"<script"),
        ("![logo](https://tracker.example/pixel.png)", r"<img"),
        ('<img src="https://tracker.example/x.png">', r"<img"),
        ("[click](javascript:alert(1))", r"<a[^>]*javascript"),
        ('<a href="#" onclick="steal()">x</a>', r"<a[^>]*onclick"),
        ("<iframe src='https://example.org'></iframe>", r"<iframe"),
        ("<style>body{display:none}</style>", r"<style"),
        ('<p style="background:url(https://tracker.example/x)">x</p>', r"<p[^>]*style"),
    ],
)
def test_it_renders_no_script_and_no_remote_images(markdown: str, forbidden: str):
    html = render(markdown)
    # Raw HTML in the Markdown comes out as text (&lt;...), never as a tag.
    assert re.search(forbidden, html) is None, html


# Markdown with one link, and the href the rendered HTML keeps (None: no href at all, the text stays).
# Kept: http, https and mailto with their scheme spelled out, in any case. Dropped: everything a browser
# would read against the page's own address (so in another interface, another server), and the
# schemes markdown-it refuses.
# fmt: off
LINKS: list[tuple[str, str | None]] = [
    ("[x](https://www.nfi.nl/a?b=c#d)",      "https://www.nfi.nl/a?b=c#d"),
    ("[x](http://www.nfi.nl)",               "http://www.nfi.nl"),
    ("[x](HTTPS://www.nfi.nl)",              "HTTPS://www.nfi.nl"),
    ("[x](Http://www.nfi.nl)",               "Http://www.nfi.nl"),
    ("[x](mailto:privacy@nfi.nl)",           "mailto:privacy@nfi.nl"),
    ("[x](MAILTO:privacy@nfi.nl)",           "MAILTO:privacy@nfi.nl"),
    ("<https://www.nfi.nl>",                 "https://www.nfi.nl"),
    ("[x](//evil.example/)",                 None),
    ("[x](///evil.example/)",                None),
    ("[x][ref]\n\n[ref]: //evil.example/",   None),
    ("[x](<  //evil.example>)",              None),
    ("[x](\u3000//evil.example)",            None),
    ("[x](&#47;/evil.example)",              None),
    ("[x](\\\\evil.example)",                None),
    ("[x](/\\evil.example)",                 None),
    ("[x](\\/evil.example)",                 None),
    ("[x](%2F%2Fevil.example)",              None),
    ("[x](https:evil.example)",              None),
    ("[x](https:/evil.example)",             None),
    ("[x](https:///evil.example)",           None),
    ("[x](http:\\\\evil.example)",           None),
    ("[x](/privacy/)",                       None),
    ("[x](#rights)",                         None),
    ("[x](evil.example)",                    None),
    ("[x](ftp://evil.example/)",             None),
    ("[x](javascript:alert(1))",             None),
    ("[x](JaVaScRiPt:alert(1))",             None),
    ("[x](java%0ascript:alert(1))",          None),
    ("[x](<\tjavascript:alert(1)>)",         None),
    ("[x](\x01javascript:alert(1))",         None),
    ("[x](\x01https://www.nfi.nl)",          None),
    ("[x](vbscript:msgbox(1))",              None),
    ("[x](data:text/html,x)",                None),
]
# fmt: on


@pytest.mark.parametrize(("markdown", "href"), LINKS)
def test_it_keeps_only_http_https_and_mailto_links(markdown: str, href: str | None):
    html = render(markdown)
    assert re.findall(r'href="([^"]*)"', html) == ([href] if href else []), html


def test_it_renders_headings_lists_tables_and_safe_links():
    html = render("## Rights\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[NFI](https://www.nfi.nl)")
    assert "<h2>Rights</h2>" in html and "<li>one</li>" in html and "<td>1</td>" in html
    assert '<a href="https://www.nfi.nl" rel="noopener noreferrer nofollow">NFI</a>' in html


def test_it_lays_two_texts_side_by_side():
    rows = side_by_side("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(row.kind, row.left, row.right) for row in rows] == [
        ("equal", "a", "a"),
        ("changed", "b", "B"),
        ("equal", "c", "c"),
        ("added", "", "d"),
    ]
    assert [row.kind for row in side_by_side("x\ny\n", "y\n")] == ["removed", "equal"]


def test_the_runtime_role_cannot_change_remove_or_truncate_published_versions_or_acknowledgements(cast: Cast):
    """The role production's web and worker connect as (``tests.audit_helpers.create_runtime_role``:
    every right, then restricted as ``migrate`` restricts it, ``audit.pg_privileges.KEPT``) still
    edits and discards drafts and adds acknowledgements, and cannot change, remove or truncate a
    published version or an acknowledgement."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: roles and privileges are PostgreSQL's")
    from tests.audit_helpers import as_role, create_runtime_role

    published = publish(cast)
    services.statement_acknowledge(version=published, person=cast["investigator"], by=BY)
    pending = draft(cast)
    runtime = create_runtime_role()
    refused = [
        "UPDATE privacy_statement_statementversion SET title_en = 'x' WHERE id = %s",
        "DELETE FROM privacy_statement_statementversion WHERE id = %s",
        "TRUNCATE privacy_statement_statementversion CASCADE",
        "UPDATE privacy_statement_acknowledgement SET channel = 'x'",
        "DELETE FROM privacy_statement_acknowledgement",
        "TRUNCATE privacy_statement_acknowledgement",
    ]
    for statement in refused:
        with pytest.raises(DatabaseError), as_role(runtime), connection.cursor() as cursor:
            cursor.execute(statement, [published.pk] if "%s" in statement else None)
    with as_role(runtime), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE privacy_statement_statementversion SET title_en = 'Draft, reworded' WHERE id = %s",
            [pending.pk],
        )
        cursor.execute("DELETE FROM privacy_statement_statementversion WHERE id = %s", [pending.pk])
    assert not StatementVersion.objects.filter(pk=pending.pk).exists()
    assert StatementVersion.objects.get(pk=published.pk).title_en == published.title_en
    assert Acknowledgement.objects.filter(version=published).count() == 1
