"""How far ahead of our clock a time that Hansken or an operator reports may lie.

Their clocks and ours differ a little, so "in the future" means later than now plus this margin.
Every check of a reported time (a usage event's ``occurred_at``, a mark's ``marked_at``, a dataset's
``imported_at`` and ``last_accessed_at``, a removal's ``removed_at``) uses this one margin.
"""

from __future__ import annotations

import datetime

CLOCK_SKEW = datetime.timedelta(minutes=5)
