"""The one vocabulary of audit action codes. Each code is ``<object>.<verb>``.

Governance actions are written by services in the same transaction as the change. Hansken's own
usage events keep the action Hansken sent, prefixed ``hansken.``.
"""

PERSON_CREATED = "person.created"
PERSON_ROLES_CHANGED = "person.roles_changed"
PERSON_SCREENING_CHANGED = "person.screening_changed"
PERSON_DEACTIVATED = "person.deactivated"
PERSON_REACTIVATED = "person.reactivated"
PERSON_DETAILS_CHANGED = "person.details_changed"
PERSON_PASSWORD_CHANGED = "person.password_changed"  # noqa: S105 (an action code)  # nosec B105  # an action code
# Four eyes: a change to roles or screening proposed by one administrator, answered by another.
PERSON_CHANGE_PROPOSED = "person.change_proposed"
PERSON_CHANGE_APPROVED = "person.change_approved"
PERSON_CHANGE_REJECTED = "person.change_rejected"
PERSON_SIGNED_IN = "session.signed_in"
PERSON_SIGN_IN_FAILED = "session.sign_in_failed"
PERSON_SIGNED_OUT = "session.signed_out"
# Password sign-in refused for a while after repeated failures (django-axes; people.lockout).
PERSON_LOCKED_OUT = "session.locked_out"
# Single sign-on bound a person to the provider's subject (people.services.person_bind_sso_subject).
PERSON_SSO_SUBJECT_BOUND = "person.sso_subject_bound"
# A second administrator approved moving a person's binding to another subject
# (people.services.proposals.person_sso_subject_propose).
PERSON_SSO_SUBJECT_MOVED = "person.sso_subject_moved"
# The second factor of password sign-in (people.services.second_factor): an authenticator app
# enrolled (with new recovery codes), a recovery code used instead of the app, new recovery codes,
# the factor removed by its owner, or reset for someone else (four eyes or the operator's command).
# A wrong code is a ``session.sign_in_failed`` with the method ``second_factor``.
PERSON_SECOND_FACTOR_ENROLLED = "person.second_factor_enrolled"
PERSON_RECOVERY_CODE_USED = "person.recovery_code_used"
PERSON_RECOVERY_CODES_RENEWED = "person.recovery_codes_renewed"
PERSON_SECOND_FACTOR_REMOVED = "person.second_factor_removed"
PERSON_SECOND_FACTOR_RESET = "person.second_factor_reset"
# A wrong (or throttled) code where the app's code is asked again before a person changes their own
# factor: someone at a signed-in session who does not hold the app.
PERSON_SECOND_FACTOR_CONFIRM_FAILED = "person.second_factor_confirm_failed"

API_CLIENT_CREATED = "api_client.created"
API_CLIENT_DEACTIVATED = "api_client.deactivated"
PERSONAL_TOKEN_CREATED = "personal_token.created"  # noqa: S105 (an action code)  # nosec B105  # an action code
PERSONAL_TOKEN_REVOKED = "personal_token.revoked"  # noqa: S105 (an action code)  # nosec B105  # an action code
API_TOKEN_EXPIRED = "api_token.expired"  # noqa: S105 (an action code)  # nosec B105  # an action code

CASE_CREATED = "case.created"
CASE_DEPUTY_ADDED = "case.deputy_added"
CASE_DEPUTY_REMOVED = "case.deputy_removed"
CASE_DEPUTY_CHANGED = "case.deputy_changed"
CASE_DEPUTY_EXPIRED = "case.deputy_expired"  # the end date passed (the hourly sweep)
CASE_STATUS_CHANGED = "case.status_changed"
DATASET_REGISTERED = "dataset.registered"
DATASET_LAST_ACCESS_REPORTED = "dataset.last_access_reported"

MODEL_CHANGED = "model.changed"  # field diffs from django-auditlog

AUDIT_VIEWED = "audit.viewed"  # every opening of the trail (review API and pages), with its filters
AUDIT_VERIFICATION_FAILED = "audit.verification_failed"  # audit_verify or a checkpoint found the chain broken

# The changes of a person's standing (screening, active) that are read back by the username in their
# details (``people.selectors.standing_at``, the screening-lapsed rule): ``audit_person_history``.
PERSON_HISTORY_ACTIONS = (PERSON_SCREENING_CHANGED, PERSON_DEACTIVATED, PERSON_REACTIVATED)
