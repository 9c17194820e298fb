"""Periodic tasks of grants: record the grants that ran out, and announce those that end soon."""

from celery import shared_task

from authz import services


@shared_task(name="authz.tasks.sweep_grants")
def sweep_grants() -> dict[str, int]:
    """Record each grant's natural end once, and announce grants that end within 14 days."""
    return {
        "expired_recorded": services.grants_record_expiries(),
        "ending_soon_notified": services.grants_notify_ending_soon(),
    }
