"""Every periodic task in one place, each with when it runs and why.

Each task is an idempotent sweep over database state: a lost or repeated run harms nothing.
"""

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Hourly: each grant that ran out gets its one "grant.expired" audit event, and each deputyship
    # that ran out its one "case.deputy_expired" (decisions never wait for this: they compare the end
    # date with the clock), and grants ending within 14 days are announced to grantee and case lead
    # (once per end date).
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
    # Anchors the audit chain's head every 10 minutes (a ChainCheckpoint row and a line in
    # HG_DATA_DIR/audit-checkpoints.log, after verifying the rows since the last one), so a tail cut
    # off the trail or a rewritten chain is caught by audit_verify against it.
    "audit-checkpoint": {
        "task": "audit.tasks.write_checkpoint",
        "schedule": crontab(minute="*/10"),
    },
    # Verifies the whole audit chain daily at 03:30 UTC, at night when Hansken is quiet; a break is
    # recorded as audit.verification_failed (the SIEM alerts on it).
    "audit-verify": {
        "task": "audit.tasks.verify_chain",
        "schedule": crontab(hour=3, minute=30),
    },
    # Copies django-auditlog's field diffs into the chain when their copy after commit did not happen
    # (audit.model_changes); entries already copied are skipped.
    "audit-copy-model-changes": {
        "task": "audit.tasks.copy_model_changes",
        "schedule": crontab(minute="*/5"),
    },
    # Every minute: sends every audit event after the SIEM cursor, and the chain checkpoints, to the
    # SIEM (siem.forwarder); one forwarder at a time, the cursor moves only after a confirmed chunk.
    # A run that finds the lock taken does nothing; /readyz fails after SIEM_BACKLOG_MAX_AGE_MINUTES.
    "siem-forward": {
        "task": "siem.tasks.forward_events",
        "schedule": crontab(),
    },
    # Every minute: the monitoring rules look at the audit events after their own cursor and raise,
    # mail and audit alerts (siem.rules); also checks the SIEM backlog's age.
    "siem-evaluate-rules": {
        "task": "siem.tasks.evaluate_rules",
        "schedule": crontab(),
    },
    # Daily at 05:15 UTC, before the working day: notices on case data idle past its threshold or
    # kept past its case's closure limit (case lead and privacy officer notified), reminders and
    # escalations of unanswered notices, and warnings of grants and screenings that end soon. Sends
    # nothing twice (retention.sweep).
    "retention-sweep": {
        "task": "retention.tasks.sweep",
        "schedule": crontab(hour=5, minute=15),
    },
    # Weekly, Sunday 04:00 UTC (a quiet hour): audit rows older than HG_AUDIT_RETENTION_DAYS leave
    # the trail through the purge door, anchored by a checkpoint so audit_verify still passes
    # (retention.purge). Removes nothing while no row is old enough.
    "audit-retention-purge": {
        "task": "retention.tasks.purge_audit_trail",
        "schedule": crontab(day_of_week=0, hour=4, minute=0),
    },
}
