"""Cheap polls: an ETag from what a polled fragment shows, and 304 Not Modified when it is unchanged.

A polling element sends the ETag of the fragment it holds (`If-None-Match`, set with hx-headers:
the browser cache cannot do it, since signed-in responses are `no-store`); the view computes the
current ETag from a few small rows and answers 304 without counting records or rendering. htmx
does not swap a 304, so the element stays and polls again; once the state changes, the new
fragment (and its new ETag) replaces it, and a finished state renders without a trigger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache

from flask import Response, current_app, make_response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from wizard.data.summary import ConnectionRow
from wizard.extensions import db
from wizard.htmx import wants_fragment
from wizard.models import Connection, ConnectionWebhook, SyncRun


def _etag(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def _run_summary(run: SyncRun | None) -> tuple:
    if run is None:
        return ()
    # The stall note changes with time alone, so it is part of what the fragment shows.
    stalled = run.stalled_minutes(current_app.config["SYNC_STALL_SECONDS"])
    return (
        run.id,
        run.state,
        run.records,
        run.calls,
        run.attempts,
        run.error_kind,
        run.paused_until,
        run.pause_reason,
        stalled,
    )


def _run_state(run: SyncRun) -> tuple:
    streams = tuple((s.stream, s.state, s.done, s.total, s.calls, s.note) for s in run.streams)
    return (*_run_summary(run), run.call_rate, streams)


def _connection_state(connection: Connection) -> tuple:
    return (connection.id, connection.tenant_name, connection.state, connection.state_reason, connection.last_synced_at)


def sync_status_etag(connection: Connection, run: SyncRun) -> str:
    """ETag of data/_sync_status.html for this viewer: everything that fragment shows comes from these."""
    return _etag("sync-status", current_user.get_id(), _connection_state(connection), _run_state(run))


def _webhook_state(webhook: ConnectionWebhook | None) -> object:
    # What data/_webhook_note.html shows: the moment the data last changed in Xero.
    return None if webhook is None else (webhook.last_event_at or webhook.last_received_at)


def rows_etag(rows: Iterable[ConnectionRow], webhooks: dict[int, ConnectionWebhook] | None = None) -> str:
    """ETag of data/_rows.html: the connections, their latest runs, record totals and webhook notes."""
    webhooks = webhooks or {}
    state = tuple(
        (
            _connection_state(row.connection),
            _run_summary(row.run),
            row.total_records,
            _webhook_state(webhooks.get(row.connection.id)),
        )
        for row in rows
    )
    return _etag("rows", current_user.get_id(), getattr(current_user, "is_admin", False), state)


def connection_and_latest_run(connection_id: int) -> tuple[Connection, SyncRun] | None:
    """This workspace's connection, its latest run and the run's streams, in one query (a poll needs
    all three); None when the connection is missing, another workspace's, or has never run."""
    found = db.session.execute(
        _connection_and_latest_run(), {"connection_id": connection_id, "workspace_id": current_user.workspace_id}
    )
    row = found.unique().first()
    return None if row is None else (row[0], row[1])


@cache
def _connection_and_latest_run():
    # Built once: building a statement costs about as much as running it on a poll this small.
    return (
        select(Connection, SyncRun)
        .join(SyncRun, SyncRun.connection_id == Connection.id)
        .options(joinedload(SyncRun.streams))
        .where(Connection.id == bindparam("connection_id"), Connection.workspace_id == bindparam("workspace_id"))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def not_modified(etag: str) -> ResponseReturnValue | None:
    """304 for a fragment poll that already holds this state; None when the fragment must be rendered."""
    if not (wants_fragment() and request.if_none_match.contains(etag)):
        return None
    response = make_response("", 304)
    response.set_etag(etag)
    response.vary.add("HX-Request")
    return response


def tagged(response: Response, etag: str) -> Response:
    if wants_fragment():
        response.set_etag(etag)
    return response
