"""The demo's story: a few weeks of believable history, told through the ordinary services.

``seed_demo`` first makes the cast (people, cases, datasets, the Hansken client, the privacy
statement), then plays ``STORY`` in order. Each step happens ``days_ago`` days before now: the
command moves the clock back to that moment (``hansken_governance.clock.travel_to``, allowed only
outside production) and calls the services, so every row, every audit event and the chain are what
the services write; ``audit_verify`` passes afterwards. Steps must be in time order.

What a newcomer meets after ``make run`` (and what ``tests/browser/test_demo_story.py`` checks):
grants given, extended, narrowed, revoked and expired; one access request approved and one refused;
Hansken usage, a denied attempt and a burst of denied decisions that raised an alert; a dataset idle
long enough for a retention notice still waiting, one kept with a reason, one removed and confirmed,
and one whose removal an operator still has to confirm; a closed case; privileged marks (one still
suspected); a hashtotal comparison that found a difference; a screening ending soon, a person whose
screening has ended, and a CI client whose token ends soon.

To add a chapter (e.g. release test reports), append a ``StoryStep`` at its moment in the list.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils import timezone

from api_clients.models import ApiClient
from api_clients.services import api_client_create
from audit.actor import Actor
from audit.append import ClientEvent
from audit.models import Outcome
from audit.services import audit_record_client_events, checkpoint_write, usage_events_record
from audit.usage import UsageEvent
from authz import actions as authz_actions
from authz.models import AccessRequest, Grant
from authz.services import (
    access_request_approve,
    access_request_create,
    access_request_reject,
    grant_change,
    grant_create,
    grant_revoke,
    grants_record_expiries,
)
from cases.models import Case, CaseStatus, Dataset
from cases.services import case_set_status
from hansken_governance.environments import Environment
from hashtotals.services import manifest_upload
from people.roles import role_texts
from people.services import person_create
from privilege.marks_input import MarkInput
from privilege.services import marks_record
from retention.models import RemovalStatus, RemovalTask, RetentionNotice
from retention.services import notice_decide, removal_confirm
from retention.sweep import retention_sweep
from siem.rules import sweep as monitoring_sweep


@dataclass
class DemoWorld:
    """What the cast made, and what earlier steps made that later steps need."""

    people: dict[str, User]
    cases: dict[str, Case]
    datasets: dict[str, Dataset]
    client: ApiClient
    grants: dict[str, Grant] = field(default_factory=dict)
    requests: dict[str, AccessRequest] = field(default_factory=dict)

    def person(self, username: str) -> User:
        return self.people[username]

    def browser(self, username: str) -> Actor:
        """The person acting in the browser (as the pages would name them)."""
        person = self.people[username]
        return Actor(username=username, channel="browser", user_id=person.pk)

    def hansken(self) -> Actor:
        return Actor(
            username=f"client:{self.client.name}",
            client_name=self.client.name,
            environment=self.client.environment,
            channel="api",
        )


@dataclass(frozen=True)
class StoryStep:
    days_ago: float
    what: str  # printed as the story is told
    run: Callable[[DemoWorld], None]


def _now() -> datetime.datetime:
    return timezone.now()


def _days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# The chapters


def grants_given(world: DemoWorld) -> None:
    lead = world.person("lead.devries")
    heron = world.cases["heron"]
    for key, grantee, rights, days, reason in (
        (
            "bakker-heron",
            "investigator.bakker",
            ["read", "search", "export"],
            35,
            "Tactical analysis of the laptop",
        ),
        ("visser-heron", "engineer.visser", ["read", "search"], 10, "Parser fault in the phone extraction"),
        ("bakker-heron-notes", "investigator.bakker", ["read_added_data"], 60, "Reading the team's notes"),
    ):
        world.grants[key], _ = grant_create(
            case=heron,
            grantee=world.person(grantee),
            rights=rights,
            environments=[Environment.PRODUCTION],
            valid_until=_now() + _days(days),
            reason=reason,
            granted_by=lead,
            by=world.browser("lead.devries"),
        )
    world.grants["bakker-kestrel"], _ = grant_create(
        case=world.cases["kestrel"],
        grantee=world.person("investigator.bakker"),
        rights=["read", "search"],
        environments=[Environment.PRODUCTION],
        valid_until=_now() + _days(90),
        reason="Mail review for the tax fraud charge",
        granted_by=lead,
        by=world.browser("lead.devries"),
    )


def access_requested(world: DemoWorld) -> None:
    world.requests["visser-kestrel"] = access_request_create(
        case=world.cases["kestrel"],
        requester=world.person("engineer.visser"),
        rights=["read", "search", "export"],
        valid_until=_now() + _days(60),
        reason="Want to test the new mail parser on real data",
        by=world.browser("engineer.visser"),
    )
    world.requests["bakker-plover"] = access_request_create(
        case=world.cases["plover"],
        requester=world.person("investigator.bakker"),
        rights=["read", "search"],
        environments=[Environment.PRODUCTION, Environment.EXPERIMENT],
        valid_until=_now() + _days(45),
        reason="The USB drives hold the same chat app as Heron",
        by=world.browser("investigator.bakker"),
    )


def requests_answered(world: DemoWorld) -> None:
    access_request_reject(
        access_request=world.requests["visser-kestrel"],
        rejected_by=world.person("lead.devries"),
        note="Real case data is not for testing a parser; use the test corpus.",
        by=world.browser("lead.devries"),
    )
    world.grants["bakker-plover"], _ = access_request_approve(
        access_request=world.requests["bakker-plover"],
        approved_by=world.person("deputy.jansen"),
        note="Production only: the experiment environment is not needed for this.",
        environments=[Environment.PRODUCTION],
        by=world.browser("deputy.jansen"),
    )


def hansken_usage(world: DemoWorld) -> None:
    """A morning's work on Heron as Hansken reports it, and an attempt on Kestrel without a grant."""
    heron = world.cases["heron"]
    laptop = world.datasets["heron-laptop"]
    start = _now()
    events = [
        UsageEvent(
            event_id=uuid.uuid5(laptop.image_id, f"usage-{n}"),
            occurred_at=start + datetime.timedelta(minutes=7 * n),
            user="investigator.bakker",
            project_id=heron.project_id,
            image_id=laptop.image_id,
            trace_uid=f"{laptop.image_id}:0-{n}",
            action=action,
            outcome="success",
            details={},
        )
        for n, action in enumerate(["search", "read", "read", "search", "read", "export"])
    ]
    kestrel = world.cases["kestrel"]
    events.append(
        UsageEvent(
            event_id=uuid.uuid5(kestrel.project_id, "usage-visser"),
            occurred_at=start + datetime.timedelta(minutes=50),
            user="engineer.visser",
            project_id=kestrel.project_id,
            image_id=None,
            trace_uid="",
            action="search",
            outcome="failure",
            details={"message": "access denied"},
        )
    )
    usage_events_record(
        events=events,
        client_name=world.client.name,
        environment=world.client.environment,
        source_address=None,
        request_id="demo-usage",
    )


def grants_extended_and_narrowed(world: DemoWorld) -> None:
    lead = world.person("lead.devries")
    grant_change(
        grant=world.grants["bakker-heron"],
        changed_by=lead,
        by=world.browser("lead.devries"),
        reason="Export no longer needed: the report is written",
        rights=["read", "search"],
    )
    grant_change(
        grant=world.grants["bakker-kestrel"],
        changed_by=lead,
        by=world.browser("lead.devries"),
        reason="The charge was extended to money laundering",
        valid_until=_now() + _days(120),
    )


def denied_burst(world: DemoWorld) -> None:
    """Hansken asks 25 times within minutes whether engineer.visser may read Kestrel; each denied
    decision is in the trail (as the decision API writes them), and the monitoring raises an alert."""
    kestrel = world.cases["kestrel"]
    role = role_texts(["engineer.visser"]).get("engineer.visser", "")
    audit_record_client_events(
        [
            ClientEvent(
                str(uuid.uuid5(kestrel.project_id, f"denied-{n}")),
                "engineer.visser",
                str(kestrel.project_id),
                None,
                "",
                None,
                {"requested_action": "read", "reason": "no_grant"},
                role,
            )
            for n in range(25)
        ],
        action=authz_actions.DECISION_DENIED,
        outcome=Outcome.DENIED,
        client_name=world.client.name,
        environment=world.client.environment,
        source_address=None,
        request_id="demo-burst",
    )
    monitoring_sweep()


def grant_revoked(world: DemoWorld) -> None:
    grant_revoke(
        grant=world.grants["bakker-heron-notes"],
        reason="The notes were moved to the case file",
        revoked_by=world.person("lead.devries"),
        by=world.browser("lead.devries"),
    )


def grant_expired(world: DemoWorld) -> None:
    """The day after the engineer's grant ran out: the daily sweep records it."""
    grants_record_expiries()


def privileged_marks(world: DemoWorld) -> None:
    phone = world.datasets["heron-phone"]
    now = _now()
    marks = [
        MarkInput(str(phone.image_id), "0-2", "confirmed", now, "reviewer.dejong", "Mail with the lawyer"),
        MarkInput(str(phone.image_id), "0-4-1", "suspected", now, "reviewer.dejong", "Chat with a notary?"),
        MarkInput(
            str(phone.image_id), "0-5", "rejected", now, "reviewer.dejong", "Not the lawyer: a namesake"
        ),
    ]
    marks_record(case=world.cases["heron"], marks=marks, by=world.hansken())


_DELIVERED = "".join(
    f"{digest}  {path}\n"
    for digest, path in (
        ("1" * 64, "Users/suspect/Documents/ledger.xlsx"),
        ("2" * 64, "Users/suspect/Pictures/IMG_0001.jpg"),
        ("3" * 64, "Windows/System32/config/SAM"),
    )
).encode()
# One file came in changed on import: the comparison says so, and the case lead sees it.
_IMPORTED = _DELIVERED.replace(b"2" * 64, b"4" * 64)


def hashtotals_compared(world: DemoWorld) -> None:
    laptop = world.datasets["heron-laptop"]
    operator = world.browser("operator.smit")
    for side, content in (("delivered", _DELIVERED), ("imported", _IMPORTED)):
        manifest_upload(
            dataset=laptop,
            side=side,
            source=io.BytesIO(content),
            original_name=f"{side}.sha256",
            fmt="sha256sum",
            by=operator,
        )


def retention_notices_raised(world: DemoWorld) -> None:
    """The daily sweep finds the datasets nobody opened for 180 days."""
    retention_sweep()


def _notice(world: DemoWorld, dataset_key: str) -> RetentionNotice:
    return RetentionNotice.objects.get(dataset=world.datasets[dataset_key], status="open")


def retention_answered(world: DemoWorld) -> None:
    notice_decide(
        notice=_notice(world, "heron-tapes"),
        decision="keep",
        reason="The court hearing is on 3 March; the tapes are evidence until then.",
        keep_until=(_now() + _days(120)).date(),
        decided_by=world.person("lead.devries"),
        by=world.browser("lead.devries"),
    )
    notice_decide(
        notice=_notice(world, "kestrel-backup"),
        decision="delete",
        reason="A duplicate of the mail server export.",
        keep_until=None,
        decided_by=world.person("lead.devries"),
        by=world.browser("lead.devries"),
    )


def removal_confirmed(world: DemoWorld) -> None:
    task = RemovalTask.objects.get(dataset=world.datasets["kestrel-backup"], status=RemovalStatus.OPEN)
    removal_confirm(
        task=task,
        environment=task.environment,
        removed_at=_now() - datetime.timedelta(hours=2),
        reference="CHG-2291",
        confirmed_by=world.person("operator.smit"),
        by=world.browser("operator.smit"),
    )


def case_closed(world: DemoWorld) -> None:
    case_set_status(
        case=world.cases["sandpiper"],
        status=CaseStatus.CLOSED,
        reason="Verdict final; no appeal.",
        by=world.browser("deputy.jansen"),
    )
    notice_decide(
        notice=_notice(world, "sandpiper-phone"),
        decision="delete",
        reason="The case is closed; nothing of it is kept.",
        keep_until=None,
        decided_by=world.person("deputy.jansen"),
        by=world.browser("deputy.jansen"),
    )


def people_and_clients_change(world: DemoWorld) -> None:
    """A CI client whose token ends soon, and a person whose screening ended (the administrator's
    list); the engineer asks again, for Heron, and the request waits for the case lead."""
    access_request_create(
        case=world.cases["heron"],
        requester=world.person("engineer.visser"),
        rights=["read", "search"],
        valid_until=_now() + _days(21),
        reason="The parser fault is back in the new extraction",
        by=world.browser("engineer.visser"),
    )
    api_client_create(
        name="ci-release",
        environment=Environment.TEST,
        scopes=["reports:write"],
        expires_at=_now() + _days(20),
        by=Actor.command("seed_demo"),
    )
    person_create(
        username="former.dekker",
        roles=["investigator"],
        screened_until=(_now() - _days(1)).date(),
        screening_reference="DEMO",
        first_name="Joost",
        last_name="Dekker",
        email="former.dekker@example.invalid",
        by=Actor.command("seed_demo"),
    )


def statement_redrafted(world: DemoWorld) -> None:
    """The privacy officer starts version 2 of the statement (a draft, not yet published)."""
    from privacy_statement import demo_statement
    from privacy_statement.services import statement_draft_create

    statement_draft_create(
        author=world.person("privacy.meijer"),
        by=world.browser("privacy.meijer"),
        title_nl=demo_statement.TITLE_NL,
        title_en=demo_statement.TITLE_EN,
        source_nl=demo_statement.SOURCE_NL + "\n\n(Concept: de bewaartermijnen worden per zaak getoond.)",
        source_en=demo_statement.SOURCE_EN + "\n\n(Draft: retention periods are shown per case.)",
    )


def checkpoint(world: DemoWorld) -> None:
    checkpoint_write()


STORY: list[StoryStep] = [
    StoryStep(34, "grants given on Heron and Kestrel", grants_given),
    StoryStep(30, "two access requests", access_requested),
    StoryStep(29, "one request refused, one approved narrower", requests_answered),
    StoryStep(26, "Hansken usage on Heron, an attempt on Kestrel without a grant", hansken_usage),
    StoryStep(21, "a grant narrowed, another extended", grants_extended_and_narrowed),
    StoryStep(19.9, "a burst of denied decisions raises an alert", denied_burst),
    StoryStep(17, "a grant revoked", grant_revoked),
    StoryStep(14, "privileged marks on the Heron phone", privileged_marks),
    StoryStep(12, "hashtotals of the Heron laptop compared", hashtotals_compared),
    StoryStep(10, "retention notices for idle datasets", retention_notices_raised),
    StoryStep(8, "one dataset kept, one to be deleted", retention_answered),
    StoryStep(6, "a removal confirmed", removal_confirmed),
    StoryStep(4, "the engineer's grant expired", grant_expired),
    StoryStep(3, "Sandpiper closed, its data to be removed", case_closed),
    StoryStep(2, "the privacy officer drafts version 2 of the statement", statement_redrafted),
    StoryStep(1, "a CI client and a person whose screening ended", people_and_clients_change),
    StoryStep(0.01, "the chain anchored", checkpoint),
]


def check_order(story: list[StoryStep]) -> None:
    moments = [step.days_ago for step in story]
    if moments != sorted(moments, reverse=True):
        raise ValueError("The story's steps must be in time order (days_ago decreasing).")
