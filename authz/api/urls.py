"""Routes of the authorisation API: decisions, grants and access requests."""

from django.urls import path

from authz.api import views
from authz.api.decision import views as decision_views

urlpatterns = [
    path("authz/check", decision_views.CheckApi.as_view(), name="api-authz-check"),
    path("authz/check-batch", decision_views.CheckBatchApi.as_view(), name="api-authz-check-batch"),
    path("authz/projects", decision_views.ProjectsApi.as_view(), name="api-authz-projects"),
    path("authz/subjects", decision_views.SubjectsApi.as_view(), name="api-authz-subjects"),
    path("cases/<uuid:project_id>/grants", views.CaseGrantsApi.as_view(), name="api-case-grants"),
    path("cases/<uuid:project_id>/sign-off", views.CaseSignOffApi.as_view(), name="api-case-sign-off"),
    path(
        "cases/<uuid:project_id>/access-requests",
        views.CaseAccessRequestsApi.as_view(),
        name="api-case-access-requests",
    ),
    path("grants/<int:grant_id>", views.GrantDetailApi.as_view(), name="api-grant-detail"),
    path("grants/<int:grant_id>/revoke", views.GrantRevokeApi.as_view(), name="api-grant-revoke"),
    path("me/grants", views.MyGrantsApi.as_view(), name="api-my-grants"),
    path("access-requests", views.MyAccessRequestsApi.as_view(), name="api-access-requests"),
    path(
        "access-requests/<int:request_id>/approve",
        views.AccessRequestApproveApi.as_view(),
        name="api-access-request-approve",
    ),
    path(
        "access-requests/<int:request_id>/reject",
        views.AccessRequestRejectApi.as_view(),
        name="api-access-request-reject",
    ),
]
