"""The project's Celery app with a short beat schedule, for ``test_celery_processes``: the token
sweep every second instead of every 15 minutes, so a test can see beat send it and the worker run it.
Only the schedule differs; the task, its settings and the broker are the production ones."""

from __future__ import annotations

from celery import Celery

from hansken_governance.celery import app

SHORT_SCHEDULE = {
    "expire-api-tokens-now": {"task": "api_clients.tasks.expire_tokens", "schedule": 1.0},
}


@app.on_after_finalize.connect
def _short_schedule(sender: Celery, **kwargs: object) -> None:
    # Connected after the project's own handler, so it replaces the production schedule.
    sender.conf.beat_schedule = SHORT_SCHEDULE


__all__ = ["app"]
