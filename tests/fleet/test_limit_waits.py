"""The governor knows which of Xero's limits holds a call back and when it frees, so the engine
can say so on the run (wizard/limit_pauses.py); on embedded and real Redis."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import ExitStack

import pytest

from workers.sync.governor import Governor, Limits


def _waiter(governor: Governor) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()

    def wait_for_slot() -> None:
        try:
            with governor.slot(stop):
                pass
        except InterruptedError:
            pass

    thread = threading.Thread(target=wait_for_slot, daemon=True)
    thread.start()
    return thread, stop


def _seen_wait(governor: Governor) -> tuple[str, float]:
    for _ in range(200):
        found = governor.current_wait(at_least=0.0)
        if found is not None:
            return found
        time.sleep(0.01)
    raise AssertionError("the waiting call was never seen")


@pytest.mark.parametrize("limit", ["minute", "concurrent", "app_minute", "blocked"])
def test_current_wait_names_the_limit_and_when_it_frees(app, limit):
    redis = app.extensions["rq"].redis
    prefix = f"test-wait-{uuid.uuid4().hex[:6]}"
    limits = Limits(concurrent=1 if limit == "concurrent" else 5, per_minute=2, app_per_minute=100, time_scale=6.0)
    if limit == "app_minute":
        limits = Limits(per_minute=60, app_per_minute=2, app_share=1.0, time_scale=6.0)
    governor = Governor(redis, f"tenant-{uuid.uuid4()}", limits, prefix=prefix)
    assert governor.current_wait(at_least=0.0) is None
    with ExitStack() as held:
        if limit == "concurrent":
            held.enter_context(governor.slot())  # another call of this organisation is in flight
        elif limit == "blocked":
            governor.block(5.0, "concurrent")  # Xero's 429 named the organisation's calls at once
        else:
            for _ in range(2):  # the (organisation's or app's) minute is used up
                with Governor(
                    redis,
                    f"tenant-{uuid.uuid4()}" if limit == "app_minute" else governor.tenant_id,
                    limits,
                    prefix=prefix,
                ).slot():
                    pass
        before = time.time()
        thread, stop = _waiter(governor)
        problem, resume = _seen_wait(governor)
        stop.set()
    thread.join(timeout=5)
    expected = {"minute": "minute", "concurrent": "concurrent", "app_minute": "app_minute", "blocked": "concurrent"}
    assert problem == expected[limit]
    # It frees when the limit says: the window's oldest call leaves, the slot is reclaimed, the block ends.
    horizon = {"concurrent": limits.slot_timeout, "blocked": 5.0}.get(limit, limits.window_seconds)
    assert before < resume <= before + horizon + 1
    assert governor.current_wait(at_least=0.0) is None  # nobody waits any more


def test_a_sync_held_back_by_the_organisations_minute_says_so_on_the_run_then_goes_on(app, sandbox, workers):
    from tests.sync.helpers import connect_org, start_sync, wait_for_run
    from wizard.extensions import db
    from wizard.models import SyncRun

    # A Xero minute lasts 10 s; the worker waits it out (not handing the worker back: SYNC_LIMIT_YIELD_SECONDS).
    workers(XERO_TIME_SCALE="6", SYNC_LIMIT_YIELD_SECONDS="0")
    org = connect_org(app, sandbox, records=50)
    # Another process of ours (another host, a support re-run) used the organisation's minute.
    governor = Governor(app.extensions["rq"].redis, org.tenant_id, Limits(time_scale=6.0))
    for _ in range(60):
        with governor.slot():
            pass
    run_id = start_sync(app, org.connection_id)
    noted = None
    for _ in range(300):
        with app.app_context():
            run = db.session.get_one(SyncRun, run_id)
            if run.pause_reason:
                noted = (run.state, run.pause_reason, run.paused_until)
                break
        time.sleep(0.1)
    assert noted is not None, "the wait was never noted on the run"
    assert noted[0] == "running" and noted[1] == "limit_minute" and noted[2] is not None
    assert wait_for_run(app, run_id, timeout=90) == "succeeded"
    with app.app_context():
        run = db.session.get_one(SyncRun, run_id)
        assert run.pause_reason == "" and run.paused_until is None  # the next page cleared it
