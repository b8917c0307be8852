"""`python -m workers`: build the app once, then run an RQ sync worker (with RQ's scheduler) and,
in a child process, the duty worker with its `CronScheduler` (workers/duties.py).

Only RQ's public surface is used: `Worker(...)` options, `work(with_scheduler=...)` and
`rq.cron.CronScheduler`. How a dead worker's run and duties are taken over within a minute is
explained in docs/architecture.md ("When a worker dies").
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue, Worker

from wizard import create_app
from wizard.priorities import priority_queues
from workers.duties import CronThread, build_cron, die_with_parent, duty_queue

log = logging.getLogger("workers")

# RQ's defaults (maintenance every 600 s; an idle worker blocks 405 s in its dequeue) would leave
# RQ's scheduler lock of a dead worker untaken for ten minutes. An idle worker now wakes every 45 s
# and runs maintenance (abandoned-job cleanup, taking over a free scheduler lock) every 60 s.
MAINTENANCE_SECONDS = 60
WORKER_TTL_SECONDS = 60


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")


def build_worker(app: Flask, queues: list[Queue], name: str | None = None) -> Worker:
    return Worker(
        queues,
        connection=app.extensions["rq"].redis,
        name=name,
        maintenance_interval=MAINTENANCE_SECONDS,
        worker_ttl=WORKER_TTL_SECONDS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="RQ worker for Xero syncs")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty (no duties)")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LOG_LEVEL", "INFO"),
        help="root log level (default: $LOG_LEVEL or INFO); tokens are never logged",
    )
    args = parser.parse_args()

    app = create_app()
    configure_logging(args.log_level)
    duties = None
    if not args.burst:
        name = f"{args.name}-duties" if args.name else None
        duties = multiprocessing.get_context("fork").Process(target=serve_duties, args=(app, name), name="duties")
        duties.start()
    try:
        with app.app_context():
            # Highest priority first: RQ takes the next job from the first queue that has one.
            serve(app, lambda: build_worker(app, priority_queues(), args.name), args.burst, True)
    finally:
        if duties is not None and duties.is_alive():
            duties.terminate()  # a warm stop: RQ lets a running sweep finish
            duties.join(timeout=DUTY_STOP_SECONDS)


DUTY_STOP_SECONDS = 30


def serve_duties(app: Flask, name: str | None) -> None:
    """The duty process: the cron thread enqueues the sweep, an RQ worker on the duty queue runs it."""
    die_with_parent()
    # A sweep every 10 s would bury the sync worker's log in routine lines: the duty process logs
    # RQ's own chatter only from WARNING up (our duties still log what they change).
    for noisy in ("rq.worker", "rq.cron"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    with app.app_context():
        serve(app, lambda: build_worker(app, [duty_queue(app)], name), burst=False, with_scheduler=False, cron=True)


def serve(app: Flask, new_worker: Callable[[], Worker], burst: bool, with_scheduler: bool, cron: bool = False) -> None:
    """Run workers until one is asked to stop; after Redis went away under one, wait and serve again.
    The database ledger and the sweep put back whatever the outage lost."""
    from wizard.extensions import db

    while True:
        worker = new_worker()
        ticker = CronThread(build_cron(app, f"{worker.name}-cron")).start() if cron else None
        try:
            db.engine.dispose()  # no DB connection may cross the work horse's fork
            worker.work(burst=burst, with_scheduler=with_scheduler)
        except RedisError as exc:
            log.error("worker.redis_lost error=%s", exc)
        finally:
            _finish_horse(worker)
            if ticker is not None:
                ticker.stop()
        if burst or _shutdown_requested(worker):
            return
        wait_for_redis(app)


def _shutdown_requested(worker: Worker) -> bool:
    """RQ's `work()` also returns when Redis failed under a job ("unhandled exception, quitting").
    Only a SIGINT/SIGTERM ends the process: RQ's `request_stop` then arms `request_force_stop`."""
    return signal.getsignal(signal.SIGTERM) == worker.request_force_stop


def _finish_horse(worker: Worker) -> None:
    """The work horse carries on without Redis (its run lock is taken back); let it finish first."""
    pid = worker.horse_pid
    if not pid:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        return


def wait_for_redis(app: Flask, pause: float = 1.0) -> None:
    redis = app.extensions["rq"].redis
    while True:
        try:
            redis.ping()
            return
        except RedisError:
            time.sleep(pause)


if __name__ == "__main__":
    main()
