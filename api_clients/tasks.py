"""Periodic task: deactivate the tokens that have run out (``api_clients.services.expire_tokens``)."""

from celery import shared_task

from api_clients import services


@shared_task(name="api_clients.tasks.expire_tokens")
def expire_tokens() -> int:
    return services.expire_tokens()
