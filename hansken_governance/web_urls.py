"""Browser pages. Each app adds its own pages here as it grows."""

from django.urls import include, path

from people import views as people_views

urlpatterns = [
    path("", people_views.home, name="home"),
    path("accounts/", include("people.urls")),
    path("cases/", include("cases.urls")),
    path("cases/", include("privilege.urls")),
    path("", include("authz.urls")),
    path(
        "notifications/<int:notification_id>/read/",
        people_views.notification_read,
        name="notification-read",
    ),
    path("monitoring/", include("siem.urls")),
    path("retention/", include("retention.urls")),
    path("audit/", include("audit.urls")),
    path("hashtotals/", include("hashtotals.urls")),
    path("privacy/", include("privacy_statement.urls")),
    path("releases/", include("test_reports.urls")),
]
