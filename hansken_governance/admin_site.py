"""The administration site: for people holding the administrator role, and for nothing that changes
case access.

Why our own site rather than ``django.contrib.admin.site``:
- Who may enter is decided by the administrator role (``people.roles``), not by Django's model
  permissions or ``is_superuser``. Our administrators are ordinary people with one role; a superuser
  flag set behind our back opens nothing here.
- Only what we register here is reachable. Django's own registrations on the default site (users and
  groups with their direct-write forms, auditlog's entries) never appear; grants, grant versions,
  access requests and deputy permissions are not registered at all, because authorisations belong
  to the case lead (seed measure 3).
- Every write goes through a service, which records its audit event in the same transaction. The
  base ``GovernanceModelAdmin`` refuses every direct write and deletion; subclasses route the writes
  they allow to services. Django's own admin log (``LogEntry``) is not written: it would be a second,
  unchained history beside the audit trail.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from people.roles import Role, has_role


def is_administrator(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "is_active", False)
        and has_role(user, Role.ADMINISTRATOR)
    )


class AdministratorAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, admitting by role instead of by ``is_staff``."""

    def confirm_login_allowed(self, user: AbstractBaseUser) -> None:
        if not is_administrator(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """An administrator's own password change, stored through ``people.services`` so it is audited."""

    def __init__(self, user: User, *args: Any, by: Actor, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.by = by

    def save(self, commit: bool = True) -> Any:
        from people.services import person_set_password

        person_set_password(person=self.user, password=self.cleaned_data["new_password1"], by=self.by)
        return self.user


class GovernanceAdminSite(admin.AdminSite):
    site_header = _("Hansken Governance administration")
    site_title = _("Hansken Governance administration")
    index_title = _("People, API clients and cases")
    site_url = "/"
    login_form = AdministratorAuthenticationForm

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        # Deleting would bypass the services and their audit events; people are deactivated instead.
        self.disable_action("delete_selected")

    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The admin's sign-in is our password form with the administrator check
        (``people.views.SignInView``), so it leads to the same second step: Django's own admin login
        would call ``login()`` after the password alone and bypass the second factor."""
        from django.contrib.auth import REDIRECT_FIELD_NAME

        from people.views import SignInView

        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context: dict[str, Any] = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        response = SignInView.as_view(
            extra_context=context,
            authentication_form=self.login_form,
            template_name="admin/login.html",
            redirect_authenticated_user=False,
        )(request)
        assert isinstance(response, HttpResponse)  # the form, a redirect or the lockout page
        return response

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from django.contrib.auth.views import PasswordChangeView

        view = PasswordChangeView.as_view(
            form_class=functools.partial(ServicePasswordChangeForm, by=Actor.from_request(request)),
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )
        request.current_app = self.name
        return view(request)


site = GovernanceAdminSite(name="admin")


class GovernanceModelAdmin(admin.ModelAdmin):
    """Read-only for administrators, and no direct writes for anyone. A subclass that allows adding
    or changing overrides ``has_add_permission`` / ``has_change_permission`` and ``save_model``, and
    calls a service there."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise PermissionDenied

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Django would save many-to-many fields and inlines directly here; a subclass's save_model has
        # already written everything through its service.
        return None

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A service refused after the form had passed (e.g. someone else took the same name a
            # moment earlier). Its transaction and the admin's around it rolled back: nothing stored.
            report_refusal(request, self, error)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        raise PermissionDenied

    # Django's admin log would be a second, unchained history beside the audit trail: not written.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        return None


def report_refusal(request: HttpRequest, model_admin: admin.ModelAdmin, error: ValidationError) -> None:
    """Show a service's refusal as an error message (actions have no form to show it on)."""
    from django.contrib import messages

    for message in error.messages:
        model_admin.message_user(request, message, level=messages.ERROR)
