"""The only writers of the privacy statement: drafts (created, changed, discarded), publication and
acknowledgements. Each writes its audit event in the same transaction; a refusal raises
``ValidationError`` (or ``PermissionDenied``) before anything is stored.

A published version never changes: these services refuse, and so does the database
(``privacy_statement.triggers``).
"""

from __future__ import annotations

import datetime
import difflib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from hansken_governance.environments import TEST_ENVIRONMENTS
from hansken_governance.service_errors import refusal
from people.roles import Role, has_role
from privacy_statement import actions
from privacy_statement.facts import live_facts, substitute, unknown_placeholders
from privacy_statement.models import LANGUAGES, Acknowledgement, StatementVersion, VersionStatus
from privacy_statement.rendering import render, sha256

TEXT_FIELDS = ("title_nl", "title_en", "source_nl", "source_en")
MAX_TITLE = 200
MAX_SOURCE = 200_000
MAX_SUMMARY = 4_000
# An audit event carries at most this much of one field's difference (the SIEM drops details past
# 64 KiB); the hashes before and after are always there.
MAX_DIFF_CHARS = 20_000

OBJECT_TYPE = "privacy_statement_version"


def _require_privacy_officer(person: User) -> None:
    # Defence in depth: the views and the API admit the privacy officer only, but a service never
    # trusts its caller.
    if not has_role(person, Role.PRIVACY_OFFICER):
        raise PermissionDenied("Only the privacy officer drafts and publishes the privacy statement.")


def _check_texts(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, ValidationError] = {}
    cleaned: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            errors[name] = refusal(None, "Give text.", "text_not_text")
            continue
        text = value.replace("\r\n", "\n")
        limit = MAX_TITLE if name.startswith("title") else MAX_SOURCE
        if len(text) > limit:
            errors[name] = refusal(None, "At most %(limit)s characters.", "too_long", limit=limit)
        elif name.startswith("title") and "\n" in text:
            errors[name] = refusal(None, "A title is one line.", "title_one_line")
        else:
            unknown = unknown_placeholders(text)
            if unknown:
                names = ", ".join(f"{{{{ {n} }}}}" for n in unknown)
                errors[name] = refusal(
                    None, "Unknown placeholder: %(names)s.", "unknown_placeholder", names=names
                )
        cleaned[name] = text.strip() if name.startswith("title") else text
    if errors:
        raise ValidationError(errors)
    return cleaned


def _locked_draft(version: StatementVersion) -> StatementVersion:
    locked = StatementVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.DRAFT:
        raise refusal(
            None,
            "Version %(number)s is published and never changes; draft a new version instead.",
            "published",
            number=locked.number,
        )
    return locked


@transaction.atomic
def statement_draft_create(*, author: User, by: Actor, **texts: str) -> StatementVersion:
    """A new draft with the given titles and texts (``title_nl``, ``title_en``, ``source_nl``,
    ``source_en``; missing ones empty)."""
    _require_privacy_officer(author)
    unknown = sorted(set(texts) - set(TEXT_FIELDS))
    if unknown:
        raise ValidationError(
            {name: refusal(None, "This field is not known.", "unknown_field") for name in unknown}
        )
    cleaned = _check_texts({name: texts.get(name, "") for name in TEXT_FIELDS})
    now = timezone.now()
    version = StatementVersion.objects.create(
        status=VersionStatus.DRAFT, created_at=now, created_by=author, updated_at=now, **cleaned
    )
    audit_record(
        action=actions.DRAFT_CREATED,
        actor=by,
        object_type=OBJECT_TYPE,
        object_id=version.pk,
        details={"draft": version.pk, "sha256": {name: sha256(value) for name, value in cleaned.items()}},
    )
    return version


def _difference(before: str, after: str) -> dict[str, Any]:
    diff = "\n".join(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", n=1, lineterm="")
    )
    change: dict[str, Any] = {"sha256_before": sha256(before), "sha256_after": sha256(after)}
    if len(diff) > MAX_DIFF_CHARS:
        change["diff"] = diff[:MAX_DIFF_CHARS]
        change["diff_truncated"] = True
    else:
        change["diff"] = diff
    return change


@transaction.atomic
def statement_draft_update(
    *, version: StatementVersion, author: User, by: Actor, **texts: str
) -> tuple[StatementVersion, bool]:
    """Change a draft's titles and texts (only those given). Returns the draft and whether anything
    changed; an unchanged save writes nothing, not even an event."""
    _require_privacy_officer(author)
    unknown = sorted(set(texts) - set(TEXT_FIELDS))
    if unknown:
        raise ValidationError(
            {name: refusal(None, "This field is not known.", "unknown_field") for name in unknown}
        )
    cleaned = _check_texts(texts)
    version = _locked_draft(version)
    changes = {
        name: _difference(getattr(version, name), value)
        for name, value in cleaned.items()
        if getattr(version, name) != value
    }
    if not changes:
        return version, False
    for name in changes:
        setattr(version, name, cleaned[name])
    version.updated_at = timezone.now()
    version.save(update_fields=[*changes, "updated_at"])
    audit_record(
        action=actions.DRAFT_CHANGED,
        actor=by,
        object_type=OBJECT_TYPE,
        object_id=version.pk,
        details={"draft": version.pk, "changed": changes},
    )
    return version, True


@transaction.atomic
def statement_draft_discard(*, version: StatementVersion, author: User, by: Actor) -> None:
    _require_privacy_officer(author)
    version = _locked_draft(version)
    draft_id = version.pk
    details = {"draft": draft_id, "sha256": {name: sha256(getattr(version, name)) for name in TEXT_FIELDS}}
    version.delete()
    audit_record(
        action=actions.DRAFT_DISCARDED, actor=by, object_type=OBJECT_TYPE, object_id=draft_id, details=details
    )


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the display time zone: a statement takes effect on a date
    as the institute reads it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def last_effective_day(now: datetime.datetime | None = None) -> datetime.date:
    """The last day on which a version published now may take effect (``HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD``
    from today)."""
    today = timezone.localdate(now or timezone.now())
    return today + datetime.timedelta(days=settings.HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD)


@transaction.atomic
def statement_publish(
    *,
    version: StatementVersion,
    effective_from: datetime.datetime,
    change_summary_nl: str,
    change_summary_en: str,
    publisher: User,
    by: Actor,
    now: datetime.datetime | None = None,
) -> StatementVersion:
    """Publish a draft: it gets the next number, takes effect at ``effective_from`` (not before
    today, not after ``last_effective_day``, and not before the version published last), and is
    frozen with the live facts, the Markdown with the placeholders filled in, its sanitised HTML and
    their hashes."""
    _require_privacy_officer(publisher)
    now = now or timezone.now()
    errors: dict[str, ValidationError] = {}
    summaries = {"change_summary_nl": change_summary_nl, "change_summary_en": change_summary_en}
    for name, value in summaries.items():
        if not isinstance(value, str) or not value.strip():
            errors[name] = refusal(None, "Say what changed (in Dutch and in English).", "summary_missing")
        elif len(value) > MAX_SUMMARY:
            errors[name] = refusal(None, "At most %(limit)s characters.", "too_long", limit=MAX_SUMMARY)
    if not isinstance(effective_from, datetime.datetime) or timezone.is_naive(effective_from):
        errors["effective_from"] = refusal(
            None, "Give the date from which the version is in force.", "effective_from_missing"
        )
    elif effective_from < start_of_day(timezone.localdate(now)):
        errors["effective_from"] = refusal(
            None, "A version cannot take effect in the past.", "effective_in_past"
        )
    elif effective_from >= start_of_day(last_effective_day(now) + datetime.timedelta(days=1)):
        # A published version never changes and no newer one may take effect before it: a date far
        # ahead would block every later version until then.
        errors["effective_from"] = refusal(
            None,
            "A version can take effect at most %(days)s days ahead, on %(date)s at the latest.",
            "effective_too_far",
            days=settings.HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD,
            date=last_effective_day(now).isoformat(),
        )
    if errors:
        raise ValidationError(errors)

    # Lock order: the newest published version, then the draft. Two publications at once: the
    # second waits here, then numbers after the first (or trips the unique number and stores nothing).
    latest = (
        StatementVersion.objects.select_for_update()
        .filter(status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    version = _locked_draft(version)
    missing = {
        name: refusal(None, "Needed before publication.", "needed_for_publication")
        for name in TEXT_FIELDS
        if not getattr(version, name).strip()
    }
    if missing:
        raise ValidationError(missing)
    _check_texts({name: getattr(version, name) for name in TEXT_FIELDS})
    if latest is not None and latest.effective_from and effective_from < latest.effective_from:
        raise ValidationError(
            {
                "effective_from": refusal(
                    None,
                    "Version %(number)s takes effect on %(date)s; a newer version cannot take effect "
                    "before it.",
                    "effective_before_latest",
                    number=latest.number,
                    date=timezone.localdate(latest.effective_from).isoformat(),
                )
            }
        )
    number = (StatementVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    facts = live_facts()
    version.number = number
    version.status = VersionStatus.PUBLISHED
    version.effective_from = effective_from
    version.published_at = now
    version.published_by = publisher
    version.change_summary_nl = change_summary_nl.strip()
    version.change_summary_en = change_summary_en.strip()
    version.facts = facts
    for language in LANGUAGES:
        markdown = substitute(getattr(version, f"source_{language}"), facts)
        setattr(version, f"markdown_{language}", markdown)
        setattr(version, f"html_{language}", render(markdown))
        setattr(version, f"sha256_{language}", sha256(markdown))
    version.updated_at = now
    version.save()
    audit_record(
        action=actions.PUBLISHED,
        actor=by,
        object_type=OBJECT_TYPE,
        object_id=version.pk,
        details={
            "version": str(number),
            "draft": version.pk,
            "effective_from": effective_from.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
            "sha256": {language: version.sha256(language) for language in LANGUAGES},
            "facts": facts,
            "change_summary": {language: version.change_summary(language) for language in LANGUAGES},
        },
    )
    return version


@transaction.atomic
def statement_acknowledge(
    *,
    version: StatementVersion,
    person: User,
    by: Actor,
    now: datetime.datetime | None = None,
) -> tuple[Acknowledgement, bool]:
    """Record that ``person`` was shown ``version`` (published). A repeat stores nothing and returns
    the first acknowledgement with ``False``. A test or development client may not record one: an
    acknowledgement is evidence that a real person was informed, and those environments' tokens
    are held by more hands (as they may not touch real cases, ``cases.selectors``)."""
    if by.environment in TEST_ENVIRONMENTS:
        raise PermissionDenied(
            "A test or development client cannot record that a person acknowledged the privacy statement."
        )
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(
            {"version": refusal(None, "Only a published version can be acknowledged.", "not_published")}
        )
    if not person.is_active:
        raise ValidationError(
            {
                "user": refusal(
                    None, "%(name)s is not an active person.", "person_inactive", name=person.get_username()
                )
            }
        )
    existing = Acknowledgement.objects.filter(version=version, person=person).first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint: when the same acknowledgement arrives twice at once, the second finds the
        # unique constraint and answers as a repeat instead of failing.
        with transaction.atomic():
            acknowledgement = Acknowledgement.objects.create(
                version=version,
                person=person,
                acknowledged_at=now or timezone.now(),
                channel=by.channel or "api",
                client_name=by.client_name,
            )
    except IntegrityError:
        return Acknowledgement.objects.get(version=version, person=person), False
    audit_record(
        action=actions.ACKNOWLEDGED,
        actor=by,
        object_type=OBJECT_TYPE,
        object_id=version.pk,
        details={"version": str(version.number), "user": person.get_username()},
    )
    return acknowledgement, True
