"""The operator's upload form (the browser's way to ``manifest_upload``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hashtotals.models import Kind, Side
from hashtotals.readers import FORMATS


def _format_choices() -> list[tuple[str, str]]:
    return [("", str(_("Recognise it from the file"))), *((name, name) for name in sorted(FORMATS))]


class ManifestUploadForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices, widget=forms.RadioSelect)
    format = forms.ChoiceField(label=_("Format"), choices=_format_choices, required=False)
    file = forms.FileField(
        label=_("Hash tool output"),
        help_text=_(
            "The file exactly as the tool wrote it (sha256sum, hashdeep, fiwalk, ewfverify, dc3dd, …)."
        ),
    )


class DifferenceFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Show"), choices=[("", _("all differences")), *Kind.choices], required=False
    )
    cursor = forms.IntegerField(required=False, min_value=-1, widget=forms.HiddenInput)
