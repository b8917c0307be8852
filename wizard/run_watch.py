"""What RQ knows about a sync run's job, read from Redis: the job's state, its last heartbeat, who
holds the run lock and RQ's scheduler lock. The workers' sweep decides from it whether a run is
lost; the connection doctor shows it. The database stays the ledger; this is only a view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rq.exceptions import NoSuchJobError, SchedulerNotFound
from rq.job import Job, JobStatus
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from wizard import jobs
from wizard.models import SyncRun


def run_lock_name(sync_run_id: int) -> str:
    """The one-execution-per-run lock a work horse holds (and renews) while it runs the run."""
    return f"sync-run-lock:{sync_run_id}"


@dataclass
class JobView:
    """A run's RQ job as Redis has it; `status` None when Redis has no such job."""

    job_id: str
    status: str | None = None
    registered: bool = False  # in the registry its status says (queue, scheduled, deferred, started)
    started_at: datetime | None = None
    last_heartbeat: datetime | None = None
    scheduled_for: datetime | None = None
    lock_held: bool = False


def _naive(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def job_view(run: SyncRun) -> JobView:
    """Read the run's job; raises RedisError when Redis cannot be reached."""
    redis = jobs.redis()
    view = JobView(job_id=run.rq_job_id or "", lock_held=bool(redis.exists(run_lock_name(run.id))))
    if not run.rq_job_id:
        return view
    try:
        job = Job.fetch(run.rq_job_id, connection=redis)
        view.status = job.get_status()
    except NoSuchJobError:
        return view
    queue = jobs.queue_named(job.origin)  # the sync's priority queue (wizard/priorities.py)
    view.started_at, view.last_heartbeat = _naive(job.started_at), _naive(job.last_heartbeat)
    if view.status == JobStatus.QUEUED:
        view.registered = queue.get_job_position(run.rq_job_id) is not None  # LPOS, in Redis
    elif view.status == JobStatus.SCHEDULED:
        registry = ScheduledJobRegistry(queue=queue)
        view.registered = run.rq_job_id in registry
        if view.registered:
            view.scheduled_for = _naive(registry.get_scheduled_time(run.rq_job_id))
    elif view.status == JobStatus.DEFERRED:
        view.registered = run.rq_job_id in DeferredJobRegistry(queue=queue)
    elif view.status == JobStatus.STARTED:
        view.registered = run.rq_job_id in StartedJobRegistry(queue=queue)
    return view


def scheduler_holder() -> str | None:
    """Which process holds RQ's scheduler lock for the queue (it moves due retries and resumes to
    the queue), as `host pid N`; None when nobody holds it (the workers' sweep then moves them)."""
    redis = jobs.redis()
    try:
        name = redis.get(RQScheduler.get_locking_key(jobs.queue().name))
        if name is None:
            return None
        scheduler = RQScheduler.fetch(name.decode() if isinstance(name, bytes) else name, redis)
    except SchedulerNotFound:
        return "a scheduler that has not registered yet"
    return f"{scheduler.hostname} pid {scheduler.pid}"
