"""Browser pages of case access (the JSON API is in ``authz.api.urls``)."""

from django.urls import path

from authz import views

urlpatterns = [
    path("my-cases/", views.my_cases, name="my-cases"),
    path("my-access/", views.my_access, name="my-access"),
    path("my-access/request/", views.access_request_create, name="access-request-create"),
    path("cases/<uuid:project_id>/access/", views.case_access, name="case-access"),
    path("cases/<uuid:project_id>/access/grant/", views.grant_create, name="grant-create"),
    path("cases/<uuid:project_id>/access/sign-off/", views.case_sign_off, name="case-sign-off"),
    path(
        "cases/<uuid:project_id>/access/grants/<int:grant_id>/change/",
        views.grant_change,
        name="grant-change",
    ),
    path(
        "cases/<uuid:project_id>/access/grants/<int:grant_id>/revoke/",
        views.grant_revoke,
        name="grant-revoke",
    ),
    path(
        "cases/<uuid:project_id>/access/requests/<int:request_id>/",
        views.access_request_answer,
        name="access-request-answer",
    ),
    path(
        "cases/<uuid:project_id>/access/requests/<int:request_id>/approve/",
        views.access_request_approve,
        name="access-request-approve",
    ),
    path(
        "cases/<uuid:project_id>/access/requests/<int:request_id>/reject/",
        views.access_request_reject,
        name="access-request-reject",
    ),
]
