from django.urls import path

from hashtotals import views

urlpatterns = [
    path("", views.dataset_list, name="hashtotals-list"),
    path("<uuid:project_id>/<uuid:image_id>/", views.dataset_hashtotals, name="hashtotals-dataset"),
    path("<uuid:project_id>/<uuid:image_id>/csv", views.dataset_hashtotals_csv, name="hashtotals-csv"),
]
