"""Routes of the retention API."""

from django.urls import path

from retention.api import views

urlpatterns = [
    path("retention/notices", views.NoticeListApi.as_view(), name="api-retention-notices"),
    path(
        "retention/notices/<int:notice_id>/decide",
        views.NoticeDecideApi.as_view(),
        name="api-retention-notice-decide",
    ),
    path("retention/removals", views.RemovalListApi.as_view(), name="api-retention-removals"),
    path(
        "retention/removals/<int:task_id>/confirm",
        views.RemovalConfirmApi.as_view(),
        name="api-retention-removal-confirm",
    ),
]
