"""Dates and times typed as the person reads them, whatever their browser's own locale (issue 17).

A browser's ``<input type="date">`` shows the browser's locale (a Dutch page in an American browser
asks for mm/dd/yyyy), so our forms use a text field that shows and reads the format of the language
the person chose: Dutch ``dd-mm-jjjj`` (``31-12-2026``), English ``yyyy-mm-dd``. ISO
(``2026-12-31``) is read in both, so links and scripts keep working. The format is written next to
the field (and tied to it with ``aria-describedby``), not only as a placeholder that disappears.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ISO_DAY = "%Y-%m-%d"
# The format shown and read first, per language.
DAY_FORMATS = {"nl": "%d-%m-%Y", "en": ISO_DAY}
TIME_FORMAT = "%H:%M"


def day_format() -> str:
    return DAY_FORMATS.get((get_language() or "nl").split("-")[0], DAY_FORMATS["nl"])


def format_hint(fmt: str) -> str:
    """``%d-%m-%Y`` as the reader says it: ``dd-mm-jjjj`` in Dutch, ``dd-mm-yyyy`` in English."""
    return (
        fmt.replace("%d", _("dd"))
        .replace("%m", _("mm"))
        .replace("%Y", _("yyyy"))
        .replace("%H", _("hh"))
        .replace("%M", _("mm"))
    )


class _Formats:
    """A field's ``input_formats``, worked out in the language active when the value is read."""

    def __init__(self, *, time: bool = False, with_day: bool = True) -> None:
        self.time = time
        self.with_day = with_day

    def __iter__(self) -> Iterator[str]:
        if self.time and not self.with_day:
            yield from (TIME_FORMAT, "%H:%M:%S")
            return
        # The reader's format first; ISO and day-month-year are read in every language (neither can
        # be mistaken for the other: the year stands at the other end).
        days = list(dict.fromkeys([day_format(), ISO_DAY, "%d-%m-%Y"]))
        if not self.time:
            yield from days
            return
        for day in days:
            yield f"{day} {TIME_FORMAT}"
            yield f"{day} %H:%M:%S"
        yield f"{ISO_DAY}T{TIME_FORMAT}"  # what a datetime-local field or a script sends
        yield f"{ISO_DAY}T%H:%M:%S"


DAY_INPUT_FORMATS: Any = _Formats()
DAY_TIME_INPUT_FORMATS: Any = _Formats(time=True)
TIME_INPUT_FORMATS: Any = _Formats(time=True, with_day=False)


class _TypedInput(forms.TextInput):
    """A text input in the reader's format, with the format written after it."""

    def shown_format(self) -> str:
        raise NotImplementedError

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            return value.strftime(self.shown_format())
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        hint_id = f"{widget_attrs.get('id', name)}_format"
        described = widget_attrs.get("aria-describedby", "")
        widget_attrs["aria-describedby"] = f"{described} {hint_id}".strip()
        widget_attrs.setdefault("autocomplete", "off")
        widget_attrs.setdefault("inputmode", "numeric")
        widget_attrs.setdefault("placeholder", format_hint(self.shown_format()))
        widget_attrs.setdefault("size", len(format_hint(self.shown_format())) + 2)
        return context

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        field = super().render(name, value, attrs, renderer)  # Django's own, already safe
        hint_id = f"{self.build_attrs(self.attrs, attrs).get('id', name)}_format"
        shown = format_hint(self.shown_format())
        return format_html('{} <span class="format-hint" id="{}">({})</span>', field, hint_id, shown)


class DayInput(_TypedInput):
    def shown_format(self) -> str:
        return day_format()


class DayTimeInput(_TypedInput):
    def shown_format(self) -> str:
        return f"{day_format()} {TIME_FORMAT}"


class TimeOfDayInput(_TypedInput):
    def shown_format(self) -> str:
        return TIME_FORMAT
