"""Starting syncs: one active run per connection, enqueued by dotted path with ids only.

The database is the ledger: a partial unique index allows one queued/running/paused run per
connection, so two "Sync now" clicks (or a click racing the scheduler) end in one run.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import Callback, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wizard import jobs, priorities
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun
from wizard.models.sync import ACTIVE_RUN_STATES

log = logging.getLogger(__name__)

ACTIVE_STATES = ACTIVE_RUN_STATES
JOB_TIMEOUT = 6 * 3600
RUN_DEADLINE = timedelta(hours=30)  # a daily-limit pause can last until tomorrow
RETRY = Retry(max=3, interval=[5, 30, 120])
ON_FAILURE = "workers.tasks.on_sync_failure"
SCHEDULABLE_STATES = ("synced", "failed", "paused", "connecting")


def active_run(connection_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id, SyncRun.state.in_(ACTIVE_STATES))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def latest_run(connection_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun).where(SyncRun.connection_id == connection_id).order_by(SyncRun.id.desc()).limit(1)
    )


def run_history(connection_id: int, limit: int = 20) -> list[SyncRun]:
    return list(
        db.session.scalars(
            select(SyncRun).where(SyncRun.connection_id == connection_id).order_by(SyncRun.id.desc()).limit(limit)
        )
    )


def start_sync(connection: Connection, kind: str = "manual", requested_by_id: int | None = None) -> SyncRun:
    """Enqueue a sync, or join the one already queued/running/paused for this connection."""
    existing = active_run(connection.id)
    if existing is not None:
        if (existing.state == "queued" or existing.between_slices) and existing.rq_job_id:
            priorities.promote_run(existing.rq_job_id, kind)  # "Sync now" must not wait behind the schedule
        return existing
    run = SyncRun(
        connection_id=connection.id, kind=kind, requested_by_id=requested_by_id, deadline_at=utcnow() + RUN_DEADLINE
    )
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        # Lost a race with another request: the database kept exactly one active run.
        db.session.rollback()
        joined = active_run(connection.id)
        if joined is None:
            raise
        return joined
    if connection.state in SCHEDULABLE_STATES:
        connection.move_to("syncing", kind)
    db.session.commit()
    enqueue_run(run)
    return run


def _enqueue_options(run: SyncRun, job_id: str, meta: dict | None = None) -> dict:
    meta = dict(meta or {})
    if run.kind == "scheduled" and "age_after" not in meta:
        meta["age_after"] = priorities.scheduled_age_after(db.session.get_one(Connection, run.connection_id))
    return {
        "meta": meta,
        "job_id": job_id,
        "job_timeout": JOB_TIMEOUT,
        "result_ttl": 3600,
        "failure_ttl": 7 * 86400,
        "retry": RETRY,
        "on_failure": Callback(ON_FAILURE),
        "unique": True,
    }


def enqueue_run(run: SyncRun) -> None:
    """Queue the run's job (again): a job that already exists for it is left alone.

    The committed run row is the ledger: if Redis cannot take the job now, the run stays queued
    and the workers' sweep enqueues it again (workers.tasks._revive_lost_runs).
    """
    run.rq_job_id = _slice_job_id(run) if run.between_slices else f"sync-run-{run.id}-{run.attempts}"
    db.session.commit()
    try:
        priorities.queue_for(run.kind).enqueue("workers.tasks.run_sync", run.id, **_enqueue_options(run, run.rq_job_id))
    except DuplicateJobError:
        log.info("sync.enqueue_duplicate run=%s job=%s", run.id, run.rq_job_id)
    except RedisError as exc:
        log.warning("sync.enqueue_deferred run=%s job=%s error=%s", run.id, run.rq_job_id, type(exc).__name__)


def _slice_job_id(run: SyncRun) -> str:
    # Each slice is a job of its own; the attempt's first job id still exists (finished) in Redis.
    return f"sync-run-{run.id}-{run.attempts}-slice-{secrets.token_hex(4)}"


def enqueue_next_slice(run: SyncRun, queue_name: str | None, meta: dict | None, at: datetime | None = None) -> None:
    """Queue the rest of a run whose time slice is over, at the back of the queue its job came
    from (it may have aged up), keeping the job's meta; with `at`, RQ's scheduler puts it there
    then (the organisation's minute frees). Called while the run lock is still held, so the sweep
    sees the run owned until this job is queued. Redis down: the run stays running between
    slices, and the sweep enqueues it again once nobody holds it."""
    job_id = _slice_job_id(run)
    run.rq_job_id = job_id
    db.session.commit()
    queue = jobs.queue_named(queue_name) if queue_name else priorities.queue_for(run.kind)
    options = _enqueue_options(run, job_id, meta)
    try:
        if at is not None:
            queue.enqueue_at(at.replace(tzinfo=UTC), "workers.tasks.run_sync", run.id, **options)
        else:
            queue.enqueue("workers.tasks.run_sync", run.id, **options)
    except RedisError as exc:
        log.warning("sync.slice_enqueue_deferred run=%s job=%s error=%s", run.id, job_id, type(exc).__name__)


def schedule_resume(run: SyncRun, when: datetime) -> None:
    """Resume a paused run at `when` (RQ scheduler), never in a hot loop."""
    job_id = f"sync-run-{run.id}-resume-{run.attempts}"
    run.rq_job_id = job_id
    db.session.commit()
    try:
        priorities.queue_for(run.kind).enqueue_at(
            when.replace(tzinfo=UTC), "workers.tasks.run_sync", run.id, **_enqueue_options(run, job_id)
        )
    except DuplicateJobError:
        log.info("sync.resume_duplicate run=%s job=%s", run.id, job_id)
    except RedisError as exc:
        # The paused row is the ledger; the sweep resumes overdue paused runs.
        log.warning("sync.resume_deferred run=%s job=%s error=%s", run.id, job_id, type(exc).__name__)


def due_connections(now: datetime) -> list[Connection]:
    """Connections whose scheduled re-sync is due (per-connection `sync_interval_minutes`)."""
    return list(
        db.session.scalars(
            select(Connection).where(
                Connection.state.in_(("synced", "failed")),
                Connection.next_sync_at.is_not(None),
                Connection.next_sync_at <= now,
            )
        )
    )
