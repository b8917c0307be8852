"""One tenant's Accounting API calls as the sync makes them: governed, authorised, retried, logged.

Every call takes a governor slot, uses a live access token (refreshed single-flight), and is
logged as one structured line (never a token). Minute/concurrency 429s wait for `Retry-After`
and try again; 5xx and network errors back off a few times; everything else is raised.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from wizard.xero import tokens
from wizard.xero.api import XeroApi, XeroResponse
from wizard.xero.errors import RateLimited, TokenExpired, XeroUnavailable
from workers.sync.db_retry import retry_on_lost_connection
from workers.sync.governor import Governor

log = logging.getLogger("workers.sync.calls")


@dataclass
class CallResult:
    response: XeroResponse  # body: the undecoded JSON bytes (the engine decodes them)
    calls: int  # HTTP calls spent, retries and 429s included
    elapsed: float


def is_app_problem(problem: str) -> bool:
    """Xero's X-Rate-Limit-Problem for the app-wide minute (its exact spelling is unconfirmed:
    the sandbox sends `appminute`; `AppMinLimit` style names are matched too)."""
    return "app" in (problem or "").lower()


class TenantClient:
    def __init__(
        self,
        api: XeroApi,
        governor: Governor,
        token_set_id: int,
        tenant_id: str,
        run_id: int,
        stop: threading.Event,
        retries: int = 4,
        backoff: float = 1.0,
        *,
        db_retries: int,
    ) -> None:
        self.api, self.governor = api, governor
        self.token_set_id, self.tenant_id, self.run_id = token_set_id, tenant_id, run_id
        self.stop, self.retries, self.backoff = stop, retries, backoff
        self.db_retries = db_retries

    def get(self, stream: str, resource: str, params: dict[str, Any] | None, since: datetime | None) -> CallResult:
        calls, failures, refused = 0, 0, None
        started = time.monotonic()
        while True:
            token = retry_on_lost_connection(
                partial(tokens.access_token, self.token_set_id, refused=refused), self.db_retries, "access_token"
            )
            elapsed_ms = 0.0
            try:
                with self.governor.slot(self.stop) as in_flight:
                    t0 = time.monotonic()
                    calls += 1
                    try:
                        response = self.api.get(
                            resource, token, self.tenant_id, params=params, if_modified_since=since, raw=True
                        )
                    finally:
                        elapsed_ms = (time.monotonic() - t0) * 1000
            except RateLimited as exc:
                self._log(stream, resource, params, 429, elapsed_ms, 0, exc.correlation_id, problem=exc.problem)
                if exc.problem == "day" and exc.status is not None:
                    self.governor.exhaust_day(exc.retry_after or self.governor.limits.day_seconds / 24)
                if exc.problem == "day" or exc.status is None:
                    raise
                if is_app_problem(exc.problem):
                    # The whole app is over Xero's minute: every tenant waits, not only this one.
                    self.governor.block_app(exc.retry_after or self.governor.limits.window_seconds)
                else:
                    self.governor.block(exc.retry_after or 1.0, exc.problem)
                continue
            except TokenExpired as exc:
                self._log(stream, resource, params, 401, elapsed_ms, 0, exc.correlation_id)
                if refused == token:
                    raise
                refused = token
                continue
            except XeroUnavailable as exc:
                self._log(stream, resource, params, exc.status or 0, elapsed_ms, 0, exc.correlation_id)
                failures += 1
                if failures > self.retries or self.stop.is_set():
                    raise
                time.sleep(self.backoff * 2 ** (failures - 1))
                continue
            self.governor.observe_day_remaining(response.limits.day)
            self.governor.observe_app_remaining(response.limits.app_minute)
            self._log(stream, resource, params, response.status, elapsed_ms, in_flight, response.correlation_id)
            return CallResult(response, calls, time.monotonic() - started)

    def _log(
        self,
        stream: str,
        resource: str,
        params: dict | None,
        status: int,
        elapsed_ms: float,
        in_flight: int,
        correlation_id: str,
        problem: str = "",
    ) -> None:
        where = ""
        if params:
            where = " ".join(f"{k}={params[k]}" for k in ("page", "offset", "fromDate", "date") if k in params)
        log.info(
            "xero.call run=%s tenant=%s stream=%s resource=%s %s status=%s ms=%.0f in_flight=%s correlation_id=%s%s",
            self.run_id,
            self.tenant_id,
            stream,
            resource,
            where,
            status,
            elapsed_ms,
            in_flight,
            correlation_id or "-",
            f" problem={problem}" if problem else "",
        )
