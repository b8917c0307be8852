"""A lost database connection is not a failed sync: the step is retried in-process.

PostgreSQL restarting, a failover or `pg_terminate_backend` ends the worker's connections; the
next statement fails with an OperationalError and SQLAlchemy drops the dead connection from its
pool. Rolling back and trying the same step again (a page's rows and checkpoint are one
transaction, so it is safe) gets a fresh connection. The retries are bounded: a database that
stays away fails the job, and RQ's retry takes it from there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from wizard.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 8.0


def lost_connection(exc: BaseException) -> bool:
    """A dropped or unusable connection (not a constraint or a bug in a statement)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def retry_on_lost_connection(step: Callable[[], T], retries: int, what: str) -> T:
    """Run `step`; after a lost connection roll back, wait (0.5 s doubling, at most 8 s) and run it
    again, up to `retries` more times."""
    attempt = 0
    while True:  # ends by returning the step's result or raising its error
        try:
            return step()
        except DBAPIError as exc:
            if not lost_connection(exc) or attempt >= retries:
                raise
            db.session.rollback()
            pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2**attempt)
            log.warning(
                "sync.db_reconnecting step=%s attempt=%s pause=%.1f error=%s",
                what,
                attempt + 1,
                pause,
                type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
            )
            time.sleep(pause)
            attempt += 1
