"""python manage.py retention_sweep

Runs the daily retention sweep now (the same work as the scheduled task): notices on idle data and
data kept past its case's closure limit, reminders, escalations, and warnings of grants and
screenings that end soon. Prints what it did; running it twice sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.actor import Actor
from retention.sweep import retention_sweep


class Command(BaseCommand):
    help = "Run the daily retention sweep now."

    def handle(self, *args: Any, **options: Any) -> None:
        result = retention_sweep(by=Actor.command("retention_sweep"))
        for name, value in result.as_dict().items():
            self.stdout.write(f"{name}: {value}")
