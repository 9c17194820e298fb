"""Dates as the person reads them (issue 17, item 4): date and time fields show and read the chosen
language's format, whatever the browser's locale, and say the format beside the field."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone, translation

from authz.forms import GrantForm
from authz.models import Grant
from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DAY_TIME_INPUT_FORMATS, day_format, format_hint
from tests.personas import CASE_PROJECT_ID, Cast

ACCESS = f"/cases/{CASE_PROJECT_ID}/access/"


def _browser(cast: Cast, persona: str, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")  # an American browser, whatever the page's language
    client.force_login(cast[persona])
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    ("language", "shown", "hint"), [("nl", "%d-%m-%Y", "dd-mm-jjjj"), ("en", "%Y-%m-%d", "yyyy-mm-dd")]
)
def test_the_format_follows_the_chosen_language(language: str, shown: str, hint: str):
    with translation.override(language):
        assert day_format() == shown
        assert format_hint(day_format()) == hint
        assert next(iter(DAY_INPUT_FORMATS)) == shown


def test_a_dutch_form_shows_and_reads_day_month_year_in_an_american_browser(cast: Cast):
    client = _browser(cast, "case_lead", "nl")
    body = client.get(f"{ACCESS}grant/").content.decode()
    field = re.search(r'<input[^>]*name="valid_until"[^>]*>', body)
    assert field is not None
    assert 'type="text"' in field.group(0) and 'type="date"' not in body
    assert 'placeholder="dd-mm-jjjj"' in field.group(0)
    assert re.search(r'aria-describedby="[^"]*id_valid_until_format"', field.group(0))
    assert '<span class="format-hint" id="id_valid_until_format">(dd-mm-jjjj)</span>' in body

    until = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        f"{ACCESS}grant/",
        {
            "grantee": "investigator",
            "rights": ["read"],
            "environments": ["production"],
            "valid_until": until.strftime("%d-%m-%Y"),
            "reason": "Typed the Dutch way",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = Grant.objects.get()
    assert timezone.localtime(grant.valid_until - datetime.timedelta(microseconds=1)).date() == until


def test_a_value_is_shown_back_in_the_readers_format():
    day = datetime.date(2026, 12, 31)
    for language, text in (("nl", "31-12-2026"), ("en", "2026-12-31")):
        with translation.override(language):
            html = str(GrantForm(initial={"valid_until": day})["valid_until"])
            assert f'value="{text}"' in html, html


def test_a_moment_is_read_in_the_readers_format_and_as_iso():
    with translation.override("nl"):
        formats = list(DAY_TIME_INPUT_FORMATS)
        assert formats[0] == "%d-%m-%Y %H:%M"
        assert "%Y-%m-%dT%H:%M" in formats  # what a script or an old link sends
