"""Every public writer of every app, as the audit-seam test (``tests/test_audit_seam.py``) calls it:
the one place to register a new service writer.

A writer is found by rule, not by this list: every public function defined in an app's
``services`` module (or in a module of its ``services`` package), for every app of this project
(``public_writers``). Each must be in ``WRITES`` (how to call it with the cast, and the audit events
it leaves, in order) or, when it writes no audit event of its own by design, in ``NOT_SEAM_WRITERS``
with the reason. ``test_every_public_writer_is_in_the_seam_test`` fails for a writer in neither.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import io
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from api_clients import services as client_services
from api_clients.models import ApiClient, PersonalToken
from audit import services as audit_services
from audit.actor import Actor
from authz import services as authz_services
from authz.models import AccessRequest, Grant
from cases import services as case_services
from cases.models import Case, Dataset
from hashtotals import services as hashtotal_services
from people import services as people_services
from people.models import PersonProposal
from people.services import proposals as proposal_services
from people.services import second_factor as second_factor_services
from privacy_statement import services as privacy_services
from privacy_statement.models import StatementVersion
from privilege import services as privilege_services
from privilege.marks_input import MarkInput
from retention import services as retention_services
from retention.models import RemovalTask, RetentionNotice
from retention.sweep import retention_sweep
from siem import services as siem_services
from siem.models import Alert
from test_reports import services as report_services
from test_reports.models import Release
from tests.personas import IMAGE_ID, Cast
from tests.second_factor_helpers import code_now
from tests.siem_helpers import denials_sighting

BY = Actor.command("tests")
NEW_PROJECT_ID = uuid.UUID("44444444-4444-4444-8444-444444444444")
NEW_IMAGE_ID = uuid.UUID("55555555-5555-4555-8555-555555555555")


@dataclass(frozen=True)
class Write:
    """One public writer: ``module`` is where it looks up ``audit_record`` (where a failure is
    injected); ``actions`` the events one call leaves, in order; ``prepare`` makes what it needs."""

    writer: str  # "<module>.<function>", as public_writers names it
    module: ModuleType
    actions: tuple[str, ...]
    write: Callable[[Cast], Any]
    prepare: Callable[[Cast], None] | None = None
    actor: str = "command:tests"
    # The events' outcome: "failure" for a writer whose event is a refusal it counts (a wrong code).
    outcome: str = "success"
    # False only where the event is the whole change (an opening of the trail is recorded, nothing else).
    changes_rows: bool = True


def second_administrator() -> User:
    return User.objects.get(username="admin.two")


def propose_roles(cast: Cast) -> None:
    """A second administrator, and a pending change of the engineer's roles proposed by the first."""
    people_services.person_create(username="admin.two", roles=["administrator"], by=BY)
    proposal_services.person_roles_propose(
        person=cast["engineer"], roles=["engineer", "investigator"], proposed_by=cast["administrator"], by=BY
    )


SECOND_FACTOR_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, hex


def _enrol_operator(cast: Cast) -> None:
    second_factor_services.second_factor_enrol(
        person=cast["operator"], key=SECOND_FACTOR_KEY, code=code_now(SECOND_FACTOR_KEY), by=BY
    )


def _a_recovery_code(cast: Cast) -> str:
    return StaticToken.objects.filter(device__user=cast["operator"]).values_list("token", flat=True)[0]


def _case(cast: Cast) -> Case:
    assert cast.case is not None
    return cast.case


def _grant(cast: Cast) -> Grant:
    return Grant.objects.get(case=_case(cast), grantee=cast["investigator"])


def _make_grant(cast: Cast) -> None:
    authz_services.grant_create(
        case=_case(cast),
        grantee=cast["investigator"],
        rights=["read", "search"],
        environments=["production"],
        valid_until=timezone.now() + datetime.timedelta(days=30),
        reason="Needed for the investigation",
        granted_by=cast["case_lead"],
        by=BY,
    )


def _make_request(cast: Cast) -> None:
    authz_services.access_request_create(
        case=_case(cast),
        requester=cast["investigator"],
        rights=["read"],
        valid_until=timezone.now() + datetime.timedelta(days=30),
        reason="Analysis of the phone",
        by=BY,
    )


def _expire_client(cast: Cast) -> None:
    ApiClient.objects.filter(name="hansken_experiment").update(
        expires_at=timezone.now() - datetime.timedelta(hours=1)
    )


def _idle_dataset(cast: Cast) -> None:
    """The cast's dataset, idle for 400 days: the sweep opens a notice on it."""
    Dataset.objects.filter(pk=cast.dataset.pk).update(
        imported_at=timezone.now() - datetime.timedelta(days=400)
    )
    retention_sweep()


def _notice(cast: Cast) -> RetentionNotice:
    return RetentionNotice.objects.get(dataset=cast.dataset)


def _delete_requested(cast: Cast) -> None:
    _idle_dataset(cast)
    retention_services.notice_decide(
        notice=_notice(cast),
        decision="delete",
        reason="Case settled",
        keep_until=None,
        decided_by=cast["case_lead"],
        by=BY,
    )


def _raise_alert(cast: Cast) -> None:
    siem_services.alert_record(sighting=denials_sighting())


def _override(cast: Cast) -> None:
    retention_services.policy_set(
        case=_case(cast),
        inactivity_days=30,
        reminder_days=7,
        escalation_days=14,
        closure_limit_days=3650,
        by=BY,
    )


_MANIFEST = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./empty\n"
_OTHER = b"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  ./hello\n"


def _manifest(cast: Cast, side: str, data: bytes) -> Any:
    return hashtotal_services.manifest_upload(
        dataset=cast.dataset,
        side=side,
        source=io.BytesIO(data),
        original_name=f"{side}.sha256",
        fmt=None,
        by=BY,
    )


_REPORT = (
    b'<testsuite name="unit"><testcase classname="a" name="ok"/>'
    b'<testcase classname="a" name="broken"><failure message="no">trace</failure></testcase></testsuite>'
)


def _release() -> None:
    report_services.release_create(
        version="1.0.0", released_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC), notes="", by=BY
    )


PRIVACY_TEXTS = {
    "title_nl": "Privacyverklaring",
    "title_en": "Privacy statement",
    "source_nl": "Tekst.",
    "source_en": "Text.",
}


def _privacy_draft(cast: Cast) -> None:
    privacy_services.statement_draft_create(author=cast["privacy_officer"], by=BY, **PRIVACY_TEXTS)


def _privacy_publish(cast: Cast) -> Any:
    return privacy_services.statement_publish(
        version=StatementVersion.objects.get(status="draft"),
        effective_from=timezone.now(),
        change_summary_nl="Eerste versie",
        change_summary_en="First version",
        publisher=cast["privacy_officer"],
        by=BY,
    )


def _privacy_published(cast: Cast) -> None:
    _privacy_draft(cast)
    _privacy_publish(cast)


WRITES: list[Write] = [
    # cases
    Write(
        "cases.services.case_create",
        case_services,
        ("case.created",),
        lambda cast: case_services.case_create(
            project_id=NEW_PROJECT_ID,
            case_number="NFI-2026-0100",
            title="Operation Osprey",
            case_lead=cast["other_case_lead"],
            by=BY,
        ),
    ),
    Write(
        "cases.services.case_add_deputy",
        case_services,
        ("case.deputy_added",),
        lambda cast: case_services.case_add_deputy(case=_case(cast), deputy=cast["other_case_lead"], by=BY),
    ),
    Write(
        "cases.services.case_remove_deputy",
        case_services,
        ("case.deputy_removed",),
        lambda cast: case_services.case_remove_deputy(case=_case(cast), deputy=cast["deputy"], by=BY),
    ),
    Write(
        "cases.services.case_change_deputy",
        case_services,
        ("case.deputy_changed",),
        lambda cast: case_services.case_change_deputy(
            case=_case(cast),
            deputy=cast["deputy"],
            valid_until=timezone.now() + datetime.timedelta(days=7),
            reason="until the hearing",
            by=BY,
        ),
    ),
    Write(
        "cases.services.deputyships_end",
        case_services,
        ("case.deputy_removed",),
        lambda cast: case_services.deputyships_end(person=cast["deputy"], by=BY, reason="left"),
    ),
    Write(
        "cases.services.deputyships_record_expiries",
        case_services,
        ("case.deputy_expired",),
        lambda cast: case_services.deputyships_record_expiries(
            now=timezone.now() + datetime.timedelta(days=400)
        ),
        actor="system:deputy_expiry",
    ),
    Write(
        "cases.services.case_set_status",
        case_services,
        ("case.status_changed",),
        lambda cast: case_services.case_set_status(
            case=_case(cast), status="closed", reason="Investigation finished", by=BY
        ),
    ),
    Write(
        "cases.services.dataset_register",
        case_services,
        ("dataset.registered",),
        lambda cast: case_services.dataset_register(
            case=_case(cast),
            image_id=NEW_IMAGE_ID,
            description="Phone image",
            delivered_by="Police unit North",
            imported_at=None,
            environments=["production", "experiment"],
            by=BY,
        ),
    ),
    Write(
        "cases.services.dataset_report_last_access",
        case_services,
        ("dataset.last_access_reported",),
        lambda cast: case_services.dataset_report_last_access(
            dataset=Dataset.objects.select_related("case").get(image_id=IMAGE_ID),
            last_accessed_at=timezone.now() - datetime.timedelta(hours=1),
            by=BY,
        ),
    ),
    # people: four eyes
    Write(
        "people.services.proposals.person_create_propose",
        proposal_services,
        ("person.change_proposed",),
        lambda cast: proposal_services.person_create_propose(
            username="newlead",
            roles=["case_lead"],
            proposed_by=cast["administrator"],
            by=BY,
            reason="new lead",
        ),
    ),
    Write(
        "people.services.proposals.person_roles_propose",
        proposal_services,
        ("person.change_proposed",),
        lambda cast: proposal_services.person_roles_propose(
            person=cast["engineer"],
            roles=["engineer", "investigator"],
            proposed_by=cast["administrator"],
            by=BY,
        ),
    ),
    Write(
        "people.services.proposals.person_screening_propose",
        proposal_services,
        ("person.change_proposed",),
        lambda cast: proposal_services.person_screening_propose(
            person=cast["engineer"],
            valid_until=datetime.date(2030, 1, 1),
            reference="S-1",
            proposed_by=cast["administrator"],
            by=BY,
        ),
    ),
    Write(
        "people.services.proposals.person_sso_subject_propose",
        proposal_services,
        ("person.change_proposed",),
        lambda cast: proposal_services.person_sso_subject_propose(
            person=cast["engineer"],
            subject="sub-new",
            reason="account replaced",
            proposed_by=cast["administrator"],
            by=BY,
        ),
    ),
    Write(
        "people.services.proposals.person_proposal_approve",
        proposal_services,
        ("person.change_approved", "person.roles_changed"),
        lambda cast: proposal_services.person_proposal_approve(
            proposal=PersonProposal.objects.get(), approved_by=second_administrator(), by=BY
        ),
        prepare=lambda cast: propose_roles(cast),
    ),
    Write(
        "people.services.proposals.person_proposal_reject",
        proposal_services,
        ("person.change_rejected",),
        lambda cast: proposal_services.person_proposal_reject(
            proposal=PersonProposal.objects.get(), rejected_by=second_administrator(), by=BY, note="no"
        ),
        prepare=lambda cast: propose_roles(cast),
    ),
    # people
    Write(
        "people.services.person_create",
        people_services,
        ("person.created",),
        lambda cast: people_services.person_create(
            username="newcomer", roles=["investigator"], password="Amber-Kite-Lantern-47", by=BY
        ),
    ),
    Write(
        "people.services.person_set_roles",
        people_services,
        ("person.roles_changed",),
        lambda cast: people_services.person_set_roles(
            person=cast["investigator"], roles=["investigator", "engineer"], by=BY
        ),
    ),
    Write(
        "people.services.person_set_screening",
        people_services,
        ("person.screening_changed",),
        lambda cast: people_services.person_set_screening(
            person=cast["investigator"], valid_until=datetime.date(2030, 1, 1), reference="AIVD-1", by=BY
        ),
    ),
    Write(
        "people.services.person_deactivate",
        people_services,
        ("person.deactivated",),
        lambda cast: people_services.person_deactivate(person=cast["investigator"], reason="left", by=BY),
    ),
    Write(
        "people.services.person_reactivate",
        people_services,
        ("person.reactivated",),
        lambda cast: people_services.person_reactivate(person=cast["investigator"], reason="back", by=BY),
        prepare=lambda cast: people_services.person_deactivate(
            person=cast["investigator"], reason="left", by=BY
        ),
    ),
    Write(
        "people.services.person_update_details",
        people_services,
        ("person.details_changed",),
        lambda cast: people_services.person_update_details(
            person=cast["investigator"],
            first_name="Iris",
            last_name="Visser",
            email="iris.visser@nfi.example",
            employee_number="E-1001",
            by=BY,
        ),
    ),
    Write(
        "people.services.person_set_password",
        people_services,
        ("person.password_changed",),
        lambda cast: people_services.person_set_password(
            person=cast["investigator"], password="Cobalt-Heron-Violin-82", by=BY
        ),
    ),
    Write(
        "people.services.person_bind_sso_subject",
        people_services,
        ("person.sso_subject_bound",),
        lambda cast: people_services.person_bind_sso_subject(
            person=cast["investigator"], subject="sub-investigator", by=BY
        ),
    ),
    # the second factor of password sign-in
    Write(
        "people.services.second_factor.second_factor_enrol",
        second_factor_services,
        ("person.second_factor_enrolled",),
        lambda cast: second_factor_services.second_factor_enrol(
            person=cast["operator"], key=SECOND_FACTOR_KEY, code=code_now(SECOND_FACTOR_KEY), by=BY
        ),
    ),
    Write(
        # A wrong code: its refusal is the event, with the throttle's count (an accepted code writes
        # nothing; the change it guards does).
        "people.services.second_factor.app_code_confirm",
        second_factor_services,
        ("person.second_factor_confirm_failed",),
        lambda cast: second_factor_services.app_code_confirm(
            person=cast["operator"], code=f"{(int(code_now(SECOND_FACTOR_KEY)) + 1) % 1_000_000:06d}", by=BY
        ),
        prepare=_enrol_operator,
        outcome="failure",
    ),
    Write(
        "people.services.second_factor.second_factor_check",
        second_factor_services,
        ("person.recovery_code_used",),
        lambda cast: second_factor_services.second_factor_check(
            person=cast["operator"], code=_a_recovery_code(cast), by=BY
        ),
        prepare=_enrol_operator,
    ),
    Write(
        "people.services.second_factor.recovery_codes_renew",
        second_factor_services,
        ("person.recovery_codes_renewed",),
        lambda cast: second_factor_services.recovery_codes_renew(person=cast["operator"], by=BY),
        prepare=_enrol_operator,
    ),
    Write(
        "people.services.second_factor.second_factor_remove",
        second_factor_services,
        ("person.second_factor_removed",),
        lambda cast: second_factor_services.second_factor_remove(person=cast["operator"], by=BY),
        prepare=_enrol_operator,
    ),
    Write(
        "people.services.second_factor.second_factor_reset",
        second_factor_services,
        ("person.second_factor_reset",),
        lambda cast: second_factor_services.second_factor_reset(
            person=cast["operator"], reason="phone and codes lost", by=BY
        ),
        prepare=_enrol_operator,
    ),
    Write(
        "people.services.proposals.person_second_factor_reset_propose",
        proposal_services,
        ("person.change_proposed",),
        lambda cast: proposal_services.person_second_factor_reset_propose(
            person=cast["operator"], reason="phone and codes lost", proposed_by=cast["administrator"], by=BY
        ),
        prepare=_enrol_operator,
    ),
    # api clients and tokens
    Write(
        "api_clients.services.api_client_create",
        client_services,
        ("api_client.created",),
        lambda cast: client_services.api_client_create(
            name="ci", environment="test", scopes=["cases:write"], by=BY
        ),
    ),
    Write(
        "api_clients.services.personal_token_create",
        client_services,
        ("personal_token.created",),
        lambda cast: client_services.personal_token_create(person=cast["engineer"], by=BY),
    ),
    Write(
        "api_clients.services.expire_tokens",
        client_services,
        ("api_token.expired",),
        lambda cast: client_services.expire_tokens(),
        prepare=_expire_client,
        actor="system:expire_tokens",
    ),
    Write(
        "api_clients.services.api_client_deactivate",
        client_services,
        ("api_client.deactivated",),
        lambda cast: client_services.api_client_deactivate(
            client=ApiClient.objects.get(name="hansken_experiment"), by=BY, reason="replaced"
        ),
    ),
    Write(
        "api_clients.services.personal_token_revoke",
        client_services,
        ("personal_token.revoked",),
        lambda cast: client_services.personal_token_revoke(
            token=PersonalToken.objects.get(user=cast["engineer"]), by=BY, reason="leaked"
        ),
    ),
    # grants and access requests
    Write(
        "authz.services.grant_create",
        authz_services,
        ("grant.created",),
        _make_grant,
    ),
    Write(
        "authz.services.grant_change",
        authz_services,
        ("grant.changed",),
        lambda cast: authz_services.grant_change(
            grant=_grant(cast),
            rights=["read"],
            reason="No search needed",
            changed_by=cast["case_lead"],
            by=BY,
        ),
        prepare=_make_grant,
    ),
    Write(
        "authz.services.grant_revoke",
        authz_services,
        ("grant.revoked",),
        lambda cast: authz_services.grant_revoke(
            grant=_grant(cast), reason="Work finished", revoked_by=cast["case_lead"], by=BY
        ),
        prepare=_make_grant,
    ),
    Write(
        "authz.services.case_sign_off",
        authz_services,
        ("grant.revoked", "case.person_signed_off"),
        lambda cast: authz_services.case_sign_off(
            case=_case(cast),
            person=cast["investigator"],
            reason="Left the team",
            signed_off_by=cast["case_lead"],
            by=BY,
        ),
        prepare=_make_grant,
    ),
    Write(
        "authz.services.grants_revoke_all_of_person",
        authz_services,
        ("grant.revoked",),
        lambda cast: authz_services.grants_revoke_all_of_person(
            person=cast["investigator"], reason="left", by=BY
        ),
        prepare=_make_grant,
    ),
    Write(
        "authz.services.grants_record_expiries",
        authz_services,
        ("grant.expired",),
        lambda cast: authz_services.grants_record_expiries(now=timezone.now() + datetime.timedelta(days=60)),
        prepare=_make_grant,
        actor="system:grant_expiry",
    ),
    Write(
        "authz.services.access_request_create",
        authz_services,
        ("access_request.created",),
        _make_request,
    ),
    Write(
        "authz.services.access_request_approve",
        authz_services,
        ("grant.created", "access_request.approved"),
        lambda cast: authz_services.access_request_approve(
            access_request=AccessRequest.objects.get(requester=cast["investigator"]),
            approved_by=cast["case_lead"],
            by=BY,
        ),
        prepare=_make_request,
    ),
    Write(
        "authz.services.access_request_reject",
        authz_services,
        ("access_request.rejected",),
        lambda cast: authz_services.access_request_reject(
            access_request=AccessRequest.objects.get(requester=cast["investigator"]),
            rejected_by=cast["case_lead"],
            note="Not needed for your task",
            by=BY,
        ),
        prepare=_make_request,
    ),
    # retention
    Write(
        "retention.services.policy_set",
        retention_services,
        ("retention_policy.set",),
        _override,
    ),
    Write(
        "retention.services.policy_override_remove",
        retention_services,
        ("retention_policy.override_removed",),
        lambda cast: retention_services.policy_override_remove(case=_case(cast), by=BY),
        prepare=_override,
    ),
    Write(
        "retention.services.notice_decide",
        retention_services,
        ("retention_notice.kept",),
        lambda cast: retention_services.notice_decide(
            notice=_notice(cast),
            decision="keep",
            reason="Appeal pending",
            keep_until=timezone.localdate() + datetime.timedelta(days=30),
            decided_by=cast["case_lead"],
            by=BY,
        ),
        prepare=_idle_dataset,
    ),
    Write(
        "retention.services.removal_confirm",
        retention_services,
        ("removal_task.confirmed", "dataset.deleted"),
        lambda cast: retention_services.removal_confirm(
            task=RemovalTask.objects.get(dataset=cast.dataset),
            environment="production",
            removed_at=timezone.now(),
            reference="CHG-7",
            confirmed_by=cast["operator"],
            by=BY,
        ),
        prepare=_delete_requested,
    ),
    # privacy statement
    Write(
        "privacy_statement.services.statement_draft_create",
        privacy_services,
        ("privacy_statement.draft_created",),
        _privacy_draft,
    ),
    Write(
        "privacy_statement.services.statement_draft_update",
        privacy_services,
        ("privacy_statement.draft_changed",),
        lambda cast: privacy_services.statement_draft_update(
            version=StatementVersion.objects.get(),
            author=cast["privacy_officer"],
            by=BY,
            source_en="Changed.",
        ),
        prepare=_privacy_draft,
    ),
    Write(
        "privacy_statement.services.statement_draft_discard",
        privacy_services,
        ("privacy_statement.draft_discarded",),
        lambda cast: privacy_services.statement_draft_discard(
            version=StatementVersion.objects.get(), author=cast["privacy_officer"], by=BY
        ),
        prepare=_privacy_draft,
    ),
    Write(
        "privacy_statement.services.statement_publish",
        privacy_services,
        ("privacy_statement.published",),
        _privacy_publish,
        prepare=_privacy_draft,
    ),
    Write(
        "privacy_statement.services.statement_acknowledge",
        privacy_services,
        ("privacy_statement.acknowledged",),
        lambda cast: privacy_services.statement_acknowledge(
            version=StatementVersion.objects.get(), person=cast["investigator"], by=BY
        ),
        prepare=_privacy_published,
    ),
    # monitoring
    Write(
        "siem.services.alert_record",
        siem_services,
        ("monitoring.alert_raised",),
        lambda cast: siem_services.alert_record(sighting=denials_sighting()),
        actor="system:monitoring",
    ),
    Write(
        "siem.services.alert_acknowledge",
        siem_services,
        ("monitoring.alert_acknowledged",),
        lambda cast: siem_services.alert_acknowledge(
            alert_id=Alert.objects.get().pk,
            person=cast["privacy_officer"],
            note="Checked with the lead",
            by=BY,
        ),
        prepare=_raise_alert,
    ),
    # privileged traces
    Write(
        "privilege.services.marks_record",
        privilege_services,
        ("privileged_marks.recorded",),
        lambda cast: privilege_services.marks_record(
            case=_case(cast),
            marks=[
                MarkInput(
                    str(IMAGE_ID),
                    "0-3",
                    "confirmed",
                    datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
                    "reviewer",
                    "mail to counsel",
                )
            ],
            by=BY,
        ),
    ),
    # hashtotals: the imported side's upload, which also compares it with the delivered one
    Write(
        "hashtotals.services.manifest_upload",
        hashtotal_services,
        ("hash_manifest.uploaded", "hash_comparison.made"),
        lambda cast: _manifest(cast, "imported", _MANIFEST.replace(b"e3b0", b"E3B0") + _OTHER),
        prepare=lambda cast: _manifest(cast, "delivered", _MANIFEST),
    ),
    # release test reports
    Write(
        "test_reports.services.release_create",
        report_services,
        ("release.created",),
        lambda cast: report_services.release_create(
            version="1.0.0",
            released_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
            notes="First release",
            by=BY,
        ),
    ),
    Write(
        "test_reports.services.report_upload",
        report_services,
        ("test_report.uploaded",),
        lambda cast: report_services.report_upload(
            release=Release.objects.get(version="1.0.0"),
            kind="unit",
            source=io.BytesIO(_REPORT),
            original_name="unit.xml",
            by=BY,
        ),
        prepare=lambda cast: _release(),
    ),
    # the trail's own review writer
    Write(
        "audit.services.audit_opened",
        audit_services,
        ("audit.viewed",),
        lambda cast: audit_services.audit_opened(by=BY, view="events", filters={"user": "investigator"}),
        changes_rows=False,
    ),
]

# Public functions of services modules that are not seam writers, each with the reason. Keep this
# short: a writer that changes anything a court may ask about belongs in WRITES.
NOT_SEAM_WRITERS: dict[str, str] = {
    "people.services.needs_four_eyes": "says whether a new person's roles need a second administrator",
    "api_clients.services.api_client_clean_terms": "checks a client's terms; writes nothing",
    "audit.services.model_change_event_id": "computes an event id; writes nothing",
    "audit.services.audit_record": "the trail's writer itself (every WRITES entry goes through it)",
    "audit.services.audit_record_many": "the trail's writer itself, for several events (test_audit_chain)",
    "audit.services.audit_record_client_events": (
        "the trail's writer for a machine client's events: its events are the change "
        "(test_audit_client_events, test_authz_denial_trail)"
    ),
    "audit.services.usage_events_record": "Hansken's usage events: they are the change (test_audit_api)",
    "audit.services.model_changes_record": "auditlog diffs: they are the change (test_audit_model_changes)",
    "audit.services.checkpoint_write": "anchors the chain; its record is the checkpoint (test_audit_chain)",
    "audit.services.verification_failed": "a broken chain: the event is the change (test_audit_chain)",
    "audit.services.verification_run": "verifies; writes only through verification_failed",
    "authz.services.grants_notify_ending_soon": "notifications to people, not a change of rights or data",
    "notifications.services.notify": "a notification; the writer that caused it records the cause",
    "privacy_statement.services.start_of_day": "computes the time a date begins; writes nothing",
    "privacy_statement.services.last_effective_day": "computes a date; writes nothing",
    "notifications.services.notification_mark_read": "a person marks their own notification as read",
}


def _project_apps() -> list[str]:
    """The labels' modules of this project's own apps (not Django's or a library's)."""
    root = Path(settings.BASE_DIR).resolve()
    return [
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root) and ".venv" not in Path(config.path).parts
    ]


def _services_modules(app: str) -> list[ModuleType]:
    try:
        module = importlib.import_module(f"{app}.services")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.services":
            raise
        return []
    modules = [module]
    if hasattr(module, "__path__"):  # a services package: every module in it
        modules += [
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(module.__path__, f"{module.__name__}.")
        ]
    return modules


def public_writers() -> set[str]:
    """Every public function defined in the services of this project's apps, as ``module.name``."""
    found: set[str] = set()
    for app in _project_apps():
        for module in _services_modules(app):
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if not name.startswith("_") and function.__module__ == module.__name__:
                    found.add(f"{module.__name__}.{name}")
    return found
