"""Thin job entry points. They assume an app context (the worker script pushes one).

Arguments and results are ids and counts only, never a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from wizard import jobs, priorities, run_watch, syncing
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun
from wizard.webhooks import intake as webhook_intake
from workers.sync.engine import SyncEngine

log = logging.getLogger(__name__)
SWEEP_GUARD = "sync-sweep-guard"
# A job RQ's scheduler should have moved to the queue this long ago is moved by the sweep instead.
SCHEDULER_GRACE_SECONDS = 5
# A second delivery waits this long for the run lock (an owner winding down), then leaves the run.
LOCK_WAIT_SECONDS = 2


def run_sync(sync_run_id: int) -> dict[str, Any]:
    """Run (or resume) one sync run; one execution per run at a time, even if RQ delivers twice."""
    db.engine.dispose(close=False)  # never share the parent's pooled connections after the fork
    # thread_local=False: the keeper thread renews the lock the job's main thread took.
    seconds = current_app.config["SYNC_RUN_LOCK_SECONDS"]
    lock = jobs.redis().lock(
        run_watch.run_lock_name(sync_run_id), timeout=seconds, blocking_timeout=LOCK_WAIT_SECONDS, thread_local=False
    )
    if not lock.acquire():
        # Another execution owns the run and will end it. Failing here would spend the run's RQ
        # retries and, once they ran out, fail a run that is progressing; if that owner dies, its
        # lock lapses and the sweep enqueues the run again.
        log.info("sync.owned_elsewhere run=%s", sync_run_id)
        return {"skipped": "owned_elsewhere"}
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
    """Every SYNC_SWEEP_SECONDS: start due scheduled syncs, end runs past their deadline, revive lost ones.

    Every worker's cron enqueues it (workers/duties.py); a tick another worker's sweep covered a
    moment ago is skipped, so N workers do not sweep N times.
    """
    interval = current_app.config["SYNC_SWEEP_SECONDS"]
    if not jobs.redis().set(SWEEP_GUARD, "1", nx=True, ex=max(1, interval - 1)):
        return {"skipped": 1}
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
        connection = db.session.get_one(Connection, run.connection_id)
        if connection.state in ("syncing", "paused"):
            connection.move_to("failed", "sync_deadline")
        expired += 1
    db.session.commit()
    revived = _revive_lost_runs(now)
    from wizard.disconnecting import revive_stuck

    disconnects = revive_stuck(now)
    followups = webhook_intake.start_followups()
    aged = priorities.promote_waiting()
    return {
        "scheduled": started,
        "expired": expired,
        "revived": revived,
        "disconnects": disconnects,
        "webhook_followups": followups,
        "aged": aged,
    }


def support_duties() -> dict[str, int]:
    """Every SUPPORT_DUTY_SECONDS: record support grants that ran out, and remind admins to remove
    the support user from Xero (24 h before and at the end; each reminder is claimed once, so
    every worker's cron may run it)."""
    from wizard.support.grants import record_expiries
    from wizard.support.xero_access import send_reminders

    expired = record_expiries()
    sent = send_reminders()
    return {"grants_expired": expired, "reminders": sent.before_expiry + sent.at_expiry}


def _revive_lost_runs(now) -> int:
    """Enqueue again a run nothing will run: queued ones after a grace period, paused ones once
    their resume is due, and running ones whose job is lost (see `_job_alive`)."""
    revived = 0
    stale = now - timedelta(seconds=current_app.config["SYNC_REVIVE_AFTER_SECONDS"])
    for run in db.session.scalars(select(SyncRun).where(SyncRun.state.in_(syncing.ACTIVE_STATES))).all():
        if run.state == "queued" and run.created_at > stale:
            continue
        if run.state == "paused" and (run.paused_until is None or run.paused_until > now):
            continue
        if _job_alive(run, now):
            continue
        syncing.enqueue_run(run)
        revived += 1
    return revived


def _job_alive(run: SyncRun, now) -> bool:
    """Will RQ run (or is it running) this run's job? A job hash alone is not enough: after Redis
    lost its data, a dying work horse can write its job back with no queue or registry entry."""
    view = run_watch.job_view(run)
    if view.lock_held:
        return True  # a work horse is on the run right now
    if view.status == JobStatus.SCHEDULED and view.registered:
        return _scheduled_job_moves(run, view, now)
    if view.status == JobStatus.STARTED:
        # The horse takes the run lock as it starts and renews it every third of its lease: a
        # started job nobody holds the lock of, past one lease, lost its worker (kill -9, a lost
        # host). RQ would notice only when the heartbeat expires (90 s) at a maintenance pass.
        lease = timedelta(seconds=current_app.config["SYNC_RUN_LOCK_SECONDS"])
        if view.started_at is not None and now - view.started_at < lease:
            return True
        _forget_lost_job(run)
        return False
    if view.status in (JobStatus.QUEUED, JobStatus.DEFERRED):
        return view.registered
    # no job, or failed, finished, stopped or cancelled while the run is still active
    return False


def _scheduled_job_moves(run: SyncRun, view: run_watch.JobView, now) -> bool:
    """A retry or resume waits in RQ's scheduled registry; RQ's scheduler (one per queue, behind a
    lock that outlives a killed holder by a minute) moves it when due. Overdue: move it here."""
    if view.scheduled_for is None or now - view.scheduled_for < timedelta(seconds=SCHEDULER_GRACE_SECONDS):
        return True
    job = Job.fetch(view.job_id, connection=jobs.redis())
    queue = jobs.queue_named(job.origin)  # the sync's priority queue (wizard/priorities.py)
    if ScheduledJobRegistry(queue=queue).remove(view.job_id):  # whoever removes it enqueues it
        queue.enqueue_job(job)
        log.warning("sync.scheduled_job_moved run=%s job=%s due=%s", run.id, view.job_id, view.scheduled_for)
    return True


def _forget_lost_job(run: SyncRun) -> None:
    """Record the lost worker on the run and delete the abandoned job, so RQ's own cleanup does not
    retry it a second time once its heartbeat expires."""
    run.record_error("worker_lost", "The worker running this sync stopped; another one takes it over.")
    db.session.commit()
    try:
        Job.fetch(run.rq_job_id, connection=jobs.redis()).delete()
    except NoSuchJobError:
        pass
    log.warning("sync.worker_lost run=%s job=%s", run.id, run.rq_job_id)
