"""The run lock that keeps one execution per sync run: renewed while a long run works, taken back
after Redis lost it, and a run stopped because another execution owns it never claims success."""

from __future__ import annotations

import time

import pytest

from tests.conftest import wait_until
from tests.faults.invariants import assert_no_secret_in, assert_rows_exact, assert_runs_finished, secrets_seen
from tests.sync.helpers import connect_org, run_state, start_sync, wait_for_run


def _lock_key(run_id: int) -> str:
    from wizard.run_watch import run_lock_name

    return run_lock_name(run_id)


def _streams(app, run_id: int) -> dict[str, str]:
    from wizard.extensions import db
    from wizard.models import SyncRun

    with app.app_context():
        db.session.expire_all()
        return {s.stream: s.state for s in db.session.get(SyncRun, run_id).streams}


@pytest.mark.slow
def test_run_lock_is_renewed_for_as_long_as_the_run_works(app, sandbox, fault_workers):
    redis = app.extensions["rq"].redis
    sandbox.state.limits.configure(minute=100_000)
    worker = fault_workers(SYNC_RUN_LOCK_SECONDS=3, SYNC_PAGE_SIZE=40, SYNC_THREADS=1, XERO_CALLS_PER_MINUTE=100_000)
    org = connect_org(app, sandbox, records=1500)
    sandbox.state.faults.set_latency(0.3, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: redis.exists(_lock_key(run_id)), timeout=30)
    started = time.monotonic()
    # Two and a half lease lengths later the lock must still be held: the keeper renewed it.
    while time.monotonic() - started < 7.5 and run_state(app, run_id) not in ("succeeded", "failed"):
        assert redis.exists(_lock_key(run_id)), "the run lock lapsed while the run was still working"
        time.sleep(0.2)
    assert time.monotonic() - started >= 7.5, "the run finished too fast to prove anything; slow it down"
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id, timeout=90) == "succeeded"
    output = worker.output()
    assert "Exception in thread" not in output and "sync.lock_lost" not in output
    assert_rows_exact(app, sandbox, org)
    assert_no_secret_in(output, secrets_seen(app, sandbox))


@pytest.mark.slow
def test_lock_lost_to_redis_is_taken_back_and_the_run_completes(app, sandbox, fault_workers):
    redis = app.extensions["rq"].redis
    sandbox.state.limits.configure(minute=100_000)
    worker = fault_workers(SYNC_RUN_LOCK_SECONDS=3, SYNC_PAGE_SIZE=40, SYNC_THREADS=1, XERO_CALLS_PER_MINUTE=100_000)
    org = connect_org(app, sandbox, records=600)
    sandbox.state.faults.set_latency(0.1, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: redis.exists(_lock_key(run_id)), timeout=30)
    redis.delete(_lock_key(run_id))  # what a Redis that restarted empty looks like to the keeper
    wait_until(lambda: "sync.lock_retaken" in worker.output(), timeout=10)
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id, timeout=90) == "succeeded"
    assert set(_streams(app, run_id).values()) <= {"done", "skipped"}
    assert_rows_exact(app, sandbox, org)


@pytest.mark.slow
def test_run_whose_lock_another_execution_owns_is_left_to_it_never_reported_succeeded(app, sandbox, fault_workers):
    """The lock says another execution owns the run: this one stops writing and reports nothing;
    once that owner is gone (its lease lapses), the sweep hands the run on and it completes."""
    redis = app.extensions["rq"].redis
    sandbox.state.limits.configure(minute=100_000)
    worker = fault_workers(
        SYNC_RUN_LOCK_SECONDS=3,
        SYNC_PAGE_SIZE=40,
        SYNC_THREADS=1,
        XERO_CALLS_PER_MINUTE=100_000,
        SYNC_SWEEP_SECONDS=2,
        SYNC_REVIVE_AFTER_SECONDS=2,
    )
    org = connect_org(app, sandbox, records=1200)
    sandbox.state.faults.set_latency(0.1, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: "done" in _streams(app, run_id).values(), timeout=30)
    redis.set(_lock_key(run_id), "another-execution", px=6_000)  # someone else owns the run for 6 s
    wait_until(lambda: "sync.lock_lost" in worker.output(), timeout=10)
    assert run_state(app, run_id) != "succeeded", "the stopped execution reported the run succeeded"
    sandbox.state.faults.set_latency(0, org.tenant_id)
    state = wait_for_run(app, run_id, timeout=60)
    unfinished = sorted(name for name, s in _streams(app, run_id).items() if s not in ("done", "skipped"))
    assert state == "succeeded" and not unfinished, f"run {state} with unfinished streams {unfinished}"
    assert_runs_finished(app, [run_id])
    assert_rows_exact(app, sandbox, org)
