"""The Celery application. Periodic schedules live in ``hansken_governance/schedules.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.production")

app = Celery("hansken_governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_schedules(sender: Celery, **kwargs: object) -> None:
    from hansken_governance.schedules import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
