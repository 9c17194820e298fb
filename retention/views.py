"""Browser pages for retention: the privacy officer's dashboard and policies, the case lead's notices
with the two answers, the operator's removal tasks. Plain forms, no JavaScript; every write goes
through the same service as the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actor import Actor
from hansken_governance.environments import Environment
from people.roles import Role, has_role
from retention import selectors, services
from retention.forms import (
    ConfirmRemovalForm,
    DeleteForm,
    KeepForm,
    OverrideForm,
    PolicyForm,
)
from retention.models import NoticeStatus, RemovalStatus, RetentionNotice
from retention.policies import policy_map

View = Callable[..., HttpResponse]


def role_required(*roles: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# The privacy officer


@role_required(Role.PRIVACY_OFFICER)
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    idle_count, idle = selectors.idle_datasets(now=now)
    notices = RetentionNotice.objects.select_related("case", "dataset", "decided_by")
    context = {
        "idle_count": idle_count,
        "idle": idle,
        "open_notices": notices.filter(status=NoticeStatus.OPEN).order_by("created_at", "pk")[:100],
        "open_count": notices.filter(status=NoticeStatus.OPEN).count(),
        "overdue": selectors.overdue_notices(now=now).order_by("escalate_at", "pk")[:100],
        "decisions": notices.filter(decided_at__isnull=False).order_by("-decided_at", "-pk")[:50],
        "open_removals": selectors.removal_tasks().filter(status=RemovalStatus.OPEN).count(),
        **_policy_context(),
    }
    return render(request, "retention/dashboard.html", context)


def _policy_context() -> dict[str, Any]:
    policies = policy_map()
    return {
        "environment_policies": [
            {"value": env.value, "label": env.label, **asdict(policies.environments[env.value])}
            for env in Environment
        ],
        "overrides": selectors.cases_with_override().order_by("case_number"),
    }


@role_required(Role.PRIVACY_OFFICER)
def policies(request: HttpRequest) -> HttpResponse:
    environment_forms = {
        row["value"]: PolicyForm(initial=row, prefix=row["value"])
        for row in _policy_context()["environment_policies"]
    }
    override_form = OverrideForm(prefix="override")
    by = Actor.from_request(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in environment_forms:
            form = PolicyForm(request.POST, prefix=action)
            environment_forms[action] = form
            if form.is_valid() and _saved(
                form, lambda: services.policy_set(environment=action, by=by, **form.cleaned_data)
            ):
                messages.success(
                    request,
                    _("The policy of %(environment)s is saved.") % {"environment": Environment(action).label},
                )
                return redirect("retention-policies")
        elif action == "override":
            override_form = OverrideForm(request.POST, prefix="override")
            if override_form.is_valid():
                data = dict(override_form.cleaned_data)
                case = data.pop("case")
                if _saved(override_form, lambda: services.policy_set(case=case, by=by, **data)):
                    messages.success(
                        request, _("The policy of case %(case)s is saved.") % {"case": case.case_number}
                    )
                    return redirect("retention-policies")
        elif action == "remove-override":
            case = get_object_or_404(
                selectors.cases_with_override(), case_number=request.POST.get("case", "")
            )
            services.policy_override_remove(case=case, by=by)
            messages.success(
                request,
                _("Case %(case)s follows its environments' policies again.") % {"case": case.case_number},
            )
            return redirect("retention-policies")
    context = {
        **_policy_context(),
        "environment_forms": [
            {"value": env.value, "label": env.label, "form": environment_forms[env.value]}
            for env in Environment
        ],
        "override_form": override_form,
    }
    return render(
        request, "retention/policies.html", context, status=400 if request.method == "POST" else 200
    )


def _saved(form: Any, save: Callable[[], Any]) -> bool:
    try:
        save()
    except ValidationError as error:
        form.add_service_error(error)
        return False
    return True


# The case lead


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    mine = selectors.notices_to_answer(request.user)
    return render(
        request,
        "retention/notices.html",
        {
            "open_notices": mine.filter(status=NoticeStatus.OPEN).order_by("created_at", "pk"),
            "answered": mine.exclude(status=NoticeStatus.OPEN).order_by("-closed_at", "-pk")[:50],
        },
    )


@login_required
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_to_answer(request.user, notice_id)
    keep_form, delete_form = KeepForm(), DeleteForm()
    status = 200
    if request.method == "POST" and notice.status == NoticeStatus.OPEN:
        decision = request.POST.get("decision")
        form: KeepForm | DeleteForm
        if decision == services.Decision.KEEP:
            form = keep_form = KeepForm(request.POST)
        else:
            form = delete_form = DeleteForm(request.POST)
        if form.is_valid():
            try:
                services.notice_decide(
                    notice=notice,
                    decision=services.Decision.KEEP
                    if isinstance(form, KeepForm)
                    else services.Decision.DELETE,
                    reason=form.cleaned_data["reason"],
                    keep_until=form.cleaned_data.get("keep_until"),
                    decided_by=_person(request),
                    by=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                if isinstance(form, KeepForm):
                    messages.success(request, _("The data is kept; the decision is recorded."))
                else:
                    messages.success(request, _("Deletion requested: the operators will remove the data."))
                return redirect("retention-notices")
        status = 400
    return render(
        request,
        "retention/notice_detail.html",
        {"notice": notice, "keep_form": keep_form, "delete_form": delete_form},
        status=status,
    )


# The operator


@role_required(Role.OPERATOR)
def removals(request: HttpRequest) -> HttpResponse:
    forms: dict[int, ConfirmRemovalForm] = {}
    status = 200
    if request.method == "POST":
        task = get_object_or_404(selectors.removal_tasks(), pk=request.POST.get("task") or 0)
        form = ConfirmRemovalForm(request.POST, prefix=f"task-{task.pk}")
        if form.is_valid():
            try:
                services.removal_confirm(
                    task=task,
                    environment=task.environment,
                    removed_at=form.cleaned_data["removed_at"],
                    reference=form.cleaned_data["reference"],
                    confirmed_by=_person(request),
                    by=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("Removal from %(environment)s confirmed.")
                    % {"environment": _environment_label(task.environment)},
                )
                return redirect("retention-removals")
        forms[task.pk] = form
        status = 400
    open_tasks = list(
        selectors.removal_tasks().filter(status=RemovalStatus.OPEN).order_by("requested_at", "pk")
    )
    rows = [
        {
            "task": task,
            "environment": _environment_label(task.environment),
            "form": forms.get(task.pk) or ConfirmRemovalForm(prefix=f"task-{task.pk}"),
        }
        for task in open_tasks
    ]
    done = [
        {"task": task, "environment": _environment_label(task.environment)}
        for task in selectors.removal_tasks()
        .filter(status=RemovalStatus.CONFIRMED)
        .order_by("-confirmed_at", "-pk")[:50]
    ]
    return render(request, "retention/removals.html", {"rows": rows, "done": done}, status=status)


def _environment_label(value: str) -> str:
    return str(Environment(value).label) if value in Environment.values else value
