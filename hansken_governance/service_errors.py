"""The one bridge from a service's refusal (or warning) to a browser form.

A service raises ``ValidationError`` made by ``refusal``: a plain English message with
``%(name)s`` placeholders, a ``code`` and the parameters. The API shows the message with the
parameters filled in (``message_dict`` does that), exactly as before. A form (``ServiceErrorForm``)
shows each error on the field it names, in the reader's language, by its code: the form's
``service_words`` hold the words for each code it knows, with the same placeholders. Nothing is
matched on the wording, so a reworded message cannot silently lose its field or its translation; a
code the form has no words for is shown as the service worded it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise


def refusal(field_name: str | None, message: str, code: str, **params: Any) -> ValidationError:
    """A service's refusal about ``field_name`` (None: about the request as a whole)."""
    error = ValidationError(message, code=code, params=params or None)
    return ValidationError({field_name: error}) if field_name else error


@dataclass(frozen=True)
class ServiceWarning:
    """Something a service did, with a caveat the person should hear (e.g. a grant that runs past
    the grantee's screening). ``str()`` is the English text the API and the trail record."""

    message: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


def in_words(
    code: str | None, message: Any, params: Mapping[str, Any] | None, words: Mapping[str, Any]
) -> str:
    """A service's message in the reader's language, if ``words`` has words for its code. Words that
    name a parameter the service did not give fall back to the service's own message: a page shows
    the refusal in English rather than failing."""
    if code is not None and code in words:
        try:
            text = str(words[code])
            return text % params if params else text
        except (KeyError, TypeError, ValueError):
            pass
    return str(message) % params if params else str(message)


class ServiceErrorForm(forms.Form):
    """A form that shows its own errors and those a service raised next to the field they are about."""

    # Service field names that this form shows under another field.
    service_fields: Mapping[str, str] = {}
    # The reader's words for the services' error codes (lazy translations with the same placeholders).
    service_words: Mapping[str, Promise] = {}

    def add_service_error(self, error: ValidationError) -> None:
        by_field = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
        for name, errors in by_field:
            target = self.service_fields.get(name or "", name)
            for item in errors:
                text = in_words(item.code, item.message, item.params, self.service_words)
                self.add_error(target if target in self.fields else None, text)
