"""The privacy statement's API (contract: HANSKEN_API.md, "Privacy statement"): the version in force
in Dutch and English with an ETag and 304, the published versions, and acknowledgements, tried by
every persona (one table) and with bad input (nothing stored)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from people.services import person_deactivate
from privacy_statement import services
from privacy_statement.models import Acknowledgement
from tests.personas import PERSONAS, Cast
from tests.privacy_helpers import BY, draft, publish

ANONYMOUS = "anonymous"
CALLERS = [*PERSONAS, ANONYMOUS]
URL = "/api/v1/privacy-statement"
VERSIONS_URL = "/api/v1/privacy-statement/versions"
ACK_URL = "/api/v1/privacy-statement/acknowledgements"


def _client(cast: Cast, caller: str) -> APIClient:
    return cast.api(None if caller == ANONYMOUS else caller)


# Columns: read the statement, list the versions, acknowledge for the investigator.
# Reading is public; Hansken acknowledges for anyone (audit:write, the experiment client holds it too);
# a person only for himself.
# fmt: off
EXPECTED: dict[str, tuple[int, int, int]] = {
    "case_lead":          (200, 200, 403),
    "deputy":             (200, 200, 403),
    "other_case_lead":    (200, 200, 403),
    "investigator":       (200, 200, 201),
    "engineer":           (200, 200, 403),
    "operator":           (200, 200, 403),
    "privacy_officer":    (200, 200, 403),
    "security_manager":   (200, 200, 403),
    "administrator":      (200, 200, 403),
    "hansken_production": (200, 200, 201),
    "hansken_experiment": (200, 200, 201),
    ANONYMOUS:            (200, 200, 401),
}
# fmt: on


def test_it_has_one_row_per_caller():
    assert set(EXPECTED) == set(CALLERS)


def test_it_covers_every_privacy_statement_route():
    names: set[str] = set()

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class is not None and view_class.__module__ == "privacy_statement.api.views":
                    names.add(pattern.name or "")

    walk(get_resolver().url_patterns)
    assert names == {
        "api-privacy-statement",
        "api-privacy-statement-versions",
        "api-privacy-statement-acknowledgements",
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_it_answers_each_caller_as_the_table_says(cast: Cast, caller: str):
    version = publish(cast)
    read, versions, acknowledge = EXPECTED[caller]
    client = _client(cast, caller)
    assert client.get(URL).status_code == read
    assert client.get(VERSIONS_URL).status_code == versions
    before = AuditEvent.objects.count()
    response = client.post(ACK_URL, {"user": "investigator", "version": "1"}, format="json")
    assert response.status_code == acknowledge, response.content
    if acknowledge == 201:
        ack = Acknowledgement.objects.get()
        assert ack.version == version and ack.person == cast["investigator"]
        event = AuditEvent.objects.get(action="privacy_statement.acknowledged")
        assert event.actor == (f"client:{caller}" if caller.startswith("hansken_") else caller)
        assert event.details == {"version": "1", "user": "investigator"}
        assert response.json()["channel"] == "api"
    else:
        assert response.json()["errors"][0]["message"]
        assert not Acknowledgement.objects.exists()
        assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("environment", ["test", "development"])
def test_a_test_or_development_client_cannot_record_an_acknowledgement(cast: Cast, environment: str):
    """An acknowledgement is evidence that a real person was informed; a test environment's token
    (held by more hands) must not be able to make it."""
    from api_clients.services import api_client_create

    publish(cast)
    _, token = api_client_create(
        name=f"hansken_{environment}", environment=environment, scopes=["audit:write"], by=BY
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = AuditEvent.objects.count()
    response = client.post(ACK_URL, {"user": "investigator", "version": "1"}, format="json")
    assert response.status_code == 403, response.content
    assert "test or development client" in response.json()["errors"][0]["message"]
    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.count() == before


def test_it_answers_the_version_in_force_in_each_language(cast: Cast, settings):
    settings.HG_AUDIT_RETENTION_DAYS = 2555
    version = publish(cast)
    client = APIClient()
    dutch = client.get(URL, {"lang": "nl"})
    english = client.get(URL, {"lang": "en"})
    assert dutch.status_code == english.status_code == 200
    body = english.json()
    assert set(body) == {
        "version",
        "language",
        "title",
        "effective_from",
        "published_at",
        "body_markdown",
        "body_html",
        "sha256",
    }
    assert body["version"] == "1" and body["language"] == "en"
    assert body["title"] == "Hansken privacy statement"
    assert body["body_markdown"] == version.markdown_en and "2555 days" in body["body_markdown"]
    assert body["body_html"].startswith("<h1>What we record</h1>")
    assert body["sha256"] == version.sha256_en
    assert body["published_at"].endswith("Z") and body["effective_from"].endswith("Z")
    assert (
        dutch.json()["title"] == "Privacyverklaring Hansken" and "2555 dagen" in dutch.json()["body_markdown"]
    )
    # Dutch is the default.
    assert client.get(URL).json()["language"] == "nl"
    assert dutch["ETag"] != english["ETag"]


def test_it_answers_304_to_a_matching_if_none_match(cast: Cast):
    publish(cast)
    client = APIClient()
    first = client.get(URL, {"lang": "en"})
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "no-cache"
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(URL, {"lang": "en"}, HTTP_IF_NONE_MATCH=header)
        assert again.status_code == 304, header
        assert again.content == b"" and again["ETag"] == etag
    assert client.get(URL, {"lang": "en"}, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # A version published for later changes nothing until its date comes.
    publish(
        cast,
        effective_from=services.start_of_day(timezone.localdate() + datetime.timedelta(days=3)),
        source_en="Newer.\n",
    )
    assert client.get(URL, {"lang": "en"}, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_new_version_in_force_changes_the_etag(cast: Cast):
    publish(cast)
    client = APIClient()
    etag = client.get(URL, {"lang": "en"})["ETag"]
    publish(cast, source_en="Second version.\n")
    response = client.get(URL, {"lang": "en"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["version"] == "2" and response["ETag"] != etag


def test_it_answers_404_while_no_version_is_in_force(cast: Cast):
    draft(cast)
    response = APIClient().get(URL)
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": None, "message": "No privacy statement is in force yet."}]
    }


@pytest.mark.parametrize("query", [{"lang": "de"}, {"language": "en"}])
def test_it_refuses_an_unknown_language_or_parameter(cast: Cast, query: dict):
    publish(cast)
    response = APIClient().get(URL, query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] in ("lang", "language")


TWICE = "This parameter is given more than once."
# A query string and the errors it gets on both public endpoints (None: answered 200). A parameter
# given twice has no one meaning, whichever value comes last; it is refused and named.
# fmt: off
REPEATED: list[tuple[str, list[dict] | None]] = [
    ("lang=en",                 None),
    ("lang=en&lang=nl",         [{"field": "lang", "message": TWICE}]),
    ("lang=nl&lang=en",         [{"field": "lang", "message": TWICE}]),
    ("lang=en&lang=en",         [{"field": "lang", "message": TWICE}]),
    ("lang=en&lang=",           [{"field": "lang", "message": TWICE}]),
    ("lang=en&x=1&lang=nl&x=2", [{"field": "lang", "message": TWICE}, {"field": "x", "message": TWICE}]),
]
# fmt: on


@pytest.mark.parametrize("url", [URL, VERSIONS_URL])
@pytest.mark.parametrize(("query", "errors"), REPEATED)
def test_it_refuses_a_parameter_given_twice(cast: Cast, url: str, query: str, errors: list[dict] | None):
    publish(cast)
    response = APIClient().get(f"{url}?{query}")
    if errors is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert response.json() == {"errors": errors}


def test_it_lists_published_versions_newest_first_with_their_change_summary(cast: Cast):
    publish(cast)
    draft(cast)
    later = publish(
        cast, effective_from=services.start_of_day(timezone.localdate() + datetime.timedelta(days=7))
    )
    response = APIClient().get(VERSIONS_URL, {"lang": "en"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["version"] for item in results] == ["2", "1"]
    assert [item["in_force"] for item in results] == [False, True]
    assert results[0]["change_summary"] == "First version" and results[0]["sha256"] == later.sha256_en
    assert (
        APIClient().get(VERSIONS_URL, {"lang": "nl"}).json()["results"][0]["change_summary"]
        == "Eerste versie"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "nobody", "version": "1"}, "user"),
        ({"user": "investigator", "version": "2"}, "version"),
        ({"user": "investigator", "version": "one"}, "version"),
        ({"user": "investigator"}, "version"),
        ({"user": "investigator", "version": "1", "seen_at": "today"}, "seen_at"),
        ({"user": "x" * 151, "version": "1"}, "user"),
    ],
)
def test_it_refuses_bad_acknowledgements_and_stores_nothing(cast: Cast, body: dict, field: str):
    publish(cast)
    draft(cast)  # a draft has no number: "2" does not exist
    before = AuditEvent.objects.count()
    response = cast.api("hansken_production").post(ACK_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.count() == before


def test_it_refuses_an_acknowledgement_for_an_inactive_person(cast: Cast):
    publish(cast)
    person_deactivate(person=cast["engineer"], reason="left", by=BY)
    response = cast.api("hansken_production").post(
        ACK_URL, {"user": "engineer", "version": "1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"
    assert not Acknowledgement.objects.exists()


def test_it_stores_a_repeated_acknowledgement_once(cast: Cast):
    publish(cast)
    client = cast.api("hansken_production")
    first = client.post(ACK_URL, {"user": "operator", "version": "1"}, format="json")
    second = client.post(ACK_URL, {"user": "operator", "version": "1"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["created"] is False
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert first.json()["acknowledged_at"].endswith("Z")
    assert Acknowledgement.objects.count() == 1
    assert AuditEvent.objects.filter(action="privacy_statement.acknowledged").count() == 1
    ack = Acknowledgement.objects.get()
    assert ack.client_name == "hansken_production" and ack.channel == "api"


def test_it_lets_a_signed_in_person_acknowledge_for_himself_with_the_session(cast: Cast):
    publish(cast)
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(cast["engineer"])
    response = client.post(ACK_URL, {"user": "engineer", "version": "1"}, format="json")
    assert response.status_code == 201
    assert Acknowledgement.objects.get().channel == "browser"
