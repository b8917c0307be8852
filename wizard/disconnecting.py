"""Disconnecting a Xero organisation: one recoverable unit that the worker finishes.

The admin's request only records the intent (state `disconnecting`; the reason says keep or
delete the synced data) and queues a job. The job removes the connection at Xero
(DELETE /connections/{id}), deletes our copy in bounded batches (one commit per batch, so a big
organisation never needs one giant transaction), and ends in `disconnected`. Every step is
idempotent and committed, so a job that fails or is killed anywhere is run again (RQ Retry, then
the workers' sweep) and goes on from where it stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from redis.exceptions import LockError, RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import CursorResult

from wizard import jobs
from wizard.connecting import xero_api
from wizard.extensions import db
from wizard.models import Connection, StreamCursor, SyncRun, User, XeroRecord, XeroReport
from wizard.models.sync import ACTIVE_RUN_STATES
from wizard.support import audit
from wizard.xero.errors import XeroError
from wizard.xero.tokens import access_token

log = logging.getLogger(__name__)

KEEP_DATA, DELETE_DATA = "disconnect_keep_data", "disconnect_delete_data"
JOB = "workers.disconnect.run_disconnect"
JOB_RETRY = Retry(max=5, interval=[10, 30, 60, 120, 300])
# Xero answers these when the connection is already gone for us: nothing left to remove there.
GONE_AT_XERO = ("xero_not_found", "token_dead", "disconnected_in_xero")


RETRYING = "Xero has not confirmed the removal yet; we keep trying by ourselves."


class XeroNotRemovedYet(Exception):
    """Xero could not remove the connection this time; the job is retried."""


def request_disconnect(user: User, connection: Connection, delete_data: bool) -> None:
    """Record the admin's intent, stop its sync, audit it, and queue the job that carries it out."""
    reason = DELETE_DATA if delete_data else KEEP_DATA
    connection.move_to("disconnecting", reason, f"Requested by {user.email}")
    for run in db.session.scalars(
        select(SyncRun).where(SyncRun.connection_id == connection.id, SyncRun.state.in_(ACTIVE_RUN_STATES))
    ):
        run.fail("disconnected_by_admin", f"Stopped: {user.email} disconnected this organisation.")
    _audit(connection, "connection.disconnect_requested", f"synced data: {'delete' if delete_data else 'keep'}")
    db.session.commit()
    enqueue_disconnect(connection.id)


def _audit(connection: Connection, action: str, detail: str) -> None:
    """One row in the audit log (committed with the state change it records)."""
    audit.record(
        action,
        workspace_id=connection.workspace_id,
        connection_id=connection.id,
        detail=f"{connection.tenant_name}: {detail}",
        commit=False,
    )


def requested_by(connection: Connection) -> str:
    """The first line of a disconnecting connection's detail: who asked (later lines: progress)."""
    return connection.state_detail.split("\n", 1)[0]


def job_id(connection_id: int) -> str:
    return f"disconnect-{connection_id}"


def lock_name(connection_id: int) -> str:
    return f"disconnect-lock:{connection_id}"


def enqueue_disconnect(connection_id: int) -> bool:
    """Queue the job unless one will run it already; a Redis outage leaves it to the sweep."""
    try:
        if job_alive(connection_id):
            return False
        jobs.queue().enqueue(
            JOB,
            connection_id,
            job_id=job_id(connection_id),
            unique=True,
            retry=JOB_RETRY,
            job_timeout=3600,
            result_ttl=3600,
            failure_ttl=7 * 86400,
        )
        return True
    except DuplicateJobError:
        return False
    except RedisError as exc:
        log.warning("disconnect.enqueue_deferred connection=%s error=%s", connection_id, type(exc).__name__)
        return False


def job_alive(connection_id: int) -> bool:
    """Will RQ run (or is it running) this connection's disconnect job? A dead one is removed.

    A running job holds the lock (renewed every batch), so a job marked started without the lock
    belongs to a worker that was killed: it is dead too.
    """
    redis = jobs.redis()
    if redis.exists(lock_name(connection_id)):
        return True
    try:
        job = Job.fetch(job_id(connection_id), connection=redis)
    except NoSuchJobError:
        return False
    if job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    job.delete()  # finished, failed for good, or its worker died: make room for a fresh job
    return False


def revive_stuck(now: datetime) -> int:
    """Sweep: queue again the disconnects whose job is gone (retries used up, Redis lost it)."""
    grace = now - timedelta(seconds=int(current_app.config.get("SYNC_REVIVE_AFTER_SECONDS", 120)))
    stuck = db.session.scalars(
        select(Connection.id).where(Connection.state == "disconnecting", Connection.state_changed_at < grace)
    ).all()
    return sum(1 for connection_id in stuck if enqueue_disconnect(connection_id))


def finish_disconnect(connection_id: int) -> str:
    """The job: Xero first, then our copy, then `disconnected`. Safe to run again at any point."""
    # The same lease as a sync run's lock: a killed worker's claim lapses within it.
    lease = current_app.config["SYNC_RUN_LOCK_SECONDS"]
    lock = jobs.redis().lock(lock_name(connection_id), timeout=lease, thread_local=False)
    if not lock.acquire(blocking=False):
        return "running elsewhere"
    try:
        return _finish(connection_id, lock)
    finally:
        try:
            lock.release()
        except (LockError, RedisError):
            log.warning("disconnect.lock_lapsed connection=%s", connection_id)


def _finish(connection_id: int, lock) -> str:
    db.session.expire_all()
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.state != "disconnecting":
        return "nothing to do"
    at_xero = _remove_at_xero(connection)
    lock.reacquire()
    deleted = 0
    if connection.state_reason == DELETE_DATA:
        deleted = delete_synced_data(connection.id, lock)
    requested = requested_by(connection)
    outcome = f"{at_xero}; synced data {'deleted' if connection.state_reason == DELETE_DATA else 'kept'}"
    summary = f"{outcome[0].upper()}{outcome[1:]}. {requested}."
    connection.move_to("disconnected", "disconnected_by_admin", summary[:2000])
    _audit(connection, "connection.disconnected", f"{outcome} ({deleted} rows deleted)")
    db.session.commit()
    log.info("disconnect.done connection=%s deleted=%s", connection.id, deleted)
    return outcome


def _remove_at_xero(connection: Connection) -> str:
    """DELETE /connections/{id}; once Xero confirmed, the id is cleared so a rerun skips the call."""
    if not (connection.token_set_id and connection.xero_connection_id):
        return "removed at Xero"
    try:
        xero_api().delete_connection(access_token(connection.token_set_id), connection.xero_connection_id)
    except XeroError as exc:
        if exc.kind not in GONE_AT_XERO:
            db.session.rollback()
            connection = db.session.get_one(Connection, connection.id)
            connection.move_to("disconnecting", connection.state_reason, f"{requested_by(connection)}\n{RETRYING}")
            db.session.commit()
            log.warning("disconnect.xero_failed connection=%s kind=%s", connection.id, exc.kind)
            raise XeroNotRemovedYet(f"Xero did not remove the connection yet ({exc.kind})") from exc
    connection.xero_connection_id = ""
    db.session.commit()
    return "removed at Xero"


def delete_synced_data(connection_id: int, lock=None) -> int:
    """Delete our copy of the organisation's records, DISCONNECT_DELETE_BATCH rows per transaction."""
    batch = current_app.config["DISCONNECT_DELETE_BATCH"]
    key = tuple_(XeroRecord.connection_id, XeroRecord.stream, XeroRecord.xero_id)
    deleted, after = 0, (connection_id, "", "")
    while True:
        # Keyset walk of the unique (connection, stream, xero_id) index: each batch starts where the
        # last one ended, so no scan passes again over the rows (dead tuples) already deleted.
        rows = db.session.execute(
            select(XeroRecord.id, XeroRecord.stream, XeroRecord.xero_id)
            .where(XeroRecord.connection_id == connection_id, key > after)
            .order_by(XeroRecord.connection_id, XeroRecord.stream, XeroRecord.xero_id)
            .limit(batch)
        ).all()
        if not rows:
            break
        db.session.execute(delete(XeroRecord).where(XeroRecord.id.in_([row.id for row in rows])))
        db.session.commit()
        deleted, after = deleted + len(rows), (connection_id, rows[-1].stream, rows[-1].xero_id)
        if lock is not None:
            lock.reacquire()  # still ours: a long delete keeps its claim on the connection
    for model in (XeroReport, StreamCursor):
        result = db.session.execute(delete(model).where(model.connection_id == connection_id))
        deleted += cast("CursorResult[Any]", result).rowcount or 0
    db.session.commit()
    return deleted
