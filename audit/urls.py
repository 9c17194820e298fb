"""Browser pages of the audit review (the JSON API is in ``audit.api.urls``)."""

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.search, name="audit-search"),
    path("export.csv", views.search_export, name="audit-search-export"),
    path("cases/<uuid:project_id>/timeline/", views.timeline, name="audit-timeline"),
    path("cases/<uuid:project_id>/timeline/export.csv", views.timeline_export, name="audit-timeline-export"),
    path("access-at/", views.access_at_page, name="audit-access-at"),
    path("access-at/export.csv", views.access_at_export, name="audit-access-at-export"),
    path("person-at/", views.person_at_page, name="audit-person-at"),
    path("person-at/export.csv", views.person_at_export, name="audit-person-at-export"),
]
