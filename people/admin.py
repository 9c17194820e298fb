"""People in the administration: the login, the profile (employee number, screening), the roles and
the active flag, on one form. Nothing here writes a model: each change calls its service in
``people.services`` and so leaves its own audit event. People are never deleted, only deactivated
(which revokes every grant they hold).

Profile and roles are fields of the person's form rather than an inline and a group widget: then one
``save_model`` sees the whole change and can hand each part to its service, and Django never saves a
profile or a group membership behind the services' back.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actor import Actor
from hansken_governance.admin_site import GovernanceModelAdmin, is_administrator, site
from people.models import Profile
from people.roles import CASE_ROLES, Role, roles_of
from people.services import (
    needs_four_eyes,
    person_create,
    person_deactivate,
    person_reactivate,
    person_update_details,
)
from people.services.proposals import person_create_propose, person_roles_propose, person_screening_propose

PROPOSED_ATTR = "_hg_people_proposed"
DETAIL_FIELDS = ("first_name", "last_name", "email", "employee_number")
SCREENING_FIELDS = ("screening_valid_until", "screening_reference")
# What nobody changes about themselves (see people.services._refuse_own).
OWN_LOCKED_FIELDS = ("roles", *SCREENING_FIELDS, "is_active")


class PersonForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=capfirst(_("roles")), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    employee_number = forms.CharField(label=capfirst(_("employee number")), max_length=32, required=False)
    screening_valid_until = forms.DateField(
        label=capfirst(_("screening valid until")),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Last day on which the person's screening is valid. Without it, no access."),
    )
    screening_reference = forms.CharField(
        label=capfirst(_("screening reference")), max_length=100, required=False
    )
    change_reason = forms.CharField(
        label=capfirst(_("reason for the change of roles or screening")),
        required=False,
        max_length=500,
        help_text=_(
            "A new person with a case or administrator role, and every change of roles or screening, "
            "waits for a second administrator's approval; they see this reason."
        ),
    )

    # Set per request by PersonAdmin.get_form: is the administrator looking at themselves?
    editing_self = False

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person = self.instance
        if person.pk:
            profile = Profile.objects.filter(user=person).first()
            self.initial.setdefault("roles", sorted(roles_of(person)))
            self.initial.setdefault("employee_number", profile.employee_number if profile else "")
            self.initial.setdefault(
                "screening_valid_until", profile.screening_valid_until if profile else None
            )
            self.initial.setdefault("screening_reference", profile.screening_reference if profile else "")
        if self.editing_self:
            for name in OWN_LOCKED_FIELDS:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Another administrator changes this for you.")

    def clean_roles(self) -> list[str]:
        roles: list[str] = self.cleaned_data.get("roles") or []
        if Role.ADMINISTRATOR in roles and CASE_ROLES & set(roles):
            raise ValidationError(
                _("The administrator role cannot be combined with case lead, investigator or engineer.")
            )
        return roles

    def clean_employee_number(self) -> str:
        number: str = self.cleaned_data.get("employee_number") or ""
        taken = Profile.objects.filter(employee_number=number)
        if self.instance.pk:
            taken = taken.exclude(user_id=self.instance.pk)
        if number and taken.exists():
            raise ValidationError(_("This employee number is already in use."))
        return number


class PersonAddForm(PersonForm):
    password = forms.CharField(
        label=capfirst(_("password")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty for a person who signs in through single sign-on only."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            # Checked against the person as filled in, so "too similar to the username" is caught.
            candidate = User(
                username=cleaned.get("username") or "",
                first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
                email=cleaned.get("email") or "",
            )
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


class PersonChangeForm(PersonForm):
    is_active = forms.BooleanField(
        label=capfirst(_("active")),
        required=False,
        help_text=_("Deactivating revokes every grant the person holds; reactivating restores none."),
    )
    status_reason = forms.CharField(
        label=capfirst(_("reason for (de)activation")),
        required=False,
        max_length=500,
        help_text=_("Required when the active flag changes; recorded in the audit trail."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("is_active", self.instance.is_active)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "is_active" in self.changed_data and not (cleaned.get("status_reason") or "").strip():
            self.add_error("status_reason", _("Say why the person is deactivated or reactivated."))
        return cleaned


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        return list(Role.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(groups__name=value) if value else queryset


@admin.register(User, site=site)
class PersonAdmin(GovernanceModelAdmin):
    form = PersonChangeForm
    add_form = PersonAddForm
    list_display = (
        "username",
        "full_name",
        "employee_number_of",
        "role_list",
        "screened_until",
        "second_factor",
        "is_active",
    )
    list_filter = ("is_active", RoleFilter)
    search_fields = ("username", "first_name", "last_name", "email", "profile__employee_number")
    ordering = ("username",)
    readonly_fields = ("username", "last_login", "date_joined")
    add_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email", "employee_number", "password")}),
        (_("Roles"), {"fields": ("roles",)}),
        (_("Screening"), {"fields": SCREENING_FIELDS}),
        (_("Approval"), {"fields": ("change_reason",)}),
    )
    change_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email", "employee_number")}),
        (_("Roles"), {"fields": ("roles",)}),
        (_("Screening"), {"fields": SCREENING_FIELDS}),
        (_("Approval"), {"fields": ("change_reason",)}),
        (_("Status"), {"fields": ("is_active", "status_reason", "last_login", "date_joined")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # Whether the person has set up a second factor, in the list's one query (no query per row).
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            super()
            .get_queryset(request)
            .select_related("profile")
            .prefetch_related("groups")
            .annotate(second_factor_enrolled=Exists(enrolled))
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = self.add_form if obj is None else self.form
        form = cast(type[PersonForm], super().get_form(request, obj, change, **kwargs))
        form.editing_self = obj is not None and obj.pk == request.user.pk
        return form

    @admin.display(description=_("name"))
    def full_name(self, person: User) -> str:
        return person.get_full_name()

    @admin.display(description=_("employee number"))
    def employee_number_of(self, person: User) -> str:
        profile = getattr(person, "profile", None)
        return (profile.employee_number or "") if profile else ""

    @admin.display(description=_("second factor"), boolean=True)
    def second_factor(self, person: User) -> bool:
        return bool(getattr(person, "second_factor_enrolled", False))

    @admin.display(description=_("screening valid until"))
    def screened_until(self, person: User) -> Any:
        profile = getattr(person, "profile", None)
        return profile.screening_valid_until if profile else None

    @admin.display(description=_("roles"))
    def role_list(self, person: User) -> str:
        # From the prefetched groups: no query per row.
        names = {group.name for group in person.groups.all()}
        return ", ".join(str(label) for value, label in Role.choices if value in names)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        by = Actor.from_request(request)
        administrator = cast(User, request.user)
        data = form.cleaned_data
        reason = data.get("change_reason") or ""
        proposed: list[str] = []
        # Read by response_add / response_change: what waits for a second administrator.
        setattr(request, PROPOSED_ATTR, proposed)
        if not change:
            details: dict[str, Any] = {
                "username": data["username"],
                "roles": data["roles"],
                "screened_until": data.get("screening_valid_until"),
                "screening_reference": data.get("screening_reference") or "",
                "password": data.get("password") or None,
                "email": data.get("email") or "",
                "first_name": data.get("first_name") or "",
                "last_name": data.get("last_name") or "",
                "employee_number": data.get("employee_number") or None,
            }
            if needs_four_eyes(data["roles"]):
                person_create_propose(**details, proposed_by=administrator, by=by, reason=reason)
                proposed.append(data["username"])
                return
            person = person_create(**details, by=by)
            # The admin goes on with the form's unsaved instance (for the message and the redirect).
            obj.pk = person.pk
            return
        # A fresh copy: ``obj`` already carries the form's new values.
        person = User.objects.get(pk=obj.pk)
        changed = set(form.changed_data)
        if changed & set(DETAIL_FIELDS):
            person_update_details(
                person=person,
                by=by,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                employee_number=data.get("employee_number") or None,
            )
        if "roles" in changed:
            person_roles_propose(
                person=person, roles=data["roles"], proposed_by=administrator, by=by, reason=reason
            )
            proposed.append(person.get_username())
        if changed & set(SCREENING_FIELDS):
            person_screening_propose(
                person=person,
                valid_until=data.get("screening_valid_until"),
                reference=data.get("screening_reference") or "",
                proposed_by=administrator,
                by=by,
                reason=reason,
            )
            proposed.append(person.get_username())
        if "is_active" in changed:
            reason = data["status_reason"].strip()
            if data["is_active"]:
                person_reactivate(person=person, reason=reason, by=by)
            else:
                person_deactivate(person=person, reason=reason, by=by)

    def _proposed_response(self, request: HttpRequest) -> HttpResponse | None:
        if not getattr(request, PROPOSED_ATTR, None):
            return None
        self.message_user(
            request,
            _("Saved as a proposal: a second administrator must approve it before it takes effect."),
            level=messages.INFO,
        )
        return HttpResponseRedirect(reverse("person-proposals"))

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._proposed_response(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        return self._proposed_response(request) or super().response_change(request, obj)
