"""Periodic duties (the sweep; support grant expiry and Xero access reminders): RQ's
`CronScheduler` enqueues them on a queue of their own, which a small duty worker, started by every
`python -m workers` beside its sync worker, runs.

Why not RQ's scheduler or the sync queue: RQ's scheduler is one process per queue behind a lock
that outlives a killed holder by about 61 s, and idle workers try to take it over only at
maintenance; and a sweep queued behind hour-long syncs waits until a sync worker is free. The
cron scheduler has no lock: each `python -m workers` runs one, so duties keep their pace while
any worker process lives, busy or not. The sweep skips a tick another worker's sweep covered.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import threading

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue
from rq.cron import CronScheduler

log = logging.getLogger(__name__)
DUTY_JOB_TIMEOUT = 300
SUPPORT_DUTY_SECONDS = 60  # reminders are due by the hour: a minute late is on time
PR_SET_PDEATHSIG = 1


def duty_queue(app: Flask) -> Queue:
    holder = app.extensions["rq"]
    return Queue(f"{holder.queue_name}-duties", connection=holder.redis)


def build_cron(app: Flask, name: str) -> CronScheduler:
    """The duties every worker process enqueues on its own clock."""
    from workers.tasks import support_duties, sweep

    cron = CronScheduler(connection=app.extensions["rq"].redis, name=name)
    for duty, interval in ((sweep, app.config["SYNC_SWEEP_SECONDS"]), (support_duties, SUPPORT_DUTY_SECONDS)):
        # ttl: a duty no duty worker picked up within its interval is dropped; the next replaces it.
        cron.register(
            duty,
            queue_name=duty_queue(app).name,
            interval=interval,
            job_timeout=DUTY_JOB_TIMEOUT,
            result_ttl=interval * 2,
            ttl=interval,
            failure_ttl=86400,
        )
    return cron


class CronThread:
    """Runs a `CronScheduler` beside the duty worker, in the same process.

    `CronScheduler.start()` installs signal handlers, which only the main thread may do (the RQ
    worker has it), so this runs the same loop (enqueue what is due, save, heartbeat, sleep) from
    a daemon thread. It dies with its process; the other worker processes' crons go on.
    """

    def __init__(self, cron: CronScheduler) -> None:
        self.cron = cron
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rq-cron")

    def start(self) -> CronThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.cron.register_death()
        except RedisError:
            pass  # its registry entry expires by itself

    def _loop(self) -> None:
        try:
            self.cron.register_birth()
        except RedisError as exc:
            log.warning("cron.birth_not_registered error=%s", type(exc).__name__)
        pause = 0.0
        while not self._stop.wait(pause):
            try:
                # heartbeat() re-registers the scheduler when Redis lost it (restarted empty).
                if self.cron.enqueue_jobs():
                    self.cron.save()
                self.cron.heartbeat()
                pause = self.cron.calculate_sleep_interval()
            except RedisError as exc:
                log.warning("cron.tick_failed error=%s", type(exc).__name__)
                pause = 1.0


def die_with_parent() -> None:
    """Linux: the duty process gets SIGTERM when the worker that started it dies, even by kill -9."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        log.warning("duties.no_parent_death_signal")
