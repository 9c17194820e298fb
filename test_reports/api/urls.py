from django.urls import path

from test_reports.api import views

urlpatterns = [
    path("releases", views.ReleasesApi.as_view(), name="api-releases"),
    path("releases/<str:version>", views.ReleaseApi.as_view(), name="api-release"),
    path("releases/<str:version>/reports", views.ReportUploadApi.as_view(), name="api-release-reports"),
]
