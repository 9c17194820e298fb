"""Periodic retention work (scheduled in ``hansken_governance/schedules.py``). Both are idempotent
sweeps over database state: a lost or repeated run harms nothing."""

from __future__ import annotations

from celery import shared_task

from audit.actor import Actor
from retention.purge import audit_purge
from retention.sweep import retention_sweep


@shared_task(name="retention.tasks.sweep")
def sweep() -> dict[str, int]:
    return retention_sweep().as_dict()


@shared_task(name="retention.tasks.purge_audit_trail")
def purge_audit_trail() -> int:
    return audit_purge(by=Actor.system("audit_purge")).purged
