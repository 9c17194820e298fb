"""Forward every audit event after the cursor to the SIEM now (the Celery task does it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siem.forwarder import forward


class Command(BaseCommand):
    help = "Send every audit event not yet delivered to the SIEM (SIEM_HOST), in sequence order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=None, help="Events per connection.")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size is not None and chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        result = forward(chunk_size=chunk_size)
        if not result.enabled:
            self.stdout.write("SIEM_HOST is not set: forwarding is off.")
            return
        if not result.ran:
            self.stdout.write("Another forwarder is running; nothing done.")
            return
        summary = (
            f"Delivered {result.events} events and {result.checkpoints} checkpoints; "
            f"the SIEM has everything up to #{result.last_sequence}."
        )
        if result.error:
            raise CommandError(f"{summary} Then delivery failed: {result.error}")
        self.stdout.write(summary)
