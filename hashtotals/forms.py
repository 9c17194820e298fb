"""The operator's upload form (the browser's way to ``manifest_upload``). The service's refusals come
back here in the reader's language: a manifest the readers refused by its own words (marked for
translation where it is raised), the others by their code (``hansken_governance.service_errors``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hansken_governance.service_errors import ServiceErrorForm, in_words
from hashtotals.models import Kind, Side
from hashtotals.readers import FORMATS, in_language
from hashtotals.services import UNREADABLE

# The upload service's other refusals in the reader's language, by their code.
SERVICE_WORDS: dict[str, Promise] = {
    "side_unknown": _("Choose delivered or imported."),
    "dataset_deleted": _("The dataset has been deleted; there is nothing to compare."),
    "no_common_algorithm": _(
        "The delivered manifest has %(delivered)s and the imported one %(imported)s: they share no "
        "hash algorithm, so no file could be compared. Upload a list with an algorithm both sides have."
    ),
    "nothing_to_compare": _(
        "The two manifests give nothing to compare: not both list files, and they share no image hash "
        "algorithm."
    ),
}


def _format_choices() -> list[tuple[str, str]]:
    return [("", str(_("Recognise it from the file"))), *((name, name) for name in sorted(FORMATS))]


class ManifestUploadForm(ServiceErrorForm):
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices, widget=forms.RadioSelect)
    format = forms.ChoiceField(label=_("Format"), choices=_format_choices, required=False)
    file = forms.FileField(
        label=_("Hash tool output"),
        help_text=_(
            "The file exactly as the tool wrote it (sha256sum, hashdeep, fiwalk, ewfverify, dc3dd, …)."
        ),
    )
    service_words = SERVICE_WORDS

    def add_service_error(self, error: ValidationError) -> None:
        by_field = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
        for name, errors in by_field:
            for item in errors:
                if item.code == UNREADABLE:
                    text = in_language(str(item.message), item.params or {})
                else:
                    text = in_words(item.code, item.message, item.params, self.service_words)
                self.add_error(name if name in self.fields else None, text)


class DifferenceFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Show"), choices=[("", _("all differences")), *Kind.choices], required=False
    )
    cursor = forms.IntegerField(required=False, min_value=-1, widget=forms.HiddenInput)
