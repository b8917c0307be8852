"""A controllable clock: every time rule in the sandbox reads it, tests move it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def parse_instant(value: str) -> datetime:
    """Parse an ISO-8601 instant; a naive value is taken as UTC."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Clock:
    """Real time plus an offset that tests set or advance; it can also be frozen."""

    def __init__(self, start: datetime | str | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        if start is not None:
            self.set(start)
        if frozen:
            self.freeze()

    def time(self) -> float:
        """Seconds since the epoch on the sandbox clock."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> datetime:
        """The sandbox's current instant (UTC, aware)."""
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def set(self, moment: datetime | str) -> datetime:
        """Jump to a given instant (keeps ticking from there unless frozen)."""
        if isinstance(moment, str):
            moment = parse_instant(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        target = moment.timestamp()
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()
        return self.now()

    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the clock forward (or back, with a negative amount)."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def freeze(self) -> None:
        """Stop the clock at its current reading."""
        current = self.time()
        with self._lock:
            self._frozen_at = current

    def unfreeze(self) -> None:
        """Let the clock tick again from its current reading."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def describe(self) -> dict:
        """JSON-friendly view for the admin API."""
        return {
            "now": self.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "frozen": self.frozen,
            "offset_seconds": round(self._offset, 3),
        }
