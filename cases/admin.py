"""Cases and datasets in the administration: to look at, not to change.

Cases and datasets are registered by operators and by Hansken through the API, where each write is
audited; deputies are named by the case lead. So here everything is read-only, nothing is deleted,
and nothing about who may act on a case can be changed: authorisations belong to the case lead
(seed measure 3), and grants are not registered in the administration at all.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Dataset
from cases.selectors import case_deputy_usernames, deputyships
from hansken_governance.admin_site import GovernanceModelAdmin, is_administrator, site


class DatasetInline(admin.TabularInline):
    model = Dataset
    fields = ("image_id", "description", "delivered_by", "imported_at", "status", "last_accessed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case, site=site)
class CaseAdmin(GovernanceModelAdmin):
    list_display = (
        "case_number",
        "title",
        "case_lead",
        "deputies",
        "status",
        "created_at",
        "last_accessed_at",
    )
    list_filter = ("status",)
    search_fields = ("case_number", "title", "project_id", "case_lead__username")
    list_select_related = ("case_lead",)
    fields = (
        "project_id",
        "case_number",
        "title",
        "case_lead",
        "deputies",
        "status",
        "created_at",
        "closed_at",
        "last_accessed_at",
    )
    readonly_fields = ("deputies",)
    inlines = (DatasetInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "deputy_periods",
                    queryset=deputyships().select_related("deputy"),
                    to_attr="deputy_rows",
                )
            )
        )

    @admin.display(description=_("deputies"))
    def deputies(self, case: Case) -> str:
        # The prefetched deputyships (get_queryset): no query per case on the list.
        rows = getattr(case, "deputy_rows", None)
        if rows is None:
            names = case_deputy_usernames(case)
        else:
            names = sorted({row.deputy.get_username() for row in rows})
        return ", ".join(names) or "-"


@admin.register(Dataset, site=site)
class DatasetAdmin(GovernanceModelAdmin):
    list_display = (
        "image_id",
        "case",
        "description",
        "delivered_by",
        "imported_at",
        "status",
        "last_accessed_at",
    )
    list_filter = ("status",)
    search_fields = ("image_id", "description", "case__case_number")
    list_select_related = ("case",)
    fields = (
        "case",
        "image_id",
        "description",
        "delivered_by",
        "imported_at",
        "environments",
        "status",
        "last_accessed_at",
        "registered_at",
    )
