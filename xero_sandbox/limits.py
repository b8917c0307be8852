"""Xero's rate limits: per tenant (concurrent, minute, day) and per app (minute).

Windows are fixed and start at a tenant's first call, so they reset at different times
for different tenants (as Xero's do). `time_scale` shrinks a Xero minute/day
(time_scale=60: a minute lasts one second) while keeping the call ratios.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass


@dataclass
class LimitSettings:
    enabled: bool = True
    concurrent: int = 5
    minute: int = 60
    day: int = 5000
    day_starter: int = 1000
    app_minute: int = 10_000
    time_scale: float = 1.0


class RateLimited(Exception):
    def __init__(self, problem: str, retry_after: int | None, headers: dict[str, str]) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.headers = headers


@dataclass
class _Window:
    start: float = 0.0
    count: int = 0


class Limits:
    """Counters behind one lock; `acquire`/`release` bracket every accounting call."""

    def __init__(self, clock, settings: LimitSettings | None = None) -> None:
        self.clock = clock
        self.settings = settings or LimitSettings()
        self._lock = threading.Lock()
        self._minute: dict[tuple[str, str], _Window] = {}
        self._day: dict[tuple[str, str], _Window] = {}
        self._app: dict[str, _Window] = {}
        self._in_flight: dict[tuple[str, str], int] = {}

    def configure(self, **changes) -> LimitSettings:
        """Change settings (enabled, concurrent, minute, day, day_starter, app_minute, time_scale)."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.settings, name):
                    raise ValueError(f"unknown limit setting {name!r}")
                kind = type(getattr(self.settings, name))
                setattr(self.settings, name, kind(value))
        return self.settings

    def describe(self) -> dict:
        return asdict(self.settings)

    def reset(self) -> None:
        """Forget every counter (windows start again)."""
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._app.clear()

    def _spans(self) -> tuple[float, float]:
        scale = self.settings.time_scale or 1.0
        return 60.0 / scale, 86_400.0 / scale

    @staticmethod
    def _roll(window: _Window, now: float, span: float) -> _Window:
        if window.count == 0 or now >= window.start + span:
            window.start, window.count = now, 0
        return window

    def day_limit(self, tier: str) -> int:
        return self.settings.day_starter if tier == "starter" else self.settings.day

    def in_flight(self, client_id: str, tenant_id: str) -> int:
        with self._lock:
            return self._in_flight.get((client_id, tenant_id), 0)

    def app_call(self, client_id: str) -> dict[str, str]:
        """Count a tenant-less call (/connections): app minute limit only."""
        now = self.clock.time()
        minute_span, _ = self._spans()
        with self._lock:
            app = self._roll(self._app.setdefault(client_id, _Window()), now, minute_span)
            if self.settings.enabled and app.count >= self.settings.app_minute:
                raise RateLimited("appminute", self._retry(app, now, minute_span), {"X-AppMinLimit-Remaining": "0"})
            app.count += 1
            return {"X-AppMinLimit-Remaining": str(max(0, self.settings.app_minute - app.count))}

    def acquire(self, client_id: str, tenant_id: str, tier: str) -> tuple[dict[str, str], int]:
        """Admit one tenant call or raise RateLimited; returns headers and in-flight count at start."""
        now = self.clock.time()
        minute_span, day_span = self._spans()
        key = (client_id, tenant_id)
        s = self.settings
        with self._lock:
            app = self._roll(self._app.setdefault(client_id, _Window()), now, minute_span)
            minute = self._roll(self._minute.setdefault(key, _Window()), now, minute_span)
            day = self._roll(self._day.setdefault(key, _Window()), now, day_span)
            day_limit = self.day_limit(tier)
            in_flight = self._in_flight.get(key, 0)
            headers = {
                "X-DayLimit-Remaining": str(max(0, day_limit - day.count)),
                "X-MinLimit-Remaining": str(max(0, s.minute - minute.count)),
                "X-AppMinLimit-Remaining": str(max(0, s.app_minute - app.count)),
            }
            if s.enabled:
                if app.count >= s.app_minute:
                    raise RateLimited("appminute", self._retry(app, now, minute_span), headers)
                if day.count >= day_limit:
                    raise RateLimited("day", self._retry(day, now, day_span), headers)
                if minute.count >= s.minute:
                    raise RateLimited("minute", self._retry(minute, now, minute_span), headers)
                if in_flight >= s.concurrent:
                    raise RateLimited("concurrent", 1, headers)
            app.count += 1
            minute.count += 1
            day.count += 1
            self._in_flight[key] = in_flight + 1
            headers = {
                "X-DayLimit-Remaining": str(max(0, day_limit - day.count)),
                "X-MinLimit-Remaining": str(max(0, s.minute - minute.count)),
                "X-AppMinLimit-Remaining": str(max(0, s.app_minute - app.count)),
            }
            return headers, in_flight

    def release(self, client_id: str, tenant_id: str) -> None:
        key = (client_id, tenant_id)
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 1) - 1)

    def exhaust_day(self, client_id: str, tenant_id: str, tier: str) -> None:
        """Use up a tenant's daily allowance (fault injection)."""
        now = self.clock.time()
        _, day_span = self._spans()
        with self._lock:
            day = self._roll(self._day.setdefault((client_id, tenant_id), _Window()), now, day_span)
            day.count = max(day.count, self.day_limit(tier))
            if day.count and day.start == 0.0:
                day.start = now

    @staticmethod
    def _retry(window: _Window, now: float, span: float) -> int:
        return max(1, math.ceil(window.start + span - now))
