"""The one vocabulary of audit action codes. Each code is ``<object>.<verb>``.

Governance actions are written by services in the same transaction as the change. Hansken's own
usage events keep the action Hansken sent, prefixed ``hansken.``.
"""

PERSON_CREATED = "person.created"
PERSON_ROLES_CHANGED = "person.roles_changed"
PERSON_SCREENING_CHANGED = "person.screening_changed"
PERSON_DEACTIVATED = "person.deactivated"
PERSON_SIGNED_IN = "session.signed_in"
PERSON_SIGN_IN_FAILED = "session.sign_in_failed"
PERSON_SIGNED_OUT = "session.signed_out"

API_CLIENT_CREATED = "api_client.created"
PERSONAL_TOKEN_CREATED = "personal_token.created"  # noqa: S105 (an action code)
API_TOKEN_EXPIRED = "api_token.expired"  # noqa: S105 (an action code)

CASE_CREATED = "case.created"
CASE_DEPUTY_ADDED = "case.deputy_added"
CASE_DEPUTY_REMOVED = "case.deputy_removed"
DATASET_REGISTERED = "dataset.registered"
DATASET_LAST_ACCESS_REPORTED = "dataset.last_access_reported"

MODEL_CHANGED = "model.changed"  # field diffs from django-auditlog
