"""Periodic SIEM work (scheduled in ``hansken_governance/schedules.py``). Both are idempotent sweeps
over database state with their own cursor: a lost or repeated run harms nothing."""

from __future__ import annotations

from celery import shared_task

from siem import forwarder, rules


@shared_task(name="siem.tasks.forward_events")
def forward_events() -> int:
    return forwarder.forward().events


@shared_task(name="siem.tasks.evaluate_rules")
def evaluate_rules() -> int:
    return rules.sweep().alerts_raised
