"""Routes of signing in and out with a password."""

from django.urls import path

from people import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
]
