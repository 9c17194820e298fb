"""Sign-in and sign-out, and the administrators' page of proposed changes to people (four eyes)."""

from django.urls import path

from people import proposal_views, sso_views, views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("proposals/", proposal_views.proposals, name="person-proposals"),
    path("sso-binding/", sso_views.sso_binding_propose, name="person-sso-binding"),
    path(
        "proposals/<int:proposal_id>/approve/",
        proposal_views.proposal_approve,
        name="person-proposal-approve",
    ),
    path(
        "proposals/<int:proposal_id>/reject/", proposal_views.proposal_reject, name="person-proposal-reject"
    ),
]
