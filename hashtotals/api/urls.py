from django.urls import path

from hashtotals.api import views

urlpatterns = [
    path(
        "cases/<uuid:project_id>/datasets/<uuid:image_id>/manifests",
        views.ManifestUploadApi.as_view(),
        name="api-hashtotals-manifests",
    ),
    path(
        "cases/<uuid:project_id>/datasets/<uuid:image_id>/hashtotals",
        views.HashtotalsApi.as_view(),
        name="api-hashtotals",
    ),
]
