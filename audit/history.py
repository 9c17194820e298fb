"""A value as it stood at a moment, read back from the changes the audit trail holds.

Screenings, a person's active status and a case's status are plain fields that hold only today's
value. Every change of them is written to the trail in the same transaction, with the value before
and after, so the trail is their history. Each selector that asks "as it was then" reads the changes
in trail order and hands them here.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

# One change: (when it took effect, the value before, the value after), in trail order.
Change = tuple[datetime.datetime, Any, Any]


def value_at(changes: Sequence[Change], at: datetime.datetime, current: Any) -> Any:
    """The value at ``at``: what the last change at or before it set; with none, what the first
    later change replaced; with no change at all, today's value."""
    earlier = [after for moment, _, after in changes if moment <= at]
    if earlier:
        return earlier[-1]
    later = [before for moment, before, _ in changes if moment > at]
    return later[0] if later else current
