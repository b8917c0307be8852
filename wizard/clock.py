"""One clock for all business logic, so tests can freeze or move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """Current time as a naive UTC datetime (what we store in the database)."""
    if _now is not None:
        return _now()
    return datetime.now(UTC).replace(tzinfo=None)


def set_clock(now: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); `None` restores the real one."""
    global _now
    _now = now
