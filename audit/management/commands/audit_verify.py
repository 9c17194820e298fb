"""python manage.py audit_verify

Verifies the whole hash chain against the chain head and every checkpoint (table and file). Prints
``OK <n> events`` and exits 0 when the chain is whole; otherwise names the first broken sequence
number (``broken at sequence N: why``), records ``audit.verification_failed`` and exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.actor import Actor
from audit.services import verification_run


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 naming the first broken sequence number."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verification_run(by=Actor.command("audit_verify"))
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(result.message)
