"""Every periodic task in one place, each with when it runs and why.

Each task is an idempotent sweep over database state: a lost or repeated run harms nothing.
"""

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Marks API tokens past their expiry as expired, so the token list shows the truth and an
    # expired token is audited once. (Authentication already refuses expired tokens on its own.)
    "expire-api-tokens": {
        "task": "api_clients.tasks.expire_tokens",
        "schedule": crontab(minute="*/15"),
    },
}
