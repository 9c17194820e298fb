"""Browser forms of the privacy statement. They check the shape of the input; the services check the
rules (placeholders, publication dates)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hansken_governance.date_inputs import DAY_INPUT_FORMATS, DayInput
from privacy_statement.services import MAX_SOURCE, MAX_SUMMARY, MAX_TITLE


def apply_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class DraftForm(forms.Form):
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


class PublishForm(forms.Form):
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
