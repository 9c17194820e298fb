"""Sign-in (with its second factor) and sign-out, a person's second-factor page, and the
administrators' page of proposed changes to people (four eyes)."""

from django.urls import path

from people import proposal_views, second_factor_reset_views, second_factor_views, sso_views, views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    # The second step of password sign-in, before Django's login() (people.second_factor).
    path("login/code/", second_factor_views.sign_in_code, name="sign-in-code"),
    path("login/enrol/", second_factor_views.sign_in_enrol, name="sign-in-enrol"),
    path("second-factor/", second_factor_views.own_second_factor, name="second-factor"),
    path(
        "second-factor/recovery-codes/",
        second_factor_views.own_recovery_codes_renew,
        name="second-factor-recovery-codes",
    ),
    path("second-factor/remove/", second_factor_views.own_second_factor_remove, name="second-factor-remove"),
    path("proposals/", proposal_views.proposals, name="person-proposals"),
    path("sso-binding/", sso_views.sso_binding_propose, name="person-sso-binding"),
    path(
        "second-factor/reset/",
        second_factor_reset_views.second_factor_reset_propose,
        name="person-second-factor-reset",
    ),
    path(
        "proposals/<int:proposal_id>/approve/",
        proposal_views.proposal_approve,
        name="person-proposal-approve",
    ),
    path(
        "proposals/<int:proposal_id>/reject/", proposal_views.proposal_reject, name="person-proposal-reject"
    ),
]
