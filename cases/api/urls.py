from django.urls import path

from cases.api import views

urlpatterns = [
    path("cases", views.CaseCreateApi.as_view(), name="api-case-create"),
    path("cases/<uuid:project_id>", views.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<uuid:project_id>/datasets", views.DatasetCreateApi.as_view(), name="api-dataset-create"),
    path(
        "cases/<uuid:project_id>/datasets/<uuid:image_id>",
        views.DatasetDetailApi.as_view(),
        name="api-dataset-detail",
    ),
]
