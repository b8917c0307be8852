"""Periodic duties (the sweep) on RQ's `CronScheduler`, run by every worker process.

RQ's own scheduler is one process per queue behind a lock that outlives a killed holder by about
61 s, and idle workers only try to take it over at maintenance. The cron scheduler has no lock:
each `python -m workers` runs one in a thread, so a duty keeps its pace while any worker lives.
The sweep itself skips a tick that another worker's sweep already covered (`workers.tasks.sweep`).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from redis.exceptions import RedisError
from rq.cron import CronScheduler

log = logging.getLogger(__name__)
DUTY_JOB_TIMEOUT = 300


def build_cron(app: Flask, name: str) -> CronScheduler:
    """The duties every worker enqueues on its own clock."""
    from workers.tasks import sweep

    holder = app.extensions["rq"]
    interval = app.config["SYNC_SWEEP_SECONDS"]
    cron = CronScheduler(connection=holder.redis, name=name)
    # ttl: a sweep no worker picked up within its interval is dropped; the next one replaces it.
    cron.register(
        sweep,
        queue_name=holder.queue_name,
        interval=interval,
        job_timeout=DUTY_JOB_TIMEOUT,
        result_ttl=interval * 2,
        ttl=interval,
        failure_ttl=86400,
    )
    return cron


class CronThread:
    """Runs a `CronScheduler` beside the worker loop, in the worker's own process.

    `CronScheduler.start()` installs signal handlers, which only the main thread may do, so this
    runs the same loop (enqueue what is due, save, heartbeat, sleep) from a daemon thread. It dies
    with its process: a killed worker takes its cron with it, the other workers' crons go on.
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
