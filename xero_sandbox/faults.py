"""Fault injection: latency, random 500s, organisation offline, whole-API maintenance."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass


@dataclass
class FaultDecision:
    """What the gateway should do to one request."""

    latency: float = 0.0
    status: int | None = None
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


MAINTENANCE_TEXT = "The Xero API is currently offline for maintenance"
ORG_OFFLINE_TEXT = "Organisation offline"


class Faults:
    """Active faults; every rule reads the sandbox clock, so faults expire with it."""

    def __init__(self, clock, seed: int = 1234) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.latency: dict[str | None, float] = {}  # tenant (None = all) -> seconds
        self.error_rate: dict[str | None, float] = {}
        self.offline_until: dict[str, float] = {}
        self.maintenance_until: float | None = None
        self.fail_next: list[tuple[int, str | None]] = []  # (status, tenant)

    def set_latency(self, seconds: float, tenant_id: str | None = None) -> None:
        """Delay each accounting/connections response (real seconds)."""
        with self._lock:
            self.latency[tenant_id] = float(seconds)

    def set_error_rate(self, rate: float, tenant_id: str | None = None, seed: int | None = None) -> None:
        """Answer this fraction of calls with HTTP 500 (seeded, so runs repeat)."""
        with self._lock:
            self.error_rate[tenant_id] = float(rate)
            if seed is not None:
                self._rng = random.Random(seed)

    def org_offline(self, tenant_id: str, seconds: float) -> None:
        """503 'Organisation offline' for one tenant for a while (sandbox clock)."""
        with self._lock:
            self.offline_until[tenant_id] = self.clock.time() + seconds

    def maintenance(self, seconds: float) -> None:
        """503 for the whole API (connections and accounting) for a while."""
        with self._lock:
            self.maintenance_until = self.clock.time() + seconds

    def fail_next_requests(self, count: int, status: int = 500, tenant_id: str | None = None) -> None:
        """The next N accounting calls (for a tenant, or any) fail with a status."""
        with self._lock:
            self.fail_next.extend([(status, tenant_id)] * count)

    def clear(self) -> None:
        with self._lock:
            self.latency.clear()
            self.error_rate.clear()
            self.offline_until.clear()
            self.maintenance_until = None
            self.fail_next.clear()

    def in_maintenance(self) -> bool:
        with self._lock:
            return self.maintenance_until is not None and self.clock.time() < self.maintenance_until

    def decide(self, tenant_id: str | None) -> FaultDecision:
        """Faults for one tenant call, after authentication and rate limits."""
        now = self.clock.time()
        with self._lock:
            decision = FaultDecision(latency=self.latency.get(tenant_id, self.latency.get(None, 0.0)))
            if tenant_id and now < self.offline_until.get(tenant_id, 0.0):
                decision.status, decision.body = 503, ORG_OFFLINE_TEXT
                return decision
            for i, (status, tenant) in enumerate(self.fail_next):
                if tenant is None or tenant == tenant_id:
                    del self.fail_next[i]
                    decision.status = status
                    break
            else:
                rate = self.error_rate.get(tenant_id, self.error_rate.get(None, 0.0))
                if rate and self._rng.random() < rate:
                    decision.status = 500
            if decision.status is not None and decision.status != 503:
                decision.content_type = "application/json"
                decision.body = json.dumps(
                    {
                        "Title": "An error occurred",
                        "Status": decision.status,
                        "Detail": "An error occurred in Xero. Check the API Status page "
                        "http://status.developer.xero.com for current service status.",
                    }
                )
            elif decision.status == 503:
                decision.body = "Service Unavailable"
            return decision

    def describe(self) -> dict:
        now = self.clock.time()
        with self._lock:
            return {
                "latency": {k or "*": v for k, v in self.latency.items()},
                "error_rate": {k or "*": v for k, v in self.error_rate.items()},
                "offline": {t: round(u - now, 3) for t, u in self.offline_until.items() if u > now},
                "maintenance_seconds_left": (
                    round(self.maintenance_until - now, 3)
                    if self.maintenance_until and self.maintenance_until > now
                    else 0
                ),
                "fail_next": len(self.fail_next),
            }
