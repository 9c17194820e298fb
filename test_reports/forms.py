"""The engineers' browser forms: a new release, and a report uploaded for it. The rules are the
services'; their refusals come back here by code, in the reader's language."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authz.forms import DayField
from hansken_governance.api_base import repeated_fields
from hansken_governance.service_errors import ServiceErrorForm
from test_reports.models import Kind
from test_reports.services import NOTES_LIMIT

SERVICE_WORDS = {
    "version_invalid": _(
        "Give a version of at most 100 letters, digits, dots, dashes, underscores or plus signs, "
        "starting with a letter or digit."
    ),
    "release_exists": _("Release %(version)s exists already."),
    "kind_unknown": _("Choose unit, integration or regression."),
    "report_exists": _("This file was uploaded already as a %(kind)s report of %(version)s."),
    "too_large": _("The file is larger than %(limit)s bytes, the most a test report may be."),
    "not_a_report": _("This file is not a test report that can be read: give JUnit XML or CTRF JSON."),
    "no_tests": _("The report holds no test cases."),
    "xml_entities": _(
        "The file declares a DTD or XML entities; a test report never needs them, and they are how "
        "entity-expansion bombs and external-entity attacks work. Nothing was read from it."
    ),
    "xml_malformed": _("The XML is not well formed (line %(line)s, column %(column)s): %(reason)s."),
    "json_malformed": _("The JSON is not well formed: %(reason)s."),
    "ctrf_invalid": _(
        "%(where)s cannot be read: in CTRF each test is an object with a name and a status (passed, "
        "failed, skipped, pending or other)."
    ),
    "too_many_tests": _("The report holds more than %(limit)s tests; split it by kind or module."),
    "time_naive": _("Give the time with an offset."),
    "released_far_ahead": _(
        "A release date more than a year ahead is refused: give the day the release is made."
    ),
    "notes_long": _("Keep the notes under %(limit)s characters."),
    "junit_invalid": _("%(where)s cannot be read: in JUnit XML every <testcase> has a name."),
    "field_twice": _("The field %(field)s is given twice."),
}


class ReleaseForm(ServiceErrorForm):
    service_words = SERVICE_WORDS

    version = forms.CharField(label=_("Version"), max_length=100)
    released_on = DayField(label=_("Release date"), widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTES_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )
    service_fields = {"released_at": "released_on"}

    def released_at(self) -> datetime.datetime:
        day: datetime.date = self.cleaned_data["released_on"]
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ReportUploadForm(ServiceErrorForm):
    service_words = SERVICE_WORDS

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    file = forms.FileField(
        label=_("Test report"),
        help_text=_(
            "JUnit XML (pytest, Maven Surefire, Gradle, Ant) or CTRF JSON, as the test run wrote it."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        # Two kinds or two files: only one would be used, so neither is (nothing is stored).
        for name in repeated_fields(self.fields, self.data, self.files):
            self.add_error(name, SERVICE_WORDS["field_twice"] % {"field": name})
        return super().clean()
