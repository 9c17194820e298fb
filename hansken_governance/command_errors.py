"""Turn a service's ValidationError into a clear command error (exit 1, message on stderr)."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def as_command_error(exc: ValidationError) -> CommandError:
    if hasattr(exc, "error_dict"):
        text = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    else:
        text = " ".join(exc.messages)
    return CommandError(text)
