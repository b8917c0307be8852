"""Thin job entry points. They assume an app context (the worker script pushes one).

Arguments and results are ids and counts only, never a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from wizard import jobs, priorities, syncing
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun
from wizard.webhooks import intake as webhook_intake
from workers.sync.engine import SyncEngine

log = logging.getLogger(__name__)
RUN_LOCK_SECONDS = 45  # renewed while the run is alive; a killed worker's lock lapses before RQ retries


def run_sync(sync_run_id: int) -> dict[str, Any]:
    """Run (or resume) one sync run; one execution per run at a time, even if RQ delivers twice."""
    db.engine.dispose(close=False)  # never share the parent's pooled connections after the fork
    # thread_local=False: the keeper thread renews the lock the job's main thread took.
    seconds = int(current_app.config.get("SYNC_RUN_LOCK_SECONDS", RUN_LOCK_SECONDS))
    lock = jobs.redis().lock(
        run_lock_name(sync_run_id), timeout=seconds, blocking_timeout=seconds + 5, thread_local=False
    )
    if not lock.acquire():
        raise LockError(f"sync run {sync_run_id} is being run by another worker")
    engine = SyncEngine(sync_run_id)
    keeper = _LockKeeper(lock, engine.yield_to_owner)
    keeper.start()
    try:
        return engine.run()
    finally:
        keeper.done()
        try:
            lock.release()
        except (LockError, RedisError):
            log.warning("sync.lock_lapsed run=%s", sync_run_id)


def run_lock_name(sync_run_id: int) -> str:
    return f"sync-run-lock:{sync_run_id}"


class _LockKeeper:
    """Renews the run lock from a side thread while the job runs.

    Redis unreachable: keep trying (the job's own Redis calls fail and end it if the outage
    lasts). Lock gone but free (Redis lost its data): take it again with the same token. Lock
    held by someone else: that execution owns the run now, so this one stops (`on_lost`) and
    leaves the run, its progress and checkpoints to it, without reporting it succeeded or failed.
    """

    def __init__(self, lock, on_lost: Callable[[], None]) -> None:
        self.lock, self.on_lost = lock, on_lost
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True, name="sync-lock-keeper")

    def start(self) -> None:
        self._thread.start()

    def _renew(self) -> None:
        while not self._done.wait(self.lock.timeout / 3):
            try:
                self.lock.reacquire()
            except LockNotOwnedError:
                if self._retake():
                    continue
                log.error("sync.lock_lost name=%s", self.lock.name)
                self.on_lost()
                return
            except RedisError as exc:
                log.warning("sync.lock_renew_failed name=%s error=%s", self.lock.name, type(exc).__name__)

    def _retake(self) -> bool:
        try:
            taken = self.lock.acquire(blocking=False, token=self.lock.local.token)
        except RedisError:
            return False
        if taken:
            log.warning("sync.lock_retaken name=%s", self.lock.name)
        return bool(taken)

    def done(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def on_sync_failure(job: Job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback (also for AbandonedJobError after a kill): record it; fail the run at the end."""
    try:
        sync_run_id = int(job.args[0])
    except (IndexError, TypeError, ValueError):
        return
    db.session.rollback()
    run = db.session.get(SyncRun, sync_run_id)
    if run is None or run.finished:
        return
    kind = getattr(exc_value, "kind", None) or (
        "worker_lost" if exc_type.__name__ == "AbandonedJobError" else "sync_failed"
    )
    message = f"{exc_type.__name__}: {exc_value}"[:500]
    run.record_error(kind, message, correlation_id=getattr(exc_value, "correlation_id", ""))
    retrying = bool(job.retries_left and job.retries_left > 0)
    if not retrying:
        run.fail(kind, message, getattr(exc_value, "correlation_id", ""))
        connection_row = db.session.get(Connection, run.connection_id)
        if connection_row is not None and connection_row.state in ("syncing", "paused"):
            connection_row.move_to("failed", kind, message)
    db.session.commit()
    log.warning("sync.job_failed run=%s kind=%s retrying=%s", sync_run_id, kind, retrying)
    db.session.remove()


def sweep() -> dict[str, int]:
    """Every minute: start due scheduled syncs, end runs past their deadline, revive lost ones.

    Scheduled first (chained), so one failing sweep cannot stop the next.
    """
    schedule_sweep()
    db.engine.dispose(close=False)
    now = utcnow()
    started = 0
    for connection in syncing.due_connections(now):
        syncing.start_sync(connection, kind="scheduled")
        started += 1
    expired = 0
    for run in db.session.scalars(
        select(SyncRun).where(SyncRun.state.in_(syncing.ACTIVE_STATES), SyncRun.deadline_at < now)
    ):
        run.fail("sync_deadline", "The sync did not finish before its deadline.")
        connection = db.session.get(Connection, run.connection_id)
        if connection.state in ("syncing", "paused"):
            connection.move_to("failed", "sync_deadline")
        expired += 1
    db.session.commit()
    revived = _revive_lost_runs(now)
    followups = webhook_intake.start_followups()
    aged = priorities.promote_waiting()
    return {"scheduled": started, "expired": expired, "revived": revived, "webhook_followups": followups, "aged": aged}


def _revive_lost_runs(now) -> int:
    """Enqueue again a run whose job vanished from Redis (a lost enqueue, Redis restarted empty):
    queued ones after a grace period, overdue paused ones, and running ones nobody holds the lock of.
    """
    revived = 0
    stale = now - timedelta(seconds=int(current_app.config.get("SYNC_REVIVE_AFTER_SECONDS", 120)))
    for run in db.session.scalars(select(SyncRun).where(SyncRun.state.in_(syncing.ACTIVE_STATES))):
        if run.state == "queued" and run.created_at > stale:
            continue
        if run.state == "paused" and (run.paused_until is None or run.paused_until > stale):
            continue
        if _job_alive(run):
            continue
        syncing.enqueue_run(run)
        revived += 1
    return revived


def _job_alive(run: SyncRun) -> bool:
    """Will RQ run (or is it running) this run's job? A job hash alone is not enough: after Redis
    lost its data, a dying work horse can write its job back with no queue or registry entry."""
    redis = jobs.redis()
    if redis.exists(run_lock_name(run.id)):
        return True  # a work horse is on the run right now
    if not run.rq_job_id:
        return False
    try:
        job = Job.fetch(run.rq_job_id, connection=redis)
        status = job.get_status()
    except NoSuchJobError:
        return False
    queue = jobs.queue_named(job.origin)  # the sync's priority queue (wizard/priorities.py)
    if status == JobStatus.QUEUED:
        return True
    if status == JobStatus.SCHEDULED:
        return run.rq_job_id in ScheduledJobRegistry(queue=queue)
    if status == JobStatus.DEFERRED:
        return run.rq_job_id in DeferredJobRegistry(queue=queue)
    if status == JobStatus.STARTED:
        # A worker that died leaves it here; RQ's own cleanup retries it (AbandonedJobError).
        return run.rq_job_id in StartedJobRegistry(queue=queue)
    # failed, finished, stopped or cancelled while the run is still active: nothing will run it
    return False


def schedule_sweep() -> None:
    """Queue the next sweep; every worker calls this at start, the job id keeps it to one."""
    interval = int(current_app.config.get("SYNC_SWEEP_SECONDS", 60))
    when = utcnow() + timedelta(seconds=interval)
    bucket = int(when.timestamp()) // interval
    try:
        jobs.queue().enqueue_at(
            when.replace(tzinfo=UTC),
            "workers.tasks.sweep",
            job_id=f"sync-sweep-{bucket}",
            unique=True,
            result_ttl=interval * 2,
            failure_ttl=86400,
            job_timeout=300,
        )
    except DuplicateJobError:
        return
