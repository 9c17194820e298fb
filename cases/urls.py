"""Routes of the case pages (deputies and status) in the browser."""

from django.urls import path

from cases import views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("<uuid:project_id>/", views.case_detail, name="case-detail"),
    # The case lead's own forms; they are shown on the case's access page.
    path("<uuid:project_id>/deputies/add/", views.deputy_add, name="case-deputy-add"),
    path(
        "<uuid:project_id>/deputies/<str:username>/remove/",
        views.deputy_remove,
        name="case-deputy-remove",
    ),
    path("<uuid:project_id>/status/<str:status>/", views.case_status, name="case-status"),
]
