"""`python -m workers`: build the app once, then run an RQ worker (with its scheduler)."""

from __future__ import annotations

import argparse
import logging
import os
import time

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Worker

from wizard import create_app

log = logging.getLogger("workers")


class SyncWorker(Worker):
    """An RQ worker that also keeps the sweep scheduled.

    The sweep (scheduled syncs, deadlines, lost runs) re-schedules itself through Redis; if Redis
    loses its data (a restart without persistence), that chain is gone. Every maintenance pass
    puts it back, so the database ledger is reconciled again within one maintenance interval.
    """

    keeps_sweep = True  # off for --burst workers, which exit when the queue is empty

    def execute_job(self, job, queue) -> None:
        """Run one job; Redis vanishing while the horse works does not end this worker.

        RQ quits the whole worker when it cannot read the finished job's status. Here the worker
        lets the horse finish, waits for Redis, and carries on: the run's row in the database
        says what happened, and the sweep re-enqueues a run whose job Redis lost.
        """
        try:
            super().execute_job(job, queue)
        except RedisConnectionError as exc:
            log.error("worker.redis_lost job=%s error=%s", job.id, exc)
            _finish_horse(self)
            wait_for_redis_connection(self.connection)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if not self.keeps_sweep:
            return
        from workers.tasks import schedule_sweep

        try:
            schedule_sweep()
        except RedisError as exc:
            log.warning("worker.sweep_not_scheduled error=%s", type(exc).__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")


def build_worker(app: Flask, args: argparse.Namespace) -> SyncWorker:
    holder = app.extensions["rq"]
    options = {}
    if args.maintenance_interval:
        # The idle worker wakes from its blocking dequeue every worker_ttl - 15 s: make that the
        # maintenance interval, or abandoned jobs would wait for the default 405 s wake-up.
        options["worker_ttl"] = args.maintenance_interval + 15
    if args.job_monitoring_interval:
        options["job_monitoring_interval"] = args.job_monitoring_interval
    from wizard.priorities import priority_queues

    # Highest priority first: RQ takes the next job from the first queue that has one.
    worker = SyncWorker(priority_queues(), connection=holder.redis, name=args.name, **options)
    if args.maintenance_interval:
        worker.maintenance_interval = args.maintenance_interval
    worker.keeps_sweep = not args.burst
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description="RQ worker for Xero syncs")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--maintenance-interval",
        type=int,
        default=None,
        help="seconds between RQ maintenance runs (abandoned-job cleanup)",
    )
    parser.add_argument(
        "--job-monitoring-interval", type=int, default=None, help="seconds between heartbeats of a running job"
    )
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
    """Run one RQ worker until it stops; False if it stopped because Redis went away."""
    from wizard.extensions import db
    from workers.tasks import schedule_sweep

    worker = build_worker(app, args)
    try:
        if not args.burst:
            schedule_sweep()
        db.engine.dispose()  # no DB connection may cross the work horse's fork
        worker.work(burst=args.burst, with_scheduler=True)
        return True
    except RedisConnectionError as exc:
        log.error("worker.redis_lost error=%s", exc)
        _finish_horse(worker)
        return args.burst


def _finish_horse(worker: SyncWorker) -> None:
    """The work horse carries on without Redis (its run lock is taken back); let it finish first."""
    pid = worker.horse_pid
    if not pid:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        return


def wait_for_redis(app: Flask) -> None:
    wait_for_redis_connection(app.extensions["rq"].redis)


def wait_for_redis_connection(redis, pause: float = 1.0) -> None:
    while True:
        try:
            redis.ping()
            return
        except RedisError:
            time.sleep(pause)


if __name__ == "__main__":
    main()
