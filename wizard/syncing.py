"""Starting syncs: one active run per connection, enqueued by dotted path with ids only."""

from __future__ import annotations

from datetime import timedelta

from rq import Retry
from sqlalchemy import select

from wizard import jobs
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun

ACTIVE_STATES = ("queued", "running", "paused")
JOB_TIMEOUT = 6 * 3600
RUN_DEADLINE = timedelta(hours=30)  # a daily-limit pause can last until tomorrow


def active_run(connection_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun).where(SyncRun.connection_id == connection_id, SyncRun.state.in_(ACTIVE_STATES))
        .order_by(SyncRun.id.desc()).limit(1)
    )


def latest_run(connection_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun).where(SyncRun.connection_id == connection_id).order_by(SyncRun.id.desc()).limit(1)
    )


def start_sync(connection: Connection, kind: str = "manual", requested_by_id: int | None = None) -> SyncRun:
    """Enqueue a sync, or join the one already queued/running for this connection."""
    existing = active_run(connection.id)
    if existing is not None:
        return existing
    run = SyncRun(connection_id=connection.id, kind=kind, requested_by_id=requested_by_id,
                  deadline_at=utcnow() + RUN_DEADLINE)
    db.session.add(run)
    if connection.state in ("connecting", "synced", "failed", "paused"):
        connection.move_to("syncing", kind)
    db.session.commit()
    enqueue_run(run)
    return run


def enqueue_run(run: SyncRun) -> None:
    run.rq_job_id = f"sync-run-{run.id}"
    db.session.commit()
    jobs.queue().enqueue(
        "workers.tasks.run_sync",
        run.id,
        job_id=run.rq_job_id,
        job_timeout=JOB_TIMEOUT,
        result_ttl=86400,
        failure_ttl=7 * 86400,
        retry=Retry(max=3, interval=[5, 30, 120]),
    )


def schedule_resume(run: SyncRun, when) -> None:
    """Resume a paused run at `when` (RQ scheduler), never in a hot loop."""
    from datetime import UTC

    jobs.queue().enqueue_at(
        when.replace(tzinfo=UTC),
        "workers.tasks.run_sync",
        run.id,
        job_id=f"sync-run-{run.id}-resume-{run.attempts}",
        job_timeout=JOB_TIMEOUT,
        result_ttl=86400,
        failure_ttl=7 * 86400,
        retry=Retry(max=3, interval=[5, 30, 120]),
    )
