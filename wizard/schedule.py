"""When a connection's next scheduled re-sync is due, spread over the interval.

Each connection keeps a fixed phase within its interval (ids spaced by the golden ratio, so any
run of consecutive ids covers the interval evenly). The next re-sync is the last phase point no
later than one interval after this sync finished: data is never older than the interval, and a
thousand connections created in the same minute come due spread over the whole interval instead
of together at the top of every hour. (The first re-sync after aligning to the phase can come
early, once.)
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

GOLDEN = (math.sqrt(5) - 1) / 2
EPOCH = datetime(2026, 1, 1)


def phase(connection_id: int) -> float:
    """Where in its interval a connection's re-syncs fall, in [0, 1)."""
    return (connection_id * GOLDEN) % 1.0


def next_sync_at(connection_id: int, interval_minutes: int, finished_at: datetime) -> datetime:
    interval = interval_minutes * 60.0
    offset = phase(connection_id) * interval
    latest = (finished_at - EPOCH).total_seconds() + interval
    due = math.floor((latest - offset) / interval + 1e-9) * interval + offset  # (rounding at a phase point)
    return EPOCH + timedelta(seconds=due)
