"""Periodic work on the trail (scheduled in ``hansken_governance/schedules.py``). Each is an
idempotent sweep over database state: a lost or repeated run harms nothing."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from audit import services
from audit.actor import Actor

# How far back the model-change sweep looks for auditlog entries not yet in the chain.
MODEL_CHANGES_WINDOW = datetime.timedelta(days=7)


@shared_task(name="audit.tasks.write_checkpoint")
def write_checkpoint() -> int | None:
    checkpoint = services.checkpoint_write()
    return checkpoint.sequence if checkpoint else None


@shared_task(name="audit.tasks.verify_chain")
def verify_chain() -> str:
    return services.verification_run(by=Actor.system("verify_chain")).message


@shared_task(name="audit.tasks.copy_model_changes")
def copy_model_changes() -> int:
    return services.model_changes_record(since=timezone.now() - MODEL_CHANGES_WINDOW)
