"""Browser forms of the privacy statement. They check the shape of the input; the services check the
rules (placeholders, publication dates)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DayInput
from hansken_governance.service_errors import ServiceErrorForm, in_words
from privacy_statement.services import MAX_SOURCE, MAX_SUMMARY, MAX_TITLE

# The services' refusals in the reader's language, by their code (``hansken_governance.service_errors``).
SERVICE_WORDS: dict[str, Promise] = {
    "text_not_text": _("Give text."),
    "too_long": _("At most %(limit)s characters."),
    "title_one_line": _("A title is one line."),
    "unknown_placeholder": _("Unknown placeholder: %(names)s."),
    "published": _("Version %(number)s is published and never changes; draft a new version instead."),
    "unknown_field": _("This field is not known."),
    "summary_missing": _("Say what changed (in Dutch and in English)."),
    "effective_from_missing": _("Give the date from which the version is in force."),
    "effective_in_past": _("A version cannot take effect in the past."),
    "effective_too_far": _(
        "A version can take effect at most %(days)s days ahead, on %(date)s at the latest."
    ),
    "needed_for_publication": _("Needed before publication."),
    "effective_before_latest": _(
        "Version %(number)s takes effect on %(date)s; a newer version cannot take effect before it."
    ),
    "not_published": _("Only a published version can be acknowledged."),
    "person_inactive": _("%(name)s is not an active person."),
}


def refusal_words(error: ValidationError) -> list[str]:
    """Every message of a refusal, in the reader's language (for a page that shows them above all)."""
    if hasattr(error, "error_dict"):
        items = [item for field_items in error.error_dict.values() for item in field_items]
    else:
        items = error.error_list
    return [in_words(item.code, item.message, item.params, SERVICE_WORDS) for item in items]


class DraftForm(ServiceErrorForm):
    service_words = SERVICE_WORDS

    title_nl = forms.CharField(label=_("Title in Dutch"), max_length=MAX_TITLE, required=False)
    title_en = forms.CharField(label=_("Title in English"), max_length=MAX_TITLE, required=False)
    source_nl = forms.CharField(
        label=_("Text in Dutch (Markdown)"),
        max_length=MAX_SOURCE,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "lang": "nl", "spellcheck": "true"}),
    )
    source_en = forms.CharField(
        label=_("Text in English (Markdown)"),
        max_length=MAX_SOURCE,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "lang": "en", "spellcheck": "true"}),
    )


class PublishForm(ServiceErrorForm):
    service_words = SERVICE_WORDS
    service_fields = {"effective_from": "effective_date"}

    effective_date = forms.DateField(
        label=_("In force from"), input_formats=DAY_INPUT_FORMATS, widget=DayInput()
    )
    change_summary_nl = forms.CharField(
        label=_("What changed, in Dutch"), max_length=MAX_SUMMARY, widget=forms.Textarea(attrs={"rows": 3})
    )
    change_summary_en = forms.CharField(
        label=_("What changed, in English"), max_length=MAX_SUMMARY, widget=forms.Textarea(attrs={"rows": 3})
    )

    prefix = "publish"  # two forms on one page: their fields must not share ids
