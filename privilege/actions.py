"""Audit action codes of privileged traces, in the trail's ``<object>.<verb>`` vocabulary (see
``audit.actions``)."""

# Marks that changed a trace's status; each event lists up to ``CHANGES_PER_EVENT`` changes.
MARKS_RECORDED = "privileged_marks.recorded"
# Export checks, one event per request (or per part of ``TRACES_PER_EVENT`` traces asked for): the
# allowed ones and the refused ones have their own codes, so a monitoring rule counts either by code.
EXPORT_ALLOWED = "export_check.allowed"
EXPORT_REFUSED = "export_check.refused"
