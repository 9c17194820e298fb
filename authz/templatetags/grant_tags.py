"""How grants read on a page: rights and environments by their names, ends by their last day."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import formats, timezone

from authz.forms import last_day
from authz.models import Action
from cases.models import Case
from cases.selectors import is_case_manager
from hansken_governance.environments import Environment

register = template.Library()


def _labels(values: Iterable[str], choices: type[Action] | type[Environment]) -> str:
    known = dict(choices.choices)
    # An unknown stored value is shown as it is rather than hidden.
    return ", ".join(str(known.get(value, value)) for value in values or [])


@register.filter
def rights_text(values: Iterable[str]) -> str:
    return _labels(values, Action)


@register.filter
def environments_text(values: Iterable[str]) -> str:
    return _labels(values, Environment)


@register.filter
def until(moment: datetime.datetime | None) -> str:
    """A period's end as the last day it covers ("until 31 May" ends as 1 June begins); an end at
    any other hour also names the hour."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if local.time() == datetime.time.min:
        return formats.date_format(last_day(moment), "DATE_FORMAT")
    return formats.date_format(local, "DATETIME_FORMAT")


@register.filter
def managed_by(case: Case, user: Any) -> bool:
    """Whether ``user`` leads or deputises on ``case`` (a link to its access page is theirs)."""
    return is_case_manager(user, case)
