"""Per-tenant rate governor shared by every worker through Redis (xero-platform.md §4).

Xero allows a tenant 5 calls in flight, 60 calls a minute and a daily allowance (5,000; 1,000
on Starter). Each call takes a slot in one atomic Lua script that checks all three, using
Redis' clock so every worker agrees on time. A 429 with `Retry-After` blocks the tenant for
everyone; a daily limit is not waited for here but raised, so the run can be parked.

The same script also holds the app-wide minute budget (Xero: 10,000 calls a minute across all
tenants, `X-AppMinLimit-Remaining`): one rolling window and one block key shared by every
tenant, worker process and host on the Redis, admitted together with the tenant's own limits so
no interleaving of two checks can overshoot either. We admit only `app_share` of Xero's figure,
so our own count never meets Xero's 429. Once half of that minute is used, each tenant with work
waiting (it asked in the last twelfth of a minute, at least a second) gets at most an equal share of
it, so when the app's minute is scarce a large organisation's five threads cannot crowd out the
small ones, and a tenant that is done gives its share back. Organisations whose sync is queued
for a worker (the RQ queues at the caller's priority or above, `waiting_queues`) count as waiting
too: when they could together want more than the app's minute, the share applies from the first
call, so the first few organisations to get a worker cannot use the whole minute while the rest
wait for it to roll (the engine hands the worker back while a tenant waits for its share).

`time_scale` shrinks Xero's minute and day (time_scale=60: a minute lasts one second), for the
sandbox's benchmark mode. The minute window carries a small margin so that network jitter
cannot squeeze 61 calls into one of Xero's fixed windows.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis

from wizard.xero.errors import RateLimited

log = logging.getLogger(__name__)

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_flight, max_window = tonumber(ARGV[2]), tonumber(ARGV[3])
local window_ms, slot_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local day_budget, day_ms = tonumber(ARGV[6]), tonumber(ARGV[7])
local app_budget = tonumber(ARGV[8])
local app_blocked = tonumber(redis.call('GET', KEYS[6]) or '0')
if app_blocked > now then return {0, app_blocked - now, 0, 'app_blocked'} end
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return {0, blocked - now, 0, 'blocked'} end
local day_used = tonumber(redis.call('GET', KEYS[4]) or '0')
if day_budget > 0 and day_used >= day_budget then
  local ttl = redis.call('PTTL', KEYS[4])
  if ttl < 0 then ttl = day_ms end
  return {-1, ttl, 0, 'day'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= max_flight then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, 15, 0, 'concurrent', tonumber(first[2]) - now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window_ms)
if redis.call('ZCARD', KEYS[2]) >= max_window then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window_ms - now + 1, 0, 'minute'}
end
if app_budget > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window_ms)
  local app_used = redis.call('ZCARD', KEYS[5])
  if app_used >= app_budget then
    local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) + window_ms - now + 1, 0, 'app_minute'}
  end
  -- Fair share: once half the app's minute is used, no tenant takes more than an equal share of it
  -- among the tenants with work waiting, so one busy organisation cannot crowd out the rest. A
  -- tenant with work waiting asks again within milliseconds; one that asked a twelfth of a minute
  -- ago has none, and its share goes to the others.
  redis.call('ZADD', KEYS[7], now, ARGV[9])
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - math.max(1000, math.floor(window_ms / 12)))
  redis.call('PEXPIRE', KEYS[7], window_ms * 2)
  -- Organisations whose sync waits for a worker (in an RQ queue at the caller's priority or above,
  -- KEYS[8..]) have work waiting too. When all of them together could want more than the app's
  -- minute (each up to its own minute), the share applies from the first call, among them all.
  local active = redis.call('ZCARD', KEYS[7])
  local waiting = active
  for i = 8, #KEYS do waiting = waiting + redis.call('LLEN', KEYS[i]) end
  local sharers = 0
  if waiting * max_window > app_budget then
    sharers = waiting
  elseif app_used * 2 >= app_budget then
    sharers = active
  end
  if sharers > 0 then
    local share = math.max(1, math.floor(app_budget / sharers))
    if redis.call('ZCARD', KEYS[2]) >= share then
      local mine = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
      return {0, tonumber(mine[2]) + window_ms - now + 1, 0, 'app_share'}
    end
  end
  redis.call('ZADD', KEYS[5], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[5], window_ms * 2)
end
redis.call('ZADD', KEYS[1], now + slot_ms, ARGV[1])
redis.call('PEXPIRE', KEYS[1], slot_ms + window_ms)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], window_ms * 2)
if redis.call('INCR', KEYS[4]) == 1 then redis.call('PEXPIRE', KEYS[4], day_ms) end
return {1, now, redis.call('ZCARD', KEYS[1]), 'ok'}
"""

_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000) end
return until_ms
"""


@dataclass(frozen=True)
class Limits:
    concurrent: int = 5
    per_minute: int = 60
    per_day: int = 5000
    time_scale: float = 1.0
    # A slot whose holder died is reclaimed after this many (real) seconds.
    slot_timeout: float = 120.0
    # Xero's limit for the whole app (all tenants), and the share of it we let ourselves use.
    app_per_minute: int = 10_000
    app_share: float = 0.9

    @property
    def app_budget(self) -> int:
        """Calls the whole app may start in one (scaled) minute window; 0 switches the check off."""
        return max(0, math.floor(self.app_per_minute * self.app_share))

    @property
    def window_seconds(self) -> float:
        return 60.0 / self.time_scale * 1.02 + 0.03

    @property
    def day_seconds(self) -> float:
        return 86_400.0 / self.time_scale

    @property
    def calls_per_second(self) -> float:
        """The sustained pace the minute limit allows (for ETAs and the benchmark's bound)."""
        return self.per_minute / self.window_seconds


# Refusals that last until this tenant's own calls leave its window (or its block ends).
OWN_WAITS = frozenset({"minute", "blocked", "app_share"})


class DailyBudgetExhausted(RateLimited):
    """Our own count says today's allowance is used up: park the sync, do not call Xero."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("day", "daily call budget used up", retry_after=retry_after)


class Governor:
    """Admission control for one tenant's calls; safe to share between threads."""

    def __init__(
        self,
        redis: Redis,
        tenant_id: str,
        limits: Limits | None = None,
        prefix: str = "xero:governor",
        waiting_queues: Sequence[str] = (),
    ) -> None:
        self.redis = redis
        self.tenant_id = tenant_id
        self.limits = limits or Limits()
        base = f"{prefix}:{tenant_id}"
        self.keys = [f"{base}:inflight", f"{base}:window", f"{base}:blocked", f"{base}:day"]
        # App-wide: one window and one block for every tenant (`app` cannot be a tenant id, a GUID).
        self.keys += [f"{prefix}:app:window", f"{prefix}:app:blocked", f"{prefix}:app:active"]
        # Redis keys of the RQ queues whose waiting syncs share the app's minute with this tenant.
        self.keys += list(waiting_queues)
        self._acquire = redis.register_script(_ACQUIRE)
        self._block = redis.register_script(_BLOCK)
        self._local = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for a slot (all threads)
        self.last_wait_reason = ""  # which limit made the latest wait (concurrent, minute, app_minute ...)
        self._admitted = threading.local()
        # Threads waiting for a slot now: thread -> (Xero limit problem, resume epoch s, waiting since).
        self._waits: dict[int, tuple[str, float, float, str]] = {}
        self.block_problem = "minute"  # what Xero's latest 429 for this tenant named (Retry-After block)

    def _try(self, token: str) -> tuple[int, int, int, str, int]:
        limits = self.limits
        result = self._acquire(
            keys=self.keys,
            args=[
                token,
                limits.concurrent,
                limits.per_minute,
                math.ceil(limits.window_seconds * 1000),
                math.ceil(limits.slot_timeout * 1000),
                limits.per_day,
                math.ceil(limits.day_seconds * 1000),
                limits.app_budget,
                self.tenant_id,
            ],
        )
        reason = result[3].decode() if isinstance(result[3], bytes) else str(result[3])
        # Concurrency is polled every 15 ms; the slot whose holder died frees at the latest by this.
        resume_ms = int(result[4]) if len(result) > 4 else int(result[1])
        return int(result[0]), int(result[1]), int(result[2]), reason, resume_ms

    @contextmanager
    def slot(self, stop: threading.Event | None = None) -> Iterator[int]:
        """Wait for (and hold, while the call runs) one of the tenant's call slots."""
        token = uuid.uuid4().hex
        started = time.monotonic()
        me, since = threading.get_ident(), time.time()
        try:
            while True:
                ok, wait_ms, in_flight, reason, resume_ms = self._try(token)
                if ok == 1:
                    self._admitted.ms = wait_ms  # on admission the script returns Redis' clock instead
                    break
                self.last_wait_reason = reason
                if ok == -1:
                    raise DailyBudgetExhausted(wait_ms / 1000)
                if stop is not None and stop.is_set():
                    raise InterruptedError("sync stopping")
                self._waits[me] = (self._problem(reason), time.time() + max(resume_ms, 0) / 1000, since, reason)
                time.sleep(min(max(wait_ms, 5), 1000) / 1000)
        finally:
            self._waits.pop(me, None)
        waited = time.monotonic() - started
        with self._local:
            self.waited += waited
        try:
            yield in_flight
        finally:
            # The app window keeps its entry: a started call counts for the minute, ended or not.
            self.redis.zrem(self.keys[0], token)

    def _problem(self, reason: str) -> str:
        """The Xero limit behind a refusal, in X-Rate-Limit-Problem's words."""
        if reason in ("app_minute", "app_blocked", "app_share"):
            return "app_minute"
        if reason == "blocked":
            return self.block_problem
        return reason  # minute, concurrent

    def current_wait(self, at_least: float = 1.0) -> tuple[str, float] | None:
        """The limit a thread has waited for at least `at_least` seconds, and when the latest such
        wait ends (epoch seconds); None when no call has waited that long."""
        now = time.time()
        waits = [
            (resume, problem) for problem, resume, since, _ in list(self._waits.values()) if now - since >= at_least
        ]
        if not waits:
            return None
        resume, problem = max(waits)
        return problem, resume

    def own_wait(self, at_least: float = 1.0) -> tuple[str, float] | None:
        """(Xero limit problem, when this tenant's own window lets its calls go again, epoch seconds)
        if every call that has waited `at_least` seconds waits for it: its 60 a minute, Xero's
        block, or its share of the app's minute. None if none waits, or one waits for something
        that frees for everyone at once (the app's minute) or within moments (5 at once)."""
        now = time.time()
        waits = [
            (resume, reason) for _p, resume, since, reason in list(self._waits.values()) if now - since >= at_least
        ]
        if not waits or any(reason not in OWN_WAITS for _resume, reason in waits):
            return None
        resume, reason = max(waits)
        return self._problem(reason), resume

    @property
    def admitted_at(self) -> float | None:
        """When Redis admitted this thread's latest call (its clock, epoch seconds): the moment the
        limits counted, however long the thread took to get going afterwards."""
        ms = getattr(self._admitted, "ms", None)
        return ms / 1000 if ms is not None else None

    def block(self, seconds: float, problem: str = "minute") -> None:
        """Nobody calls this tenant for `seconds` (a 429's Retry-After; `problem` is the limit it named)."""
        self.block_problem = "concurrent" if "concurren" in (problem or "").lower() else "minute"
        self._block(keys=[self.keys[2]], args=[max(1, math.ceil(seconds * 1000))])
        log.info("governor.blocked tenant=%s seconds=%.2f", self.tenant_id, seconds)

    def block_app(self, seconds: float) -> None:
        """Nobody in the app calls any tenant for `seconds` (a 429 whose problem is the app minute)."""
        self._block(keys=[self.keys[5]], args=[max(1, math.ceil(seconds * 1000))])
        log.warning("governor.app_blocked seconds=%.2f", seconds)

    def observe_app_remaining(self, remaining: int | None) -> None:
        """Xero's X-AppMinLimit-Remaining is the truth: at zero the app stops calling for a window.

        Xero's windows are fixed and its reset time is not sent, so a full (scaled) minute is the
        longest we could have to wait; other apps sharing our client id are caught this way too.
        """
        if remaining is None or remaining > 0:
            return
        self.block_app(self.limits.window_seconds)

    def observe_day_remaining(self, remaining: int | None) -> None:
        """Xero's X-DayLimit-Remaining is the truth: at zero, stop calling for the rest of the day."""
        if remaining is None or remaining > 0:
            return
        key = self.keys[3]
        ttl = self.redis.pttl(key)
        ttl_ms = ttl if ttl and ttl > 0 else math.ceil(self.limits.day_seconds * 1000)
        self.redis.set(key, self.limits.per_day, px=ttl_ms)

    def exhaust_day(self, seconds: float) -> None:
        """Xero said 429 (day): every thread and worker stops calling this tenant until then."""
        self.redis.set(self.keys[3], self.limits.per_day, px=max(1, math.ceil(seconds * 1000)))

    def reset(self) -> None:
        """Forget every counter of this tenant (tests and benchmarks); the app-wide ones stay."""
        self.redis.delete(*self.keys[:4])
