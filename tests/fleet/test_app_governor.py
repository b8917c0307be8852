"""The app-wide minute budget (issue 17 item 1): one limit for every tenant, process and host."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import ROOT
from tests.fleet.governor_load import LIMITS
from tests.sync.helpers import connect_org, start_sync, wait_for_run
from workers.sync.governor import Governor, Limits


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_app_budget_holds_across_several_worker_processes(app, redis_url):
    """Four processes, twelve tenants, each tenant allowed 60 a window: the app gets 40 a window."""
    prefix = f"test-gov-{uuid.uuid4().hex[:6]}"
    seconds = 4.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.fleet.governor_load", redis_url, prefix, str(seconds)]
            + [f"tenant-{p}-{t}" for t in range(3)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for p in range(4)
    ]
    admitted = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        admitted.append(json.loads(out))
    # Stamped with Redis' clock at admission (what the limit counts), in whole ms as the script counts.
    times = [round(t * 1000) for per_process in admitted for _tenant, t in per_process]
    window = LIMITS.window_seconds
    assert _most_in_any_window(times, math.ceil(window * 1000)) <= LIMITS.app_budget
    # ... and the budget is used, not starved: at least 3 of the 4 windows' worth was admitted.
    assert len(times) >= LIMITS.app_budget * (seconds / window) * 0.75, len(times)
    # Every process got a share of the app's budget.
    assert all(len(per_process) >= 5 for per_process in admitted), [len(p) for p in admitted]


def test_a_429_for_the_app_minute_stops_every_tenant(app):
    redis = app.extensions["rq"].redis
    limits = Limits(time_scale=60.0)
    first, second = Governor(redis, "tenant-a", limits), Governor(redis, "tenant-b", limits)
    first.block_app(0.6)
    started = time.monotonic()
    with second.slot():
        waited = time.monotonic() - started
    assert waited >= 0.5 and second.last_wait_reason == "app_blocked"


def test_xero_saying_no_app_calls_remain_pauses_the_app_for_a_window(app):
    redis = app.extensions["rq"].redis
    limits = Limits(time_scale=120.0)
    first, second = Governor(redis, "tenant-a", limits), Governor(redis, "tenant-b", limits)
    first.observe_app_remaining(5)
    with second.slot():
        assert second.last_wait_reason == ""  # 5 left: nothing to wait for
    first.observe_app_remaining(0)
    started = time.monotonic()
    with second.slot():
        waited = time.monotonic() - started
    assert waited >= limits.window_seconds - 0.05 and second.last_wait_reason == "app_blocked"


@pytest.mark.slow
def test_three_organisations_on_two_workers_never_meet_xeros_app_limit(app, sandbox, workers):
    """The sandbox enforces an app minute of 30 calls; our governor plans 90 % of it."""
    scale = 30.0  # a Xero minute lasts 2 s
    sandbox.state.limits.configure(time_scale=scale, app_minute=30)
    settings = {"SYNC_PAGE_SIZE": 10, "XERO_TIME_SCALE": scale, "XERO_APP_CALLS_PER_MINUTE": 30}
    workers(**settings)
    workers(**settings)
    orgs = [connect_org(app, sandbox, records=250) for _ in range(3)]
    runs = [start_sync(app, org.connection_id) for org in orgs]
    assert [wait_for_run(app, run, timeout=180) for run in runs] == ["succeeded"] * 3
    calls = [r for r in sandbox.state.requests() if r["path"].startswith("/api.xro/")]
    assert len(calls) > 100
    assert [r for r in calls if r["status"] == 429] == []  # the sandbox counts Xero's way


def test_when_the_app_minute_is_scarce_a_busy_tenant_gets_only_its_fair_share(app):
    """Two organisations want calls in the same window of a 10-call app budget: the busy one cannot
    take nine of them (first come, first served would give it every free one)."""
    redis = app.extensions["rq"].redis
    prefix = f"test-share-{uuid.uuid4().hex[:6]}"
    limits = Limits(concurrent=1000, per_minute=60, app_per_minute=10, app_share=1.0, time_scale=1.0)
    busy, quiet = (Governor(redis, f"tenant-{uuid.uuid4()}", limits, prefix=prefix) for _ in range(2))

    def take(governor: Governor) -> int:
        taken = 0
        while True:
            ok, _wait, _flight, reason, _resume = governor._try(uuid.uuid4().hex)
            if ok != 1:
                return taken
            taken += 1

    assert quiet._try(uuid.uuid4().hex)[0] == 1  # the quiet one has work waiting too
    got_busy = take(busy)
    assert got_busy == 5, got_busy  # half of the app's minute, not the 9 still free
    assert busy._try(uuid.uuid4().hex)[3] == "app_share"
    assert take(quiet) == 4  # the quiet one gets the rest of its share
    assert busy.current_wait(at_least=0.0) is None


def test_a_tenant_with_no_work_waiting_gives_its_share_back(app):
    """Only tenants that asked a moment ago count: one that asked a while back is done and does
    not halve the busy tenant's share."""
    redis = app.extensions["rq"].redis
    prefix = f"test-share-{uuid.uuid4().hex[:6]}"
    limits = Limits(concurrent=1000, per_minute=60, app_per_minute=10, app_share=1.0, time_scale=1.0)
    busy = Governor(redis, f"tenant-{uuid.uuid4()}", limits, prefix=prefix)
    seconds, micros = redis.time()
    now_ms = seconds * 1000 + micros // 1000
    redis.zadd(f"{prefix}:app:active", {"tenant-done": now_ms - 10_000})  # asked 10 s ago
    taken = 0
    while busy._try(uuid.uuid4().hex)[0] == 1:
        taken += 1
    assert taken == 10  # alone with work waiting, it may use the whole minute


def test_organisations_queued_for_a_worker_share_a_scarce_app_minute_from_the_first_call(app):
    """Nine organisations' syncs wait in the queue for a worker while one runs: together they could
    want more than the app's minute (10 tenants x 60 > 100), so the running one gets a tenth of it
    from its first call instead of the whole minute (first come, first served), and the wait says
    it is its share; an organisation in a lower queue does not count against a higher one."""
    redis = app.extensions["rq"].redis
    prefix = f"test-share-{uuid.uuid4().hex[:6]}"
    queued, lower = f"{prefix}:queue:watched", f"{prefix}:queue:scheduled"
    redis.rpush(queued, *[f"sync-run-{n}-1" for n in range(9)])
    redis.rpush(lower, *[f"sync-run-{n}-1" for n in range(100, 190)])
    limits = Limits(concurrent=1000, per_minute=60, app_per_minute=100, app_share=1.0, time_scale=1.0)
    running = Governor(redis, f"tenant-{uuid.uuid4()}", limits, prefix=prefix, waiting_queues=[queued])
    taken = 0
    while running._try(uuid.uuid4().hex)[0] == 1:
        taken += 1
    assert taken == 10
    assert running._try(uuid.uuid4().hex)[3] == "app_share"
    redis.delete(queued)  # the others got workers and finished: the rest of the minute is free
    alone = Governor(redis, f"tenant-{uuid.uuid4()}", limits, prefix=prefix, waiting_queues=[queued])
    taken = 0
    while alone._try(uuid.uuid4().hex)[0] == 1:
        taken += 1
    assert taken == 50  # then, as before, half the minute among the 2 tenants that asked a moment ago
