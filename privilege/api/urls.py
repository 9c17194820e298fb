from django.urls import path

from privilege.api import views

urlpatterns = [
    path(
        "cases/<uuid:project_id>/privileged", views.PrivilegedMarksApi.as_view(), name="api-case-privileged"
    ),
]
