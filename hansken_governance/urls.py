"""The project's routes: health, the API (v1) with its schema, sign-in with OIDC, the admin, and the
browser pages (``web_urls``)."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from hansken_governance import api_errors, health
from hansken_governance.admin_site import site as admin_site

api_v1 = [
    path("", include("cases.api.urls")),
    path("", include("authz.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("retention.api.urls")),
    path("", include("hashtotals.api.urls")),
    path("", include("privacy_statement.api.urls")),
    path("", include("privilege.api.urls")),
    path("", include("test_reports.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("admin/", admin_site.urls),
    path("", include("hansken_governance.web_urls")),
]

handler404 = "hansken_governance.api_errors.not_found"
handler500 = "hansken_governance.api_errors.server_error"

__all__ = ["api_errors", "i18n_patterns", "settings", "urlpatterns"]
