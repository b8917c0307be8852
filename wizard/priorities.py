"""Which RQ queue a sync waits in, and how waiting work moves up (issue 17 item 2).

Three queues, which every worker reads in this order (RQ dequeues from the first non-empty queue
in the order given to the worker):

- watched:   an initial sync with an admin watching its progress page;
- triggered: "Sync now", support re-runs, webhook syncs (and RQ_QUEUE itself: the sweep lives here);
- scheduled: the periodic re-syncs.

Strict order alone would starve the scheduled queue under a steady flow of webhooks, so waiting
work ages: a job that has waited longer than its queue's limit moves to the back of the next
queue up (`promote_waiting`, a sweep duty). A scheduled re-sync's limit is also at most half the
headroom its schedule keeps (wizard/schedule.py), stored in the job's `meta` when it is queued: a
re-sync that waits longer would bring data older than its interval. A trigger that joins a sync
already waiting in a lower queue (coalescing: one active run per connection) moves that job up at once (`promote_run`).
"""

from __future__ import annotations

import logging
from datetime import UTC

from flask import current_app
from redis.exceptions import RedisError, WatchError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from wizard import jobs
from wizard.clock import utcnow

log = logging.getLogger(__name__)

WATCHED, TRIGGERED, SCHEDULED = "watched", "triggered", "scheduled"
LEVELS = (WATCHED, TRIGGERED, SCHEDULED)  # highest first: the order workers read the queues in
KIND_LEVEL = {"initial": WATCHED, "scheduled": SCHEDULED}  # every other kind is a trigger
# Seconds a job may wait in a queue before it moves up one (config overrides; see config.py).
AGE_SETTINGS = {TRIGGERED: "SYNC_AGE_TRIGGERED_SECONDS", SCHEDULED: "SYNC_AGE_SCHEDULED_SECONDS"}
AGE_DEFAULTS = {TRIGGERED: 300, SCHEDULED: 600}


def level_for(kind: str) -> str:
    return KIND_LEVEL.get(kind, TRIGGERED)


def queue_name(base: str, level: str) -> str:
    """The triggered level is RQ_QUEUE itself, so the sweep and older jobs need no move."""
    return base if level == TRIGGERED else f"{base}-{level}"


def queue_for(kind: str) -> Queue:
    return jobs.queue_named(queue_name(jobs.queue().name, level_for(kind)))


def priority_queues() -> list[Queue]:
    """Every sync queue, highest priority first: what a worker listens to."""
    base = jobs.queue().name
    return [jobs.queue_named(queue_name(base, level)) for level in LEVELS]


def at_or_above(origin: str) -> list[Queue]:
    """The queue `origin` and those above it (every queue if `origin` is not one of them)."""
    queues = priority_queues()
    names = [q.name for q in queues]
    return queues[: names.index(origin) + 1] if origin in names else queues


def waiting_keys(origin: str) -> list[str]:
    """Redis keys of the queues at job origin `origin`'s priority or above. Whatever waits in them
    waits for a worker that a job from `origin` holds: the governor counts them for the app minute's
    share (workers/sync/governor.py), and a job taking turns yields to them (`others_waiting`).
    A job computes them once, when it starts."""
    return [q.key for q in at_or_above(origin)]


def others_waiting(keys: list[str]) -> bool:
    """Does any job wait in the queues `keys` (a job taking turns should yield)?

    Every job counts, as in the governor's count: a sweep or another duty waits for a worker too,
    and with one worker it would otherwise wait for the whole slice."""
    try:
        with jobs.redis().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.llen(key)
            return any(pipe.execute())
    except RedisError:
        return False  # cannot tell: keep the worker (the slice still ends at SYNC_SLICE_SECONDS)


def scheduled_age_after(connection) -> float:
    """Seconds a scheduled re-sync of `connection` may wait before it moves up a queue."""
    config = current_app.config
    headroom = float(config.get("SYNC_SCHEDULE_HEADROOM", 0.1))
    own = connection.sync_interval_minutes * 60.0 * headroom / 2
    return max(1.0, min(float(config.get(AGE_SETTINGS[SCHEDULED], AGE_DEFAULTS[SCHEDULED])), own))


def promote_run(job_id: str, kind: str) -> bool:
    """A trigger of `kind` joined the run whose job is `job_id`: wait in that trigger's queue if higher."""
    target = queue_for(kind)
    for queue in priority_queues()[LEVELS.index(level_for(kind)) + 1 :]:
        if _move(job_id, queue, target):
            log.info("sync.promoted job=%s from=%s to=%s", job_id, queue.name, target.name)
            return True
    return False


def promote_waiting() -> int:
    """Sweep duty: jobs that waited past their queue's limit move to the back of the next queue up."""
    queues, moved = priority_queues(), 0
    now = utcnow().replace(tzinfo=UTC)
    for index in range(len(LEVELS) - 1, 0, -1):
        level, source, target = LEVELS[index], queues[index], queues[index - 1]
        limit = float(current_app.config.get(AGE_SETTINGS[level], AGE_DEFAULTS[level]))
        # FIFO: the oldest wait at the head. A job's own limit (`age_after`, scheduled re-syncs)
        # can be shorter than the queue's, so look at the whole head, not only up to the first young job.
        for job in source.get_jobs(0, 200):
            enqueued = job.enqueued_at
            if enqueued is None:
                continue
            if enqueued.tzinfo is None:
                enqueued = enqueued.replace(tzinfo=UTC)
            own = job.meta.get("age_after") if level == SCHEDULED else None
            if (now - enqueued).total_seconds() < (min(limit, float(own)) if own else limit):
                continue
            if _move(job.id, source, target):
                moved += 1
                log.info("sync.aged job=%s from=%s to=%s", job.id, source.name, target.name)
    return moved


def _move(job_id: str, source: Queue, target: Queue) -> bool:
    """Take the job out of `source` and put it at the back of `target`, atomically: if a worker
    dequeues it meanwhile, the transaction fails and nothing moves."""
    redis = jobs.redis()
    try:
        with redis.pipeline() as pipe:
            pipe.watch(source.key)
            if pipe.lpos(source.key, job_id) is None:
                return False
            job = Job.fetch(job_id, connection=redis)
            pipe.multi()
            source.remove(job, pipeline=pipe)
            target.enqueue_job(job, pipeline=pipe)
            pipe.execute()
            return True
    except (WatchError, NoSuchJobError):
        return False
    except RedisError as exc:
        log.warning("sync.promote_failed job=%s error=%s", job_id, type(exc).__name__)
        return False
