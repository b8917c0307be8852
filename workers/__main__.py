"""`python -m workers`: build the app once, then run an RQ worker (with its scheduler)."""

from __future__ import annotations

import argparse
import logging

from rq import Worker

from wizard import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="RQ worker for Xero syncs")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None)
    parser.add_argument("--maintenance-interval", type=int, default=None,
                        help="seconds between RQ maintenance runs (abandoned-job cleanup)")
    parser.add_argument("--job-monitoring-interval", type=int, default=None,
                        help="seconds between heartbeats of a running job")
    args = parser.parse_args()

    app = create_app()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with app.app_context():
        from wizard.extensions import db
        from workers.tasks import schedule_sweep

        holder = app.extensions["rq"]
        options = {}
        if args.maintenance_interval:
            # The idle worker wakes from its blocking dequeue every worker_ttl - 15 s: make that the
            # maintenance interval, or abandoned jobs would wait for the default 405 s wake-up.
            options["worker_ttl"] = args.maintenance_interval + 15
        if args.job_monitoring_interval:
            options["job_monitoring_interval"] = args.job_monitoring_interval
        worker = Worker([holder.queue], connection=holder.redis, name=args.name, **options)
        if args.maintenance_interval:
            worker.maintenance_interval = args.maintenance_interval
        if not args.burst:
            schedule_sweep()
        db.engine.dispose()  # no DB connection may cross the work horse's fork
        worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
