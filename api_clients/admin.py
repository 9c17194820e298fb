"""API clients and personal tokens in the administration.

A client is created through ``api_client_create``; its token is shown once, on the page that answers
the creation itself (not through a message, which would sit in a cookie or the session until read),
and never again: only its digest is stored. Clients are never edited or deleted, only deactivated;
personal tokens are only listed and revoked. Each of these goes through its service and is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api_clients.models import ApiClient, PersonalToken
from api_clients.scopes import Scope
from api_clients.services import (
    api_client_clean_terms,
    api_client_create,
    api_client_deactivate,
    personal_token_revoke,
)
from audit.actor import Actor
from hansken_governance.admin_site import GovernanceModelAdmin, is_administrator, site

# Where save_model leaves the new client and its token for response_add, on this request only.
_CREATED_ATTR = "_hg_created_api_client"


class ApiClientCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=capfirst(_("scopes")), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.SplitDateTimeField(
        label=capfirst(_("expires at")),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_("Leave empty for the default lifetime of a token."),
    )
    allowed_sources = forms.CharField(
        label=capfirst(_("allowed source addresses")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One address or network (CIDR) per line; empty allows any."),
    )

    class Meta:
        model = ApiClient
        fields = ("name", "environment")

    def clean_allowed_sources(self) -> list[str]:
        text: str = self.cleaned_data.get("allowed_sources") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        # The service's own checks (experiment scopes, addresses, expiry), shown on their fields.
        try:
            api_client_clean_terms(
                name=cleaned["name"],
                environment=cleaned["environment"],
                scopes=cleaned["scopes"],
                expires_at=cleaned.get("expires_at"),
                allowed_sources=cleaned.get("allowed_sources") or [],
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(ApiClient, site=site)
class ApiClientAdmin(GovernanceModelAdmin):
    add_form = ApiClientCreateForm
    list_display = (
        "name",
        "environment",
        "scope_list",
        "token_hint",
        "expires_at",
        "last_used_at",
        "is_active",
    )
    list_filter = ("environment", "is_active")
    search_fields = ("name",)
    actions = ("deactivate_clients",)
    # What the view page shows; nothing on it can be changed (and the digest is never shown).
    fields = (
        "name",
        "environment",
        "scope_list",
        "token_hint",
        "expires_at",
        "allowed_sources",
        "is_active",
        "last_used_at",
        "created_at",
        "created_by",
    )
    readonly_fields = ("scope_list",)
    add_fields = ("name", "environment", "scopes", "expires_at", "allowed_sources")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_deactivate_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("scopes"))
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:  # clients are never edited; the view page has no save button either
            raise PermissionDenied
        data = form.cleaned_data
        client, token = api_client_create(
            name=data["name"],
            environment=data["environment"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            allowed_sources=data.get("allowed_sources") or [],
            by=Actor.from_request(request),
        )
        obj.pk = client.pk
        setattr(request, _CREATED_ATTR, (client, token))

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        created = getattr(request, _CREATED_ATTR, None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        client, token = created
        context = {
            **self.admin_site.each_context(request),
            "title": _("API client created"),
            "opts": self.opts,
            "client": client,
            "token": token,
            "changelist_url": reverse("admin:api_clients_apiclient_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/api_clients/apiclient/token_created.html", context)

    @admin.action(description=_("Deactivate the selected API clients"), permissions=["deactivate"])
    def deactivate_clients(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        by = Actor.from_request(request)
        done = sum(
            api_client_deactivate(client=client, by=by, reason="Deactivated in the administration")
            for client in queryset
        )
        self.message_user(
            request,
            ngettext("%(count)d API client deactivated.", "%(count)d API clients deactivated.", done)
            % {"count": done},
            messages.SUCCESS,
        )


@admin.register(PersonalToken, site=site)
class PersonalTokenAdmin(GovernanceModelAdmin):
    list_display = ("user", "name", "token_hint", "expires_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "name")
    list_select_related = ("user",)
    actions = ("revoke_tokens",)
    fields = ("user", "name", "token_hint", "expires_at", "last_used_at", "revoked_at", "created_at")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    @admin.action(description=_("Revoke the selected personal tokens"), permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[PersonalToken]) -> None:
        by = Actor.from_request(request)
        done = sum(
            personal_token_revoke(token=token, by=by, reason="Revoked in the administration")
            for token in queryset.select_related("user")
        )
        self.message_user(
            request,
            ngettext("%(count)d personal token revoked.", "%(count)d personal tokens revoked.", done)
            % {"count": done},
            messages.SUCCESS,
        )
