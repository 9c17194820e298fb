"""The review pages of the audit trail: the search, one case's timeline, who could act at a moment
(per case and per person), and a CSV download of each.

The privacy officer and the security manager review everything; case leads and deputies the trail
of their own cases (``audit.selectors.review_scope``, the scoping door with ``REVIEW_AUDIT``);
everybody else gets a 403, and a case outside someone's scope is a 404. Every opening, and every
download, is itself written to the trail (``audit.viewed``; downloads with ``export``) after the
read, so a page never lists its own opening. Pages go by keyset on the sequence number, never by
OFFSET: the trail holds millions of rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit import actions, exports, services
from audit.actor import Actor
from audit.forms import AccessAtForm, EventSearchForm, PersonAtForm, TimelineForm
from audit.models import AuditEvent, Basis, Outcome
from audit.selectors import (
    BadKeyset,
    EventFilters,
    ReviewScope,
    filtered_events,
    newest_first_page,
    review_scope,
    time_order_page,
    trail_head,
)
from authz import actions as authz_actions
from authz.selectors import access_at, access_of_person_at
from cases.models import Case
from hansken_governance.query_numbers import whole_number
from privacy_statement import actions as privacy_actions
from retention import actions as retention_actions
from siem import actions as siem_actions

PAGE_SIZE = 50
MAX_DETAIL = 160
SUMMARY_DETAILS = frozenset(
    {"grantee", "person", "requester", "reason", "note", "kind", "view", "export", "error"}
)
_MAX_SEQUENCE = 2**63 - 1


def _action_codes(*modules: ModuleType) -> list[str]:
    """The documented vocabulary, offered as suggestions in the action filter."""
    codes = {
        value
        for module in modules
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }
    return sorted(codes)


ACTION_CODES = _action_codes(actions, authz_actions, retention_actions, siem_actions, privacy_actions)


def _scope(request: HttpRequest) -> ReviewScope:
    scope = review_scope(request)
    if scope is None:
        raise PermissionDenied
    return scope


def _position(params: QueryDict, name: str) -> int | None:
    value = params.get(name, "")
    if not value:
        return None
    number = whole_number(value, 1, _MAX_SEQUENCE)
    if number is None:
        raise BadKeyset
    return number


def _query(params: QueryDict, **changes: Any) -> str:
    """The current filters with the page position replaced, for the next/previous links."""
    query = params.copy()
    for name in ("before", "after"):
        query.pop(name, None)
    for name, value in changes.items():
        query[name] = str(value)
    return query.urlencode()


@dataclass
class EventPage:
    rows: list[dict[str, Any]]
    previous_query: str | None  # the link to the newer (search) or earlier (timeline) page
    next_query: str | None


def _details_text(details: Any) -> list[tuple[str, str]]:
    """The event's details as short key/value pairs for the table (the CSV has them whole)."""
    if not isinstance(details, dict):
        return [("", str(details)[:MAX_DETAIL])] if details else []
    pairs = []
    for key, value in details.items():
        if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, dict):
            text = exports.safe_cell(value)
        else:
            text = str(value)
        pairs.append((str(key), text if len(text) <= MAX_DETAIL else f"{text[: MAX_DETAIL - 1]}…"))
    return pairs


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    numbers = exports.case_numbers(row["project_id"] for row in rows)
    basis_labels = dict(Basis.choices)
    outcome_labels = dict(Outcome.choices)
    for row in rows:
        row["case_number"] = numbers.get(row["project_id"], "")
        pairs = _details_text(row["details"])
        # The few details that say who and why stay in sight; the rest folds away (the CSV has all).
        row["detail_pairs"] = [pair for pair in pairs if pair[0] in SUMMARY_DETAILS]
        row["more_details"] = [pair for pair in pairs if pair[0] not in SUMMARY_DETAILS]
        row["basis_label"] = basis_labels.get(row["basis"], row["basis"])
        row["outcome_label"] = outcome_labels.get(row["outcome"], row["outcome"])
    return rows


def _newest_first(
    scope: ReviewScope, filters: EventFilters, params: QueryDict, before: int | None, after: int | None
) -> EventPage:
    rows, newer, older = newest_first_page(
        scope=scope, filters=filters, before=before, after=after, limit=PAGE_SIZE
    )
    return EventPage(
        rows=_shown(rows),
        previous_query=_query(params, after=rows[0]["sequence"]) if newer else None,
        next_query=_query(params, before=rows[-1]["sequence"]) if older else None,
    )


def _in_time_order(
    events: QuerySet[AuditEvent], params: QueryDict, before: int | None, after: int | None
) -> EventPage:
    rows, earlier, later = time_order_page(events, before=before, after=after, limit=PAGE_SIZE)
    return EventPage(
        rows=_shown(rows),
        previous_query=_query(params, before=rows[0]["sequence"]) if earlier else None,
        next_query=_query(params, after=rows[-1]["sequence"]) if later else None,
    )


def _bad_position_message() -> str:
    return _("This page position is not one these pages handed out. Start again from the first page.")


def _opened(request: HttpRequest, view: str, filters: dict[str, Any], project_id: Any, export: bool) -> None:
    services.audit_opened(
        by=Actor.from_request(request), view=view, filters=filters, project_id=project_id, export=export
    )


# --- the search ---------------------------------------------------------------------------------------


def _search(request: HttpRequest, *, export: bool) -> HttpResponseBase:
    scope = _scope(request)
    form = EventSearchForm(request.GET, scope=scope)
    context: dict[str, Any] = {"form": form, "action_codes": ACTION_CODES, "everything": scope.everything}
    try:
        before, after = _position(request.GET, "before"), _position(request.GET, "after")
    except BadKeyset:
        context["position_error"] = _bad_position_message()
        return render(request, "audit/search.html", context, status=400)
    if not form.is_valid():
        return render(request, "audit/search.html", context, status=400)
    filters = form.filters()
    if export:
        up_to = trail_head()
        _opened(request, "search", filters.as_details(), filters.project_id, export=True)
        return exports.csv_response(
            exports.newest_first(filtered_events(scope=scope, filters=filters), up_to=up_to),
            header=exports.EVENT_COLUMNS,
            filename="audit-trail.csv",
        )
    page = _newest_first(scope, filters, request.GET, before, after)
    position = {"before": before} if before else {"after": after} if after else {}
    _opened(request, "search", {**filters.as_details(), **position}, filters.project_id, export=False)
    context.update(page=page, export_query=_query(request.GET))
    return render(request, "audit/search.html", context)


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponseBase:
    return _search(request, export=False)


@login_required
@require_GET
def search_export(request: HttpRequest) -> HttpResponseBase:
    return _search(request, export=True)


# --- one case's timeline ------------------------------------------------------------------------------


def _reviewable_case(scope: ReviewScope, project_id: uuid.UUID) -> Case:
    case = Case.objects.select_related("case_lead").filter(project_id=project_id).first()
    if case is None or not scope.covers(case.project_id):
        raise Http404
    return case


def _timeline(request: HttpRequest, project_id: uuid.UUID, *, export: bool) -> HttpResponseBase:
    scope = _scope(request)
    case = _reviewable_case(scope, project_id)
    form = TimelineForm(request.GET)
    context: dict[str, Any] = {"case": case, "form": form}
    try:
        before, after = _position(request.GET, "before"), _position(request.GET, "after")
    except BadKeyset:
        context["position_error"] = _bad_position_message()
        return render(request, "audit/timeline.html", context, status=400)
    if not form.is_valid():
        return render(request, "audit/timeline.html", context, status=400)
    filters = EventFilters(project_id=case.project_id, since=form.since(), until=form.until())
    events = filtered_events(scope=scope, filters=filters)
    grant_id = form.cleaned_data.get("grant")
    if grant_id:
        events = events.filter(grant_id=grant_id)
    recorded = {**filters.as_details(), **({"grant": str(grant_id)} if grant_id else {})}
    if export:
        up_to = trail_head()
        _opened(request, "timeline", recorded, case.project_id, export=True)
        return exports.csv_response(
            exports.in_time_order(events, up_to=up_to),
            header=exports.EVENT_COLUMNS,
            filename=f"audit-timeline-{case.case_number}.csv",
        )
    try:
        page = _in_time_order(events, request.GET, before, after)
    except BadKeyset:
        context["position_error"] = _bad_position_message()
        return render(request, "audit/timeline.html", context, status=400)
    _opened(request, "timeline", recorded, case.project_id, export=False)
    context.update(page=page, grant_id=grant_id, export_query=_query(request.GET))
    return render(request, "audit/timeline.html", context)


@login_required
@require_GET
def timeline(request: HttpRequest, project_id: uuid.UUID) -> HttpResponseBase:
    return _timeline(request, project_id, export=False)


@login_required
@require_GET
def timeline_export(request: HttpRequest, project_id: uuid.UUID) -> HttpResponseBase:
    return _timeline(request, project_id, export=True)


# --- who could act at a moment ------------------------------------------------------------------------


def _asked(request: HttpRequest, names: tuple[str, ...]) -> bool:
    """A question was asked (the page opened bare shows only the form, and opens nothing)."""
    return any(request.GET.get(name) for name in names)


def _access_at(request: HttpRequest, *, export: bool) -> HttpResponseBase:
    scope = _scope(request)
    asked = _asked(request, ("case", "date", "time"))
    form = AccessAtForm(request.GET if asked or export else None, scope=scope)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "audit/access_at.html", context)
    if not form.is_valid():
        return render(request, "audit/access_at.html", context, status=400)
    case, at = form.resolved_case, form.moment()
    assert case is not None  # the form resolved a registered case within scope
    rows = access_at(case, at)
    recorded = {"project_id": str(case.project_id), "at": at.isoformat()}
    _opened(request, "access_at", recorded, case.project_id, export=export)
    if export:
        return exports.csv_response(
            exports.access_rows(at, [(case, row) for row in rows]),
            header=exports.ACCESS_COLUMNS,
            filename=f"access-at-{case.case_number}.csv",
        )
    context.update(case=case, at=at, rows=rows, export_query=request.GET.urlencode())
    return render(request, "audit/access_at.html", context)


@login_required
@require_GET
def access_at_page(request: HttpRequest) -> HttpResponseBase:
    return _access_at(request, export=False)


@login_required
@require_GET
def access_at_export(request: HttpRequest) -> HttpResponseBase:
    return _access_at(request, export=True)


def _person_at(request: HttpRequest, *, export: bool) -> HttpResponseBase:
    scope = _scope(request)
    asked = _asked(request, ("person", "date", "time"))
    form = PersonAtForm(request.GET if asked or export else None, scope=scope)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "audit/person_at.html", context)
    if not form.is_valid():
        return render(request, "audit/person_at.html", context, status=400)
    person, at = form.cleaned_data["person"], form.moment()
    # A case lead sees only their own cases in the answer, as everywhere in the review.
    rows = [(case, row) for case, row in access_of_person_at(person, at) if scope.covers(case.project_id)]
    recorded = {"user": person.get_username(), "at": at.isoformat()}
    _opened(request, "person_at", recorded, None, export=export)
    if export:
        return exports.csv_response(
            exports.access_rows(at, rows),
            header=exports.ACCESS_COLUMNS,
            filename=f"access-of-{person.get_username()}.csv",
        )
    context.update(person=person, at=at, rows=rows, export_query=request.GET.urlencode())
    return render(request, "audit/person_at.html", context)


@login_required
@require_GET
def person_at_page(request: HttpRequest) -> HttpResponseBase:
    return _person_at(request, export=False)


@login_required
@require_GET
def person_at_export(request: HttpRequest) -> HttpResponseBase:
    return _person_at(request, export=True)
