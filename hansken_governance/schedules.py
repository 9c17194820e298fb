"""Every periodic task in one place, each with when it runs and why.

Each task is an idempotent sweep over database state: a lost or repeated run harms nothing.
"""

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Hourly: each grant that ran out gets its one "grant.expired" audit event (decisions never wait
    # for this: they compare the end date with the clock), and grants ending within 14 days are
    # announced to grantee and case lead (once per end date).
    "sweep-grants": {
        "task": "authz.tasks.sweep_grants",
        "schedule": crontab(minute=7),
    },
    # Marks API tokens past their expiry as expired, so the token list shows the truth and an
    # expired token is audited once. (Authentication already refuses expired tokens on its own.)
    "expire-api-tokens": {
        "task": "api_clients.tasks.expire_tokens",
        "schedule": crontab(minute="*/15"),
    },
}
