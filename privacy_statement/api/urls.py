"""Routes of the privacy statement's API (contract: HANSKEN_API.md, "Privacy statement")."""

from django.urls import path

from privacy_statement.api import views

urlpatterns = [
    path("privacy-statement", views.StatementApi.as_view(), name="api-privacy-statement"),
    path("privacy-statement/versions", views.VersionListApi.as_view(), name="api-privacy-statement-versions"),
    path(
        "privacy-statement/acknowledgements",
        views.AcknowledgementApi.as_view(),
        name="api-privacy-statement-acknowledgements",
    ),
]
