"""When a connection's next scheduled re-sync is due, spread over the interval.

Each connection keeps a fixed phase within its period (ids spaced by the golden ratio, so any
run of consecutive ids covers the period evenly), and a thousand connections created in the same
minute come due spread over the whole period instead of together at the top of every hour.

The period is the interval less a headroom (`SYNC_SCHEDULE_HEADROOM`, 10 %): a connection's data
is as old as the start of the fetch that brought it, so the re-sync that replaces it must not
only start but *finish* within the interval, after waiting for a worker and running. With a
60-minute interval a re-sync is due every 54 minutes, and one that waits and runs for up to
6 minutes still lands within the hour. (The first re-sync after aligning to the phase can come
early, once.)
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

GOLDEN = (math.sqrt(5) - 1) / 2
EPOCH = datetime(2026, 1, 1)
DEFAULT_HEADROOM = 0.1


def phase(connection_id: int) -> float:
    """Where in its period a connection's re-syncs fall, in [0, 1)."""
    return (connection_id * GOLDEN) % 1.0


def period_seconds(interval_minutes: int, headroom: float = DEFAULT_HEADROOM) -> float:
    """Seconds from one scheduled re-sync to the next: the interval less its headroom."""
    return interval_minutes * 60.0 * (1.0 - min(max(headroom, 0.0), 0.5))


def next_sync_at(
    connection_id: int, interval_minutes: int, finished_at: datetime, headroom: float = DEFAULT_HEADROOM
) -> datetime:
    """The last phase point no later than one period after `finished_at`."""
    period = period_seconds(interval_minutes, headroom)
    offset = phase(connection_id) * period
    latest = (finished_at - EPOCH).total_seconds() + period
    due = math.floor((latest - offset) / period + 1e-9) * period + offset  # (rounding at a phase point)
    return EPOCH + timedelta(seconds=due)
