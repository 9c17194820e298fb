"""Routes of the monitoring page."""

from django.urls import path

from siem import views

urlpatterns = [
    path("", views.monitoring, name="monitoring"),
    path("alerts/<int:alert_id>/acknowledge", views.acknowledge, name="monitoring-acknowledge"),
]
