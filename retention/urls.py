"""Routes of the retention pages in the browser."""

from django.urls import path

from retention import views

urlpatterns = [
    path("", views.dashboard, name="retention-dashboard"),
    path("policies/", views.policies, name="retention-policies"),
    path("notices/", views.notices, name="retention-notices"),
    path("notices/<int:notice_id>/", views.notice_detail, name="retention-notice"),
    path("removals/", views.removals, name="retention-removals"),
]
