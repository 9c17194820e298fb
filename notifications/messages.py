"""The text of each kind of notification, rendered in the reader's language when shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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


# Retention (retention.sweep): one message per recipient per sweep, listing the cases.


def _retention_notices_opened(p: dict[str, Any]) -> tuple[str, str]:
    return (
        ngettext(
            "%(count)s dataset of your cases has not been used for a long time",
            "%(count)s datasets of your cases have not been used for a long time",
            p["count"],
        )
        % p,
        _(
            "Cases: %(cases)s. Decide for each dataset whether it must be kept (with a reason and a "
            "date) or may be deleted."
        )
        % p,
    )


def _retention_reminder(p: dict[str, Any]) -> tuple[str, str]:
    return (
        ngettext(
            "Reminder: %(count)s retention notice awaits your answer",
            "Reminder: %(count)s retention notices await your answer",
            p["count"],
        )
        % p,
        _("Cases: %(cases)s. Answer keep or delete; unanswered notices go to the privacy officer.") % p,
    )


def _retention_notices_opened_officer(p: dict[str, Any]) -> tuple[str, str]:
    return (
        ngettext(
            "The retention sweep raised %(count)s notice",
            "The retention sweep raised %(count)s notices",
            p["count"],
        )
        % p,
        _("Cases: %(cases)s. The case leads have been asked to keep or delete the data.") % p,
    )


def _retention_escalated(p: dict[str, Any]) -> tuple[str, str]:
    return (
        ngettext(
            "%(count)s retention notice is overdue",
            "%(count)s retention notices are overdue",
            p["count"],
        )
        % p,
        _("Cases: %(cases)s. The case leads did not answer in time.") % p,
    )


def _screening_lapsing(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("Your screening ends on %(until)s") % p,
        _("Your screening is valid until %(until)s. Without a valid screening you lose all access.") % p,
    )


def _screening_lapsing_admin(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("The screening of %(person)s ends on %(until)s") % p,
        _("The screening of %(person)s is valid until %(until)s. Record the renewal when it arrives.") % p,
    )


def _hashtotals_differences(p: dict[str, Any]) -> tuple[str, str]:
    return (
        _("The hashtotals of dataset %(dataset)s of case %(case)s differ") % p,
        _(
            "Delivered and imported data of image %(image)s do not agree: %(changed)s changed, "
            "%(missing)s missing, %(extra)s extra, %(moved)s moved (%(matched)s matched). "
            "The import may be incomplete; see the comparison."
        )
        % p,
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "grant_ending_grantee": _grant_ending_grantee,
    "grant_ending_lead": _grant_ending_lead,
    "access_requested": _access_requested,
    "request_answered": _request_answered,
    "retention_notices_opened": _retention_notices_opened,
    "retention_reminder": _retention_reminder,
    "retention_notices_opened_officer": _retention_notices_opened_officer,
    "retention_escalated": _retention_escalated,
    "screening_lapsing": _screening_lapsing,
    "screening_lapsing_admin": _screening_lapsing_admin,
    "hashtotals_differences": _hashtotals_differences,
}


def render(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    renderer = RENDERERS.get(kind)
    if renderer is None:
        return kind, ""
    try:
        return renderer(params)
    except (KeyError, TypeError, ValueError):
        return kind, ""
