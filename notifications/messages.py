"""The text of each kind of notification, rendered in the reader's language when shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _


def _grant_ending_grantee(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("Your access to case %(case)s ends on %(until)s") % p,
        _(
            "Your access (%(rights)s) to case %(case)s ends on %(until)s. "
            "Ask the case lead for an extension if you still need it."
        )
        % p,
    )


def _grant_ending_lead(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("Access of %(grantee)s to case %(case)s ends on %(until)s") % p,
        _(
            "The access of %(grantee)s (%(rights)s) to case %(case)s ends on %(until)s. "
            "Extend it or let it end."
        )
        % p,
    )


def _access_requested(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("%(requester)s asks for access to case %(case)s") % p,
        _("%(requester)s asks for %(rights)s on case %(case)s until %(until)s: %(reason)s") % p,
    )


def _request_answered(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("Your request for access to case %(case)s was %(outcome)s") % p,
        _("Your request for access to case %(case)s was %(outcome)s. %(note)s") % p,
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "grant_ending_grantee": _grant_ending_grantee,
    "grant_ending_lead": _grant_ending_lead,
    "access_requested": _access_requested,
    "request_answered": _request_answered,
}


def render(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    renderer = RENDERERS.get(kind)
    if renderer is None:
        return kind, ""
    try:
        return renderer(params)
    except (KeyError, TypeError, ValueError):
        return kind, ""
