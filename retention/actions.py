"""Audit action codes of retention, in the trail's ``<object>.<verb>`` vocabulary (``audit.actions``
holds the codes of the foundation; these belong to this app)."""

POLICY_SET = "retention_policy.set"
POLICY_OVERRIDE_REMOVED = "retention_policy.override_removed"
NOTICE_OPENED = "retention_notice.opened"
NOTICE_ACCESSED_AGAIN = "retention_notice.accessed_again"
NOTICE_ESCALATED = "retention_notice.escalated"
NOTICE_KEPT = "retention_notice.kept"
NOTICE_DELETE_REQUESTED = "retention_notice.delete_requested"
SWEEP_RUN = "retention.sweep_run"
REMOVAL_CONFIRMED = "removal_task.confirmed"
DATASET_DELETED = "dataset.deleted"
AUDIT_PURGED = "audit.purged"
