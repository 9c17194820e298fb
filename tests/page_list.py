"""Every browser page, with the demo objects it opens (after ``seed_demo``), for the accessibility
check (``tests/browser/test_demo_accessibility.py``). ``tests/test_page_list.py`` proves that every
named route of the browser URL conf is either here or in ``NOT_PAGES`` with the reason, so a page
added later is not silently left out: add it here (with the demo object it shows), or say why not.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from people.management.commands.seed_demo import demo_uuid


def _heron() -> str:
    return str(demo_uuid("heron"))


def _grant_id() -> int:
    from authz.models import Grant

    grant = (
        Grant.objects.filter(case__project_id=demo_uuid("heron"), revoked_at__isnull=True)
        .order_by("pk")
        .first()
    )
    assert grant is not None, "the demo has a grant on Heron"
    return grant.pk


def _open_request_id() -> int:
    from authz.models import AccessRequest, RequestStatus

    found = AccessRequest.objects.filter(
        case__project_id=demo_uuid("heron"), status=RequestStatus.OPEN
    ).first()
    assert found is not None, "the demo has an open request on Heron"
    return found.pk


def _open_notice_id() -> int:
    from retention.models import NoticeStatus, RetentionNotice

    notice = RetentionNotice.objects.filter(status=NoticeStatus.OPEN).order_by("pk").first()
    assert notice is not None, "the demo has an open retention notice"
    return notice.pk


def _draft_id() -> int:
    from privacy_statement.models import StatementVersion

    draft = StatementVersion.objects.filter(published_at__isnull=True).order_by("-pk").first()
    assert draft is not None, "the demo has a draft of the privacy statement"
    return draft.pk


def _demo_release() -> str:
    from test_reports.demo_release import VERSION

    return VERSION


# Route name → its URL's arguments (from the demo's objects).
PAGES: dict[str, Callable[[], list[object]]] = {
    "home": list,
    "person-proposals": list,
    "person-sso-binding": list,
    "second-factor": list,
    "person-second-factor-reset": list,
    "case-list": list,
    "case-detail": lambda: [_heron()],
    "case-deputy-add": lambda: [_heron()],
    "case-deputy-remove": lambda: [_heron(), "deputy.jansen"],
    "case-status": lambda: [_heron(), "closed"],
    "case-privileged": lambda: [_heron()],
    "my-cases": list,
    "my-access": list,
    "access-request-create": list,
    "case-access": lambda: [_heron()],
    "grant-create": lambda: [_heron()],
    "case-sign-off": lambda: [_heron()],
    "grant-change": lambda: [_heron(), _grant_id()],
    "grant-revoke": lambda: [_heron(), _grant_id()],
    "access-request-answer": lambda: [_heron(), _open_request_id()],
    "monitoring": list,
    "retention-dashboard": list,
    "retention-policies": list,
    "retention-notices": list,
    "retention-notice": lambda: [_open_notice_id()],
    "retention-removals": list,
    "audit-search": list,
    "audit-timeline": lambda: [_heron()],
    "audit-access-at": list,
    "audit-person-at": list,
    "hashtotals-list": list,
    "hashtotals-dataset": lambda: [_heron(), str(demo_uuid("heron-laptop"))],
    "privacy-statement": list,
    "privacy-compare": list,
    "privacy-manage": list,
    "privacy-draft": lambda: [_draft_id()],
    "privacy-acknowledgements": lambda: [1],
    "release-list": list,
    "release-detail": lambda: [_demo_release()],
    # Django's admin, for the administrator: the index, the people and the clients (its other pages
    # are the same templates for other models).
    "admin:index": list,
    "admin:auth_user_changelist": list,
    "admin:api_clients_apiclient_changelist": list,
}

# Named browser routes that are not pages to check, and why.
NOT_PAGES: dict[str, str] = {
    "login": "checked signed out, by itself",
    "logout": "a POST that signs out",
    "sign-in-code": "a step of signing in (after the password), checked during the sign-in itself",
    "sign-in-enrol": "a step of signing in (after the password), checked during the sign-in itself",
    "second-factor-recovery-codes": "a POST from the second-factor page",
    "second-factor-remove": "a POST from the second-factor page",
    "person-proposal-approve": "a POST from the proposals page",
    "person-proposal-reject": "a POST from the proposals page",
    "access-request-approve": "a POST from the request's page",
    "access-request-reject": "a POST from the request's page",
    "notification-read": "a POST from the start page",
    "monitoring-acknowledge": "a POST from the monitoring page",
    "privacy-acknowledge": "a POST from the statement's page",
    "privacy-draft-new": "a POST from the management page (starts a draft)",
    "audit-search-export": "a CSV download",
    "audit-timeline-export": "a CSV download",
    "audit-access-at-export": "a CSV download",
    "audit-person-at-export": "a CSV download",
    "hashtotals-csv": "a CSV download",
    "privacy-acknowledgements-csv": "a CSV download",
}


def page_url(name: str) -> str:
    return reverse(name, args=PAGES[name]())
