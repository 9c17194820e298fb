"""Routes of the audit API: usage events in, review and access-at out."""

from django.urls import path

from audit.api import views

urlpatterns = [
    path("audit/events", views.UsageEventsApi.as_view(), name="api-audit-events"),
    path("audit/access-at", views.AccessAtApi.as_view(), name="api-audit-access-at"),
]
