"""The start page as work lists: for each role, what waits for this person, each item a link to the
page where it is handled (issue 17).

Every list is read by one selector of the app that owns the data (a single query, or a fixed few for
the chain and the SIEM backlog), cut to ``SHOWN`` rows: the page costs the same number of queries
with ten rows as with ten thousand (``tests/test_start_worklists.py`` compares two sizes). The lists
shown follow the person's roles; the case lead's lists are for anyone who leads or deputises on a
case, since deputies hold the case lead role.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api_clients.selectors import api_clients_ending_soon, personal_tokens_ending_soon
from audit.selectors import chain_state
from authz.selectors import (
    grants_ending_soon_to_manage,
    managed_cases_without_grant_activity,
    my_grants_not_ended,
    my_recent_requests,
    open_requests_to_answer,
)
from authz.templatetags.grant_tags import rights_text, until
from cases.selectors import CasePurpose, cases_for_person
from hashtotals.selectors import active_datasets_without_hashtotals, datasets_with_differences
from people.roles import Role
from people.selectors import people_without_valid_screening, screenings_ending_soon
from privilege.selectors import cases_with_suspected_marks
from retention.selectors import open_notices_to_answer, open_removals
from siem.rules import rule_label
from siem.selectors import backlog, open_alerts

# Rows shown per list; a longer list says so and links to its full page.
SHOWN = 20
# Answered requests stay on the requester's list this long, so the answer is seen.
ANSWERED_SHOWN_FOR = datetime.timedelta(days=30)


@dataclass(frozen=True)
class WorkItem:
    text: str  # the link's text
    url: str
    detail: str = ""
    attention: bool = False  # shown marked: something is wrong, not merely waiting


@dataclass(frozen=True)
class WorkList:
    key: str  # the section's id on the page: worklist-<key>
    title: Promise | str
    empty: Promise | str  # said when nothing waits
    items: list[WorkItem] = field(default_factory=list)
    more_url: str = ""  # the full list, when more rows exist than are shown
    truncated: bool = False


def _day(moment: datetime.datetime | datetime.date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime.datetime):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATE_FORMAT")


def _moment(moment: datetime.datetime | None) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def _work_list(
    key: str,
    title: Promise,
    empty: Promise,
    rows: QuerySet[Any],
    item: Callable[[Any], WorkItem],
    more_url: str = "",
) -> WorkList:
    """One list from the first ``SHOWN`` rows of a query (one more is read, to know there are more)."""
    fetched = list(rows[: SHOWN + 1])  # sliced in SQL: a long list is never read whole
    return WorkList(
        key=key,
        title=title,
        empty=empty,
        items=[item(row) for row in fetched[:SHOWN]],
        more_url=more_url,
        truncated=len(fetched) > SHOWN,
    )


# Case lead and deputies


def case_lead_lists(user: User, now: datetime.datetime) -> list[WorkList]:
    managed = cases_for_person(user, CasePurpose.MANAGE_ACCESS)
    return [
        _work_list(
            "access-requests",
            gettext_lazy("Access requests waiting for your answer"),
            gettext_lazy("No access request waits for your answer."),
            open_requests_to_answer(user),
            lambda r: WorkItem(
                text=_("%(person)s asks for access to %(case)s")
                % {"person": r.requester.get_username(), "case": r.case.case_number},
                url=reverse("access-request-answer", args=[r.case.project_id, r.pk]),
                detail=_("%(rights)s, until %(until)s; asked on %(day)s")
                % {"rights": rights_text(r.rights), "until": until(r.valid_until), "day": _day(r.created_at)},
            ),
            reverse("my-cases"),
        ),
        _work_list(
            "grants-ending",
            gettext_lazy("Grants ending within 14 days"),
            gettext_lazy("No grant on your cases ends within 14 days."),
            grants_ending_soon_to_manage(user, now),
            lambda g: WorkItem(
                text=_("%(person)s on %(case)s")
                % {"person": g.grantee.get_username(), "case": g.case.case_number},
                url=reverse("grant-change", args=[g.case.project_id, g.pk]),
                detail=_("%(rights)s, until %(until)s")
                % {"rights": rights_text(g.rights), "until": until(g.valid_until)},
            ),
            reverse("my-cases"),
        ),
        _work_list(
            "retention-notices",
            gettext_lazy("Retention notices to answer"),
            gettext_lazy("No retention notice waits for your answer."),
            open_notices_to_answer(user),
            lambda n: WorkItem(
                text=_("%(case)s: %(dataset)s")
                % {"case": n.case.case_number, "dataset": n.dataset.description},
                url=reverse("retention-notice", args=[n.pk]),
                detail=_("Not accessed since %(day)s; keep it (with a reason) or have it deleted")
                % {"day": _day(n.idle_since)},
                attention=n.escalated_at is not None,
            ),
            reverse("retention-notices"),
        ),
        _work_list(
            "quiet-cases",
            gettext_lazy("Cases without grant activity"),
            gettext_lazy("Every open case of yours has access in force or a recent change."),
            managed_cases_without_grant_activity(user, now),
            lambda c: WorkItem(
                text=f"{c.case_number} {c.title}",
                url=reverse("case-access", args=[c.project_id]),
                detail=_("Nobody holds a grant in force, and no grant changed in the last 30 days."),
            ),
        ),
        _work_list(
            "privileged-marks",
            gettext_lazy("Traces suspected to be privileged"),
            gettext_lazy("No trace on your cases awaits a privilege review."),
            cases_with_suspected_marks(managed),
            lambda c: WorkItem(
                text=f"{c.case_number} {c.title}",
                url=reverse("case-privileged", args=[c.project_id]),
                detail=_("%(count)s trace(s) withheld until reviewed")
                % {"count": getattr(c, "suspected_marks", 0)},
            ),
        ),
        _work_list(
            "hashtotal-differences",
            gettext_lazy("Hashtotal differences"),
            gettext_lazy("No dataset of your cases shows hashtotal differences."),
            datasets_with_differences(managed),
            lambda d: WorkItem(
                text=_("%(case)s: %(dataset)s") % {"case": d.case.case_number, "dataset": d.description},
                url=reverse("hashtotals-dataset", args=[d.case.project_id, d.image_id]),
                detail=_("The imported data differs from what was delivered."),
                attention=True,
            ),
        ),
    ]


# Investigator and engineer


def grantee_lists(user: User, now: datetime.datetime) -> list[WorkList]:
    return [
        _work_list(
            "my-grants",
            gettext_lazy("My grants"),
            gettext_lazy("You hold no grant in force. Ask the case lead for access."),
            my_grants_not_ended(user, now),
            lambda g: WorkItem(
                text=f"{g.case.case_number} {g.case.title}",
                url=reverse("my-access") + f"#grant-{g.pk}",
                detail=(
                    _("%(rights)s, until %(until)s")
                    if g.valid_from <= now
                    else _("%(rights)s, from %(from)s until %(until)s")
                )
                % {
                    "rights": rights_text(g.rights),
                    "from": _day(g.valid_from),
                    "until": until(g.valid_until),
                },
                attention=g.valid_until <= now + datetime.timedelta(days=14),
            ),
            reverse("my-access"),
        ),
        _work_list(
            "my-requests",
            gettext_lazy("My access requests"),
            gettext_lazy("You have no open request and none answered in the last 30 days."),
            my_recent_requests(user, now - ANSWERED_SHOWN_FOR),
            lambda r: WorkItem(
                text=f"{r.case.case_number} {r.case.title}",
                url=reverse("my-access") + f"#request-{r.pk}",
                detail=_("%(status)s; asked on %(day)s")
                % {"status": r.get_status_display(), "day": _day(r.created_at)},
            ),
            reverse("my-access"),
        ),
    ]


# Operator


def operator_lists(user: User, now: datetime.datetime) -> list[WorkList]:
    return [
        _work_list(
            "removals",
            gettext_lazy("Removals to confirm"),
            gettext_lazy("No removal waits for confirmation."),
            open_removals(),
            lambda t: WorkItem(
                text=_("%(case)s: %(dataset)s in %(environment)s")
                % {
                    "case": t.dataset.case.case_number,
                    "dataset": t.dataset.description,
                    "environment": t.environment,
                },
                url=reverse("retention-removals") + f"#task-{t.pk}-title",
                detail=_("Deletion requested on %(day)s") % {"day": _day(t.requested_at)},
            ),
            reverse("retention-removals"),
        ),
        _work_list(
            "without-hashtotals",
            gettext_lazy("Datasets without hashtotals"),
            gettext_lazy("Every active dataset has both sides' hashtotals."),
            active_datasets_without_hashtotals(),
            lambda d: WorkItem(
                text=_("%(case)s: %(dataset)s") % {"case": d.case.case_number, "dataset": d.description},
                url=reverse("hashtotals-dataset", args=[d.case.project_id, d.image_id]),
                detail=_missing_sides(d),
            ),
            reverse("hashtotals-list"),
        ),
    ]


def _missing_sides(dataset: Any) -> str:
    if not dataset.has_delivered and not dataset.has_imported:
        return _("Neither the delivered nor the imported hashtotals are uploaded.")
    if not dataset.has_delivered:
        return _("The delivered data's hashtotals are missing.")
    return _("The imported data's hashtotals are missing.")


# Privacy officer and security manager


def reviewer_lists(user: User, now: datetime.datetime) -> list[WorkList]:
    state = chain_state()
    chain_items = []
    if state.last_checkpoint is not None:
        chain_items.append(
            WorkItem(
                text=_("Last checkpoint: event %(sequence)s, %(moment)s")
                % {
                    "sequence": state.last_checkpoint.sequence,
                    "moment": _moment(state.last_checkpoint.created_at),
                },
                url=reverse("audit-search"),
                detail=_("The chain was verified up to here when the checkpoint was written."),
            )
        )
    if state.last_failure is not None:
        chain_items.append(
            WorkItem(
                text=_("Verification failed on %(moment)s")
                % {"moment": _moment(state.last_failure.recorded_at)},
                url=reverse("audit-search") + "?" + urlencode({"action": state.last_failure.action}),
                detail=str(state.last_failure.details.get("reason", "")),
                attention=state.failed_since_checkpoint,
            )
        )
    siem = backlog(now)
    siem_item = WorkItem(
        text=(
            _("%(count)s event(s) not yet delivered to the SIEM") % {"count": siem.count}
            if siem.count
            else _("Every event is delivered to the SIEM")
        ),
        url=reverse("monitoring"),
        detail=(
            _("Oldest waiting since %(moment)s") % {"moment": _moment(siem.oldest_recorded_at)}
            if siem.oldest_recorded_at
            else _("Last delivery: %(moment)s") % {"moment": _moment(siem.last_success_at) or _("never")}
        ),
        attention=siem.too_old,
    )
    today = timezone.localdate(now)
    return [
        _work_list(
            "alerts",
            gettext_lazy("Open alerts"),
            gettext_lazy("No alert is open."),
            open_alerts(),
            lambda a: WorkItem(
                text=_("%(rule)s: %(person)s")
                % {"rule": rule_label(a.rule), "person": a.subject_person or "-"},
                url=reverse("monitoring") + f"#alert-{a.pk}",
                detail=_("%(severity)s; seen %(count)s time(s), last on %(moment)s")
                % {"severity": a.get_severity_display(), "count": a.count, "moment": _moment(a.last_seen)},
                attention=True,
            ),
            reverse("monitoring"),
        ),
        WorkList(
            key="chain",
            title=gettext_lazy("The audit trail's chain"),
            empty=gettext_lazy("No checkpoint has been written yet."),
            items=chain_items,
        ),
        WorkList(key="siem", title=gettext_lazy("SIEM backlog"), empty="", items=[siem_item]),
        _work_list(
            "screenings-ending",
            gettext_lazy("Screenings ending within 30 days"),
            gettext_lazy("No screening ends within 30 days."),
            screenings_ending_soon(today),
            lambda u: WorkItem(
                text=u.get_full_name() or u.get_username(),
                url=reverse("audit-person-at") + "?" + urlencode({"user": u.get_username()}),
                detail=_("Screening valid until %(day)s") % {"day": _day(u.profile.screening_valid_until)},
            ),
        ),
    ]


# Administrator


def administrator_lists(user: User, now: datetime.datetime) -> list[WorkList]:
    today = timezone.localdate(now)
    clients = list(api_clients_ending_soon(now)[: SHOWN + 1])
    tokens = list(personal_tokens_ending_soon(now)[: SHOWN + 1])
    credentials = [
        WorkItem(
            text=_("API client %(name)s") % {"name": c.name},
            url=reverse("admin:api_clients_apiclient_change", args=[c.pk]),
            detail=(_("Token ended on %(day)s") if c.expires_at <= now else _("Token ends on %(day)s"))
            % {"day": _day(c.expires_at)},
            attention=c.expires_at <= now,
        )
        for c in clients[:SHOWN]
    ] + [
        WorkItem(
            text=_("Personal token %(name)s of %(person)s")
            % {"name": t.name, "person": t.user.get_username()},
            url=reverse("admin:api_clients_personaltoken_change", args=[t.pk]),
            detail=_("Ends on %(day)s") % {"day": _day(t.expires_at)},
        )
        for t in tokens[:SHOWN]
    ]
    return [
        _work_list(
            "unscreened",
            gettext_lazy("People without a valid screening"),
            gettext_lazy("Every active person holds a valid screening."),
            people_without_valid_screening(today),
            lambda u: WorkItem(
                text=u.get_full_name() or u.get_username(),
                url=reverse("admin:auth_user_change", args=[u.pk]),
                detail=(
                    _("Screening ended on %(day)s") % {"day": _day(u.profile.screening_valid_until)}
                    if getattr(u, "profile", None) and u.profile.screening_valid_until
                    else _("No screening on record")
                ),
                attention=True,
            ),
        ),
        WorkList(
            key="credentials-ending",
            title=gettext_lazy("API clients and tokens ending within 30 days"),
            empty=gettext_lazy("No API client or personal token ends within 30 days."),
            items=credentials,
            truncated=len(clients) > SHOWN or len(tokens) > SHOWN,
        ),
    ]


# Which lists each role sees, in the roles' own order; a list builder shared by two roles runs once.
ROLE_LISTS: dict[str, Callable[[User, datetime.datetime], list[WorkList]]] = {
    Role.CASE_LEAD: case_lead_lists,
    Role.INVESTIGATOR: grantee_lists,
    Role.ENGINEER: grantee_lists,
    Role.OPERATOR: operator_lists,
    Role.PRIVACY_OFFICER: reviewer_lists,
    Role.SECURITY_MANAGER: reviewer_lists,
    Role.ADMINISTRATOR: administrator_lists,
}


def work_lists(user: User, roles: frozenset[str], now: datetime.datetime | None = None) -> list[WorkList]:
    now = now or timezone.now()
    lists: list[WorkList] = []
    done: set[Callable[[User, datetime.datetime], list[WorkList]]] = set()
    for role in Role.values:
        builder = ROLE_LISTS.get(role)
        if role not in roles or builder is None or builder in done:
            continue
        done.add(builder)
        lists.extend(builder(user, now))
    return lists
