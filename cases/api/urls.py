"""Routes of the case and dataset API."""

from django.urls import path

from cases.api import views

urlpatterns = [
    path("cases/<uuid:project_id>/deputies", views.CaseDeputiesApi.as_view(), name="api-case-deputies"),
    path(
        "cases/<uuid:project_id>/deputies/<str:username>",
        views.CaseDeputyApi.as_view(),
        name="api-case-deputy",
    ),
    path("cases/<uuid:project_id>/status", views.CaseStatusApi.as_view(), name="api-case-status"),
    path("cases", views.CaseCreateApi.as_view(), name="api-case-create"),
    path("cases/<uuid:project_id>", views.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<uuid:project_id>/datasets", views.DatasetCreateApi.as_view(), name="api-dataset-create"),
    path(
        "cases/<uuid:project_id>/datasets/<uuid:image_id>",
        views.DatasetDetailApi.as_view(),
        name="api-dataset-detail",
    ),
]
