"""Privacy statement versions and acknowledgements in the administration: to look at only. The
privacy officer drafts and publishes in the application's own pages (``privacy_statement.views``);
a published version never changes, and administrators do not write the statement."""

from __future__ import annotations

from django.contrib import admin

from hansken_governance.admin_site import GovernanceModelAdmin, site
from privacy_statement.models import Acknowledgement, StatementVersion


@admin.register(StatementVersion, site=site)
class StatementVersionAdmin(GovernanceModelAdmin):
    list_display = ("__str__", "status", "title_nl", "effective_from", "published_at", "published_by")
    list_filter = ("status",)
    list_select_related = ("published_by",)
    fields = (
        "number",
        "status",
        "title_nl",
        "title_en",
        "effective_from",
        "published_at",
        "published_by",
        "change_summary_nl",
        "change_summary_en",
        "facts",
        "sha256_nl",
        "sha256_en",
        "created_at",
        "created_by",
        "updated_at",
    )


@admin.register(Acknowledgement, site=site)
class AcknowledgementAdmin(GovernanceModelAdmin):
    list_display = ("version", "person", "acknowledged_at", "channel", "client_name")
    list_filter = ("channel",)
    search_fields = ("person__username",)
    list_select_related = ("version", "person")
    fields = ("version", "person", "acknowledged_at", "channel", "client_name")
