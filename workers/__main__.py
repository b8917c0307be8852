"""`python -m workers`: build the app once, then run an RQ worker, its scheduler and the duties' cron.

Only RQ's public surface is used: `Worker(...)` options, `work(with_scheduler=True)` and
`rq.cron.CronScheduler` (workers/duties.py). How a dead worker's run and duties are taken over
within a minute is explained in docs/architecture.md ("When a worker dies").
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import Worker

from wizard import create_app
from workers.duties import CronThread, build_cron

log = logging.getLogger("workers")

# RQ's defaults (maintenance every 600 s; an idle worker blocks 405 s in its dequeue) would leave
# RQ's scheduler lock of a dead worker untaken for ten minutes. An idle worker now wakes every 45 s
# and runs maintenance (abandoned-job cleanup, taking over a free scheduler lock) every 60 s.
MAINTENANCE_SECONDS = 60
WORKER_TTL_SECONDS = 60


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")


def build_worker(app: Flask, name: str | None = None) -> Worker:
    holder = app.extensions["rq"]
    return Worker(
        [holder.queue],
        connection=holder.redis,
        name=name,
        maintenance_interval=MAINTENANCE_SECONDS,
        worker_ttl=WORKER_TTL_SECONDS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="RQ worker for Xero syncs")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LOG_LEVEL", "INFO"),
        help="root log level (default: $LOG_LEVEL or INFO); tokens are never logged",
    )
    args = parser.parse_args()

    app = create_app()
    configure_logging(args.log_level)
    with app.app_context():
        while not work(app, args):
            # Redis went away under the worker: wait for it and serve again. The database ledger
            # and the sweep put back whatever the outage lost.
            wait_for_redis(app)


def work(app: Flask, args: argparse.Namespace) -> bool:
    """Run one RQ worker until it stops; False if it stopped for another reason than being asked to."""
    from wizard.extensions import db

    worker = build_worker(app, args.name)
    cron = None if args.burst else CronThread(build_cron(app, f"{worker.name}-cron")).start()
    try:
        db.engine.dispose()  # no DB connection may cross the work horse's fork
        worker.work(burst=args.burst, with_scheduler=True)
    except RedisError as exc:
        log.error("worker.redis_lost error=%s", exc)
    finally:
        _finish_horse(worker)
        if cron is not None:
            cron.stop()
    return args.burst or _shutdown_requested(worker)


def _shutdown_requested(worker: Worker) -> bool:
    """RQ's `work()` also returns when Redis failed under a job ("unhandled exception, quitting").
    Only a SIGINT/SIGTERM ends this process: RQ's `request_stop` then arms `request_force_stop`."""
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
