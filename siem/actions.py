"""Audit action codes of the SIEM and monitoring room (part of the one vocabulary; see audit.actions)."""

ALERT_RAISED = "monitoring.alert_raised"
ALERT_ACKNOWLEDGED = "monitoring.alert_acknowledged"
