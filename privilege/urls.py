from django.urls import path

from privilege import views

urlpatterns = [
    path("<uuid:project_id>/privileged/", views.case_privileged, name="case-privileged"),
]
