"""A way back in time for the demo's story, and for nothing else.

``seed_demo`` tells a few weeks of history through the ordinary services, so every row, every audit
event and the chain are exactly what the services write. The services ask ``timezone.now()`` for the
time; inside ``travel_to(moment)`` that answer is ``moment``. Everything else about the services is
unchanged: they cannot be handed a past time through any argument that production code passes.

Why production cannot backdate by accident:
- ``travel_to`` refuses to run unless the setting ``HG_TIME_TRAVEL_ALLOWED`` is true. Only the
  local (``make run``) and test settings set it; the production settings never do, and it is not read
  from the environment, so no deployment can switch it on.
- It only goes back: a moment later than the real clock is refused.
- It is a context manager that restores the real clock when its block ends, also on an error, and
  it refuses to nest, so a forgotten inner block cannot leave the clock stopped.
- It patches the process-wide ``django.utils.timezone.now``: it belongs in a one-off command
  (``seed_demo``), never in a web or worker process, and the command runs it in its own process.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

_real_now = timezone.now
_travelling = False


@contextmanager
def travel_to(moment: datetime.datetime) -> Iterator[None]:
    """Within the block, ``timezone.now()`` (and so ``timezone.localdate()``) answers ``moment``."""
    global _travelling
    if not getattr(settings, "HG_TIME_TRAVEL_ALLOWED", False):
        raise ImproperlyConfigured("Only the demo and tests travel in time: HG_TIME_TRAVEL_ALLOWED is off.")
    if timezone.is_naive(moment):
        raise ValueError("Give an aware moment.")
    if moment > _real_now():
        raise ValueError("Time travel only goes back: the moment is in the future.")
    if _travelling:
        raise RuntimeError("Already travelling: end the block before starting another.")
    _travelling = True
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = _real_now
        _travelling = False
