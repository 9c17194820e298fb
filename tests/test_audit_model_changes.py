"""django-auditlog's field diffs land in the one chained trail (``audit.model_changes``): copied
after the change commits, once per entry however often the copy runs, never with a token digest,
and caught up by the periodic sweep when the copy after commit did not happen."""

from __future__ import annotations

import datetime

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api_clients.services import api_client_create
from audit import actions
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_record, model_change_event_id
from audit.tasks import copy_model_changes
from audit.verify import verify_chain
from cases.models import Case
from people.services import person_set_screening
from tests.personas import CASE_PROJECT_ID, Cast

BY = Actor.command("tests")


def changes_of(model: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=actions.MODEL_CHANGED, object_type=model).order_by("sequence")
    )


def test_a_field_change_lands_in_the_chain_after_the_commit(cast: Cast, django_capture_on_commit_callbacks):
    person = cast["investigator"]
    with django_capture_on_commit_callbacks(execute=True):
        person_set_screening(person=person, valid_until=datetime.date(2031, 1, 1), reference="AIVD-7", by=BY)
    copies = [e for e in changes_of("people.profile") if e.object_id == str(person.profile.pk)]
    assert len(copies) == 1
    change = copies[0]
    assert change.details["operation"] == "update"
    assert change.details["changes"]["screening_valid_until"][1] == "2031-01-01"
    assert change.details["changes"]["screening_reference"] == ["", "AIVD-7"]
    # The change is named after who made it: the service's own event in that transaction says so.
    assert (change.actor, change.on_behalf_of) == ("command:tests", BY.on_behalf_of)
    assert AuditEvent.objects.filter(action="person.screening_changed", sequence__lt=change.sequence).exists()
    assert change.event_id == model_change_event_id(change.details["auditlog_entry"])
    assert verify_chain(against_checkpoints=False).ok


def test_a_change_is_named_after_the_transactions_actor_whichever_was_written_first(
    cast: Cast, django_capture_on_commit_callbacks
):
    client = Actor(username="client:hansken-production", client_name="hansken-production", channel="api")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        # The event first, then the change (a service may write them in either order).
        audit_record(action="case.status_changed", actor=client, object_type="case")
        case = Case.objects.get(pk=cast.case.pk)
        case.title = "Operation Heron II"
        case.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        cast.other_case.title = "Operation Kestrel II"
        cast.other_case.save()
        audit_record(action="case.status_changed", actor=BY, object_type="case")
    named = {e.object_id: e.actor for e in changes_of("cases.case")}
    assert named[str(cast.case.pk)] == "client:hansken-production"
    assert named[str(cast.other_case.pk)] == "command:tests"


def test_a_change_outside_any_audited_transaction_stays_unattributed(
    cast: Cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cast.other_case.title = "Changed in a shell"
        cast.other_case.save()  # no service, no event: nobody to name
    [change] = [e for e in changes_of("cases.case") if e.object_id == str(cast.other_case.pk)]
    assert change.actor == "unattributed"


def test_a_token_digest_never_reaches_the_trail(cast: Cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client, token = api_client_create(name="ci", environment="test", scopes=["cases:write"], by=BY)
    created = [e for e in changes_of("api_clients.apiclient") if e.object_id == str(client.pk)]
    assert len(created) == 1
    assert created[0].details["operation"] == "create"
    assert "name" in created[0].details["changes"]
    stored = str(created[0].details)
    assert "token_digest" not in stored and "token_hint" not in stored
    assert client.token_digest not in stored and token not in stored


def test_the_signed_in_person_is_named_when_auditlog_knows_them(
    cast: Cast, django_capture_on_commit_callbacks
):
    """The admin's requests pass auditlog's middleware, which sets the actor as done here."""
    assert "auditlog.middleware.AuditlogMiddleware" in settings.MIDDLEWARE
    case = Case.objects.get(project_id=CASE_PROJECT_ID)
    with django_capture_on_commit_callbacks(execute=True), set_actor(cast["administrator"]):
        case.title = "Operation Heron (renamed)"
        case.save()
    change = changes_of("cases.case")[-1]
    assert change.actor == "administrator"
    assert change.project_id == CASE_PROJECT_ID  # a case's diff is filed under its case, for its lead
    assert change.details["changes"]["title"] == ["Operation Heron", "Operation Heron (renamed)"]


def test_the_sweep_copies_what_was_not_copied_and_nothing_twice(cast: Cast):
    """Without the after-commit copy (here: the test's transaction never commits), the entries wait
    in auditlog's table; the sweep copies each once."""
    case = Case.objects.get(project_id=CASE_PROJECT_ID)
    case.title = "Operation Heron II"
    case.save()
    entry = LogEntry.objects.get_for_object(case).latest("timestamp")
    assert not AuditEvent.objects.filter(event_id=model_change_event_id(entry.pk)).exists()
    pending = LogEntry.objects.filter(timestamp__gte=timezone.now() - datetime.timedelta(days=7)).count()
    assert copy_model_changes() == pending
    assert AuditEvent.objects.filter(event_id=model_change_event_id(entry.pk)).count() == 1
    assert copy_model_changes() == 0
    assert verify_chain(against_checkpoints=False).ok
