"""Routes of the privacy statement's pages: the public statement and comparison, acknowledging, and
the privacy officer's drafting pages."""

from django.urls import path

from privacy_statement import views

urlpatterns = [
    path("", views.statement, name="privacy-statement"),
    path("compare/", views.compare, name="privacy-compare"),
    path("acknowledge/", views.acknowledge, name="privacy-acknowledge"),
    path("manage/", views.manage, name="privacy-manage"),
    path("manage/new/", views.draft_new, name="privacy-draft-new"),
    path("manage/drafts/<int:draft_id>/", views.draft, name="privacy-draft"),
    path(
        "manage/versions/<int:number>/acknowledgements/",
        views.acknowledgements,
        name="privacy-acknowledgements",
    ),
    path(
        "manage/versions/<int:number>/acknowledgements.csv",
        views.acknowledgements_csv,
        name="privacy-acknowledgements-csv",
    ),
]
