"""Periodic tasks of grants: record the grants (and deputyships) that ran out, and announce the
grants that end soon."""

from celery import shared_task

from authz import services
from cases.services import deputyships_record_expiries


@shared_task(name="authz.tasks.sweep_grants")
def sweep_grants() -> dict[str, int]:
    """Record each grant's and each deputyship's natural end once, and announce grants that end
    within 14 days."""
    return {
        "expired_recorded": services.grants_record_expiries(),
        "deputy_expired_recorded": deputyships_record_expiries(),
        "ending_soon_notified": services.grants_notify_ending_soon(),
    }
