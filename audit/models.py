"""The audit trail's tables: the chained events, the chain head that every writer locks, and the
checkpoints."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import PERSON_HISTORY_ACTIONS


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")


class AuditEvent(models.Model):
    """One row of the append-only audit trail. Fields follow NEN 7513 and the BIO logging control:
    who, on whose behalf, what, which object, when, from where, with what result, on what basis.

    ``sequence`` orders the chain; ``hash`` covers a canonical encoding of every field and the
    previous row's hash (``audit.chain``).
    """

    sequence = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    on_behalf_of = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=200, blank=True)
    client_name = models.CharField(max_length=100, blank=True)
    environment = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    source_address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    project_id = models.UUIDField(null=True, blank=True)
    image_id = models.UUIDField(null=True, blank=True)
    trace_uid = models.CharField(max_length=500, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    grant_id = models.BigIntegerField(null=True, blank=True)
    # On what basis the access happened, for Hansken's usage events (empty for governance events):
    # ``grant`` (grant_id names it), ``case_lead`` (the case lead or a deputy), ``no_grant``,
    # ``unknown_user`` or ``unknown_project``. A column rather than a flag in ``details``, so the
    # review can filter on it and Hansken's own details stay exactly as sent.
    basis = models.CharField(max_length=20, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["project_id", "sequence"], name="audit_project_seq"),
            models.Index(fields=["actor", "sequence"], name="audit_actor_seq"),
            # Not a plain index on action (nor Django's extra LIKE index): a few action codes cover
            # millions of rows, and with the sequence every key is distinct, so an append lands at
            # the end of its action's range instead of in a long run of equal keys.
            models.Index(fields=["action", "sequence"], name="audit_action_seq"),
            # The history of a person's standing (screening, active), read back by username for
            # "access at a moment" and the screening-lapsed rule: a few rows among millions, found
            # by the username in their details (``details__username__in``), not by reading every
            # change of that kind.
            models.Index(
                KeyTransform("username", "details"),
                name="audit_person_history",
                condition=Q(action__in=PERSON_HISTORY_ACTIONS),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor}"


class Basis(models.TextChoices):
    GRANT = "grant", _("Grant")
    CASE_LEAD = "case_lead", _("Case lead or deputy")
    NO_GRANT = "no_grant", _("No grant")
    UNKNOWN_USER = "unknown_user", _("Unknown user")
    UNKNOWN_PROJECT = "unknown_project", _("Unknown project")


class ChainHead(models.Model):
    """The single row that every writer locks to append: it holds the last sequence number and hash,
    so concurrent writers form one chain with no forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("chain head")

    def __str__(self) -> str:
        return f"head at #{self.sequence}"


class ChainCheckpoint(models.Model):
    """The chain's head (sequence and hash) at a moment, written periodically by
    ``audit.tasks.write_checkpoint`` here and to an append-only file outside the database
    (``AUDIT_CHECKPOINT_FILE``). ``audit_verify`` checks the chain against both: a row changed or
    removed before a checkpoint, or a tail cut off after one, no longer matches it. Append-only,
    like the trail (the same triggers)."""

    sequence = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chain checkpoint")
        verbose_name_plural = _("chain checkpoints")
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.sequence}"
