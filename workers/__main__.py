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
    parser.add_argument("--maintenance-interval", type=int, default=None)
    args = parser.parse_args()

    app = create_app()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with app.app_context():
        from wizard.extensions import db

        db.engine.dispose()  # no DB connection may cross the work horse's fork
        holder = app.extensions["rq"]
        worker = Worker([holder.queue], connection=holder.redis, name=args.name)
        if args.maintenance_interval:
            worker.maintenance_interval = args.maintenance_interval
        worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
