"""The connection doctor: what support may see about one connection, and the two actions
a grant allows (re-run the sync, re-check the connection with one cheap Xero call).

Nothing here reads a token's value except `recheck`, which hands it straight to Xero;
the diagnosis carries expiry times, counts and scopes only.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select

from wizard import run_watch, syncing
from wizard.clock import utcnow
from wizard.connection_health import mark_login_dead
from wizard.extensions import db
from wizard.hints import HINTS, Hint, hint_for
from wizard.models import (
    AuditEvent,
    Connection,
    ConnectionEvent,
    SupportGrant,
    SyncRun,
    TokenSet,
)
from wizard.support import audit
from wizard.xero import tokens
from wizard.xero.api import XeroApi
from wizard.xero.errors import InvalidGrant, XeroError

RUNS_SHOWN = 10
EVENTS_SHOWN = 50
HINT_STATES = (
    "needs_reauth",
    "disconnected",
    "failed",
    "paused",
)  # as on the Data page
ROLE_REASONS = (
    "role_cannot_connect",
    "disconnected_in_xero",
    "access_denied",
    "no_organisations",
)


@dataclass
class TokenHealth:
    """A token set described without its secrets."""

    xero_user_email: str
    xero_user_name: str
    created_at: datetime
    access_expires_at: datetime
    access_expired: bool
    refreshed_at: datetime | None
    refresh_failures: int
    last_refresh_error: str
    dead: bool
    has_refresh_token: bool
    granted_scopes: list[str]
    missing_scopes: list[str]  # requested by our app, not granted
    streams_without_scope: list[str]  # sync streams none of whose scopes were granted


@dataclass
class Diagnosis:
    connection: Connection
    events: list[ConnectionEvent]
    token: TokenHealth | None
    runs: list[SyncRun]
    hints: list[Hint]
    role_hints: list[Hint]
    last_recheck: AuditEvent | None
    worker_view: WorkerView | None = None  # what RQ knows of the active run


@dataclass
class WorkerView:
    """The active run's job as RQ has it, and who runs RQ's scheduler; `error` when Redis is away."""

    run_id: int
    job: run_watch.JobView | None
    scheduler: str | None
    error: str = ""


def needed_scopes() -> list[str]:
    """What our app asks Xero for (config XERO_SCOPES)."""
    return current_app.config["XERO_SCOPES"].split()


def _stream_scopes() -> list[tuple[str, tuple[str, ...]]]:
    """The sync's streams and the scopes each can use, when the worker package is installed."""
    if importlib.util.find_spec("workers") is None:
        return []
    from wizard.xero.streams import STREAMS

    return [(stream.name, stream.scopes) for stream in STREAMS]


def token_health(token_set: TokenSet, now: datetime) -> TokenHealth:
    granted = token_set.scope_list
    return TokenHealth(
        xero_user_email=token_set.xero_user_email,
        xero_user_name=token_set.xero_user_name,
        created_at=token_set.created_at,
        access_expires_at=token_set.access_expires_at,
        access_expired=token_set.access_expires_at <= now,
        refreshed_at=token_set.refreshed_at,
        refresh_failures=token_set.refresh_failures,
        last_refresh_error=token_set.last_refresh_error,
        dead=token_set.dead,
        has_refresh_token=token_set.refresh_token_enc is not None,
        granted_scopes=granted,
        missing_scopes=[s for s in needed_scopes() if s not in granted],
        streams_without_scope=[name for name, scopes in _stream_scopes() if not set(scopes) & set(granted)],
    )


def current_hints(connection: Connection, token: TokenHealth | None, runs: list[SyncRun]) -> list[Hint]:
    """The hints the customer is being shown now (same catalogue, same words), plus token ones."""
    causes = []
    by_admin = connection.state == "disconnecting" or connection.state_reason == "disconnected_by_admin"
    if connection.state in HINT_STATES and not by_admin:
        causes.append(connection.state_reason or "sync_failed")
    if runs and runs[0].state == "failed" and runs[0].error_kind != "disconnected_by_admin":
        causes.append(runs[0].error_kind)
    if token is not None and token.dead:
        causes.append("token_dead")
    if token is not None and (token.missing_scopes or token.streams_without_scope):
        causes.append("insufficient_scope")
    found: dict[str, Hint] = {}
    for cause in causes:
        hint = hint_for(cause)
        if hint is not None:
            found.setdefault(hint.code, hint)
    return list(found.values())


def diagnose(connection: Connection) -> Diagnosis:
    """Everything the doctor page shows, read-only."""
    token = token_health(connection.token_set, utcnow()) if connection.token_set else None
    runs = list(
        db.session.scalars(
            select(SyncRun).where(SyncRun.connection_id == connection.id).order_by(SyncRun.id.desc()).limit(RUNS_SHOWN)
        )
    )
    events = list(
        db.session.scalars(
            select(ConnectionEvent)
            .where(ConnectionEvent.connection_id == connection.id)
            .order_by(ConnectionEvent.id.desc())
            .limit(EVENTS_SHOWN)
        )
    )
    role_hints = [HINTS["role_cannot_connect"]]
    if connection.state_reason in ROLE_REASONS and connection.state_reason in HINTS:
        role_hints.insert(0, HINTS[connection.state_reason])
    return Diagnosis(
        connection,
        events,
        token,
        runs,
        current_hints(connection, token, runs),
        role_hints,
        audit.last_of("connection.recheck", connection.id),
        worker_view(runs),
    )


def worker_view(runs: list[SyncRun]) -> WorkerView | None:
    """Why an active run may be standing still: its RQ job's state and heartbeat, the run lock,
    and RQ's scheduler holder."""
    active = next((run for run in runs if not run.finished), None)
    if active is None:
        return None
    try:
        return WorkerView(active.id, run_watch.job_view(active), run_watch.scheduler_holder())
    except RedisError as exc:
        return WorkerView(active.id, None, None, error=f"Redis cannot be reached ({type(exc).__name__})")


class CannotSync(Exception):
    """The connection cannot sync until the customer reconnects it."""


def rerun_sync(connection: Connection, grant: SupportGrant) -> SyncRun:
    """Start (or join) a sync on support's behalf; audited with the run it produced."""
    if not connection.is_usable:
        audit.record(
            "sync.rerun",
            grant=grant,
            connection_id=connection.id,
            detail=f"refused: connection is {connection.state}; the customer must reconnect",
        )
        raise CannotSync(connection.state)
    try:
        run = syncing.start_sync(connection, kind="support", requested_by_id=current_user.id)
    except Exception as exc:
        # The attempt is still support's action on customer data: keep it in the log, then fail.
        db.session.rollback()
        audit.record(
            "sync.rerun",
            grant=grant,
            connection_id=connection.id,
            detail=f"failed: {type(exc).__name__}",
        )
        raise
    audit.record(
        "sync.rerun",
        grant=grant,
        connection_id=connection.id,
        detail=f"sync run #{run.id} {run.state}",
    )
    return run


def _ask_xero(connection: Connection) -> str:
    if connection.token_set_id is None:
        return "problem: no Xero login is stored for this connection"
    try:
        access_token = tokens.access_token(connection.token_set_id)
        api = XeroApi(
            current_app.config["XERO_API_URL"],
            timeout=current_app.config["XERO_HTTP_TIMEOUT"],
        )
        listed = api.get_connections(access_token)
    except InvalidGrant as exc:
        # Xero refused the login's refresh token: its connections need the customer, as after a sync.
        mark_login_dead(connection.token_set_id)
        db.session.commit()
        return f"problem: {exc.kind}"
    except XeroError as exc:
        reference = f" (Xero correlation id {exc.correlation_id})" if exc.correlation_id else ""
        return f"problem: {exc.kind}{reference}"
    except ValueError:
        return "problem: the stored Xero login could not be decrypted"
    except RedisError:
        return "problem: the token refresh lock is unavailable (Redis); try again shortly"
    if any(item.get("tenantId") == connection.tenant_id for item in listed):
        return "ok: Xero lists this organisation as connected"
    return "problem: disconnected_in_xero (Xero no longer lists this organisation)"


def recheck(connection: Connection, grant: SupportGrant) -> str:
    """One cheap call (GET /connections) to see whether Xero still accepts this connection."""
    outcome = _ask_xero(connection)
    audit.record("connection.recheck", grant=grant, connection_id=connection.id, detail=outcome)
    return outcome
