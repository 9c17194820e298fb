"""A person's own pages: signing in and out, the start page (their tasks, cases, access and requests
to answer) and notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from authz.selectors import open_requests_to_answer
from notifications.messages import render as render_notification
from notifications.models import Notification
from notifications.services import notification_mark_read
from people import second_factor
from people.roles import Role, roles_of
from people.worklists import work_lists

UNREAD_SHOWN = 20


class SignInView(auth_views.LoginView):
    template_name = "people/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """The password is right. A person asked for a second factor (enrolled, or holding a role
        that requires one) is not signed in yet: they go on to the code, or first to enrolment, and
        that page calls ``login()`` (people.second_factor)."""
        user = form.get_user()
        if not second_factor.asked_of(user):
            return super().form_valid(form)
        second_factor.pending_start(self.request, user, next_url=self.get_success_url())
        step = "sign-in-code" if second_factor.is_enrolled(user) else "sign-in-enrol"
        return HttpResponseRedirect(reverse(step))


class SignOutView(auth_views.LogoutView):
    pass


@dataclass(frozen=True)
class StartTask:
    """One thing a role comes here to do, as shown on the start page."""

    key: str
    title: Promise
    description: Promise
    url_name: str
    link_label: Promise


_MY_CASES = StartTask(
    "my-cases",
    _("My cases"),
    _(
        "The cases you lead or deputise on: their datasets, deputies and status. You decide who gets "
        "access to the case data, and until when."
    ),
    "my-cases",
    _("Open my cases"),
)
_MY_ACCESS = StartTask(
    "my-access",
    _("My access"),
    _(
        "The cases on which a case lead granted you access. Every grant has an end date; ask the case "
        "lead when you need more time or more rights."
    ),
    "my-access",
    _("Show my access"),
)
_REVIEW = StartTask(
    "review",
    _("Review"),
    _(
        "Review the audit trail and the authorisation history of any case: who had access, with which "
        "rights, who granted it and what they did with it."
    ),
    "case-list",
    _("Review cases"),
)
_DATASETS = StartTask(
    "datasets",
    _("Datasets"),
    _(
        "Register imported datasets, upload the hashtotals of delivered data and record deletions. "
        "Authorisations are not yours to manage."
    ),
    "case-list",
    _("Open the cases and their datasets"),
)
_API = StartTask(
    "api",
    _("API documentation"),
    _("The interface that Hansken and operators' scripts use, with every endpoint described."),
    "api-docs",
    _("Read the API documentation"),
)
_PRIVACY = StartTask(
    "privacy-statement",
    _("Privacy statement"),
    _(
        "Draft the privacy statement in Dutch and English, publish new versions, and see who has "
        "acknowledged the version in force."
    ),
    "privacy-manage",
    _("Open the privacy statement"),
)
_ADMIN = StartTask(
    "admin",
    _("Administration"),
    _(
        "Manage people, their screening and the API clients. Administrators cannot grant themselves "
        "access to case data."
    ),
    "admin:index",
    _("Open the administration"),
)

# What each role comes here to do, in the order it is shown on the start page.
START_TASKS: dict[str, list[StartTask]] = {
    Role.CASE_LEAD: [_MY_CASES],
    Role.INVESTIGATOR: [_MY_ACCESS],
    Role.ENGINEER: [_MY_ACCESS],
    Role.OPERATOR: [_DATASETS, _API],
    Role.PRIVACY_OFFICER: [_REVIEW, _PRIVACY, _API],
    Role.SECURITY_MANAGER: [_REVIEW],
    Role.ADMINISTRATOR: [_ADMIN, _API],
}


def start_tasks(roles: frozenset[str]) -> list[dict[str, object]]:
    """The start page's tasks for a person holding ``roles``, each shown once."""
    seen: set[str] = set()
    tasks: list[dict[str, object]] = []
    for role in Role.values:  # the roles' own order, so the page is stable
        if role not in roles:
            continue
        for task in START_TASKS.get(role, []):
            if task.key in seen:
                continue
            seen.add(task.key)
            tasks.append(
                {
                    "key": task.key,
                    "title": task.title,
                    "description": task.description,
                    "url": reverse(task.url_name),
                    "link_label": task.link_label,
                }
            )
    return tasks


def unread_notifications(user: User) -> list[dict[str, object]]:
    """The person's unread notifications, each rendered in the reader's language now (the text is
    not stored, only its kind and parameters)."""
    rows = []
    for notification in Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
        "-created_at"
    )[:UNREAD_SHOWN]:
        subject, body = render_notification(notification.kind, notification.params)
        rows.append(
            {
                "id": notification.pk,
                "subject": subject,
                "body": body,
                "link": notification.link,
                "created_at": notification.created_at,
            }
        )
    return rows


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required lets only people through
    roles = roles_of(user)
    return render(
        request,
        "home.html",
        {
            "work_lists": work_lists(user, roles),
            "tasks": start_tasks(roles),
            "open_requests": list(open_requests_to_answer(user)),
            "notifications": unread_notifications(user),
        },
    )


@require_POST
@login_required
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    # Only the recipient's own notification is touched; anyone else's id changes nothing.
    notification_mark_read(recipient=user, notification_id=notification_id)
    return redirect(reverse("home") + "#notifications")
