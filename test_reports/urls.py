from django.urls import path

from test_reports import views

urlpatterns = [
    path("", views.release_list, name="release-list"),
    path("<str:version>/", views.release_detail, name="release-detail"),
]
