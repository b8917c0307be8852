"""Support grants: the rules for issuing, finding, revoking and expiring them.

A grant is issued by a workspace admin, covers one connection or all of the workspace's,
and is checked against the clock on every request: expiry and revocation need no cleanup
to take effect (the cleanup only records expiries in the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SupportGrant, Workspace
from wizard.request_numbers import parse_id, whole_number
from wizard.support import audit

MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 7 * 24, 24
DURATIONS = (
    (1, "1 hour"),
    (4, "4 hours"),
    (8, "8 hours"),
    (24, "24 hours"),
    (72, "3 days"),
    (168, "7 days"),
)
REASON_MAX = 500
ALL_CONNECTIONS = "all"


class GrantInputError(ValueError):
    """The admin's grant form was not acceptable; `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class GrantRequest:
    """What the admin asked for, as typed (kept so a re-rendered form loses nothing)."""

    scope: str = ALL_CONNECTIONS
    hours: str = str(DEFAULT_HOURS)
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _parse(workspace_id: int, wanted: GrantRequest) -> tuple[Connection | None, int, str]:
    errors: dict[str, str] = {}
    connection = None
    if wanted.scope != ALL_CONNECTIONS:
        connection_id = parse_id(wanted.scope)
        connection = db.session.get(Connection, connection_id) if connection_id is not None else None
        if connection is None or connection.workspace_id != workspace_id:
            errors["scope"] = "Choose one of your connections, or all of them."
    hours = whole_number(wanted.hours, MIN_HOURS, MAX_HOURS)
    if hours is None:
        errors["hours"] = f"Choose a duration from {MIN_HOURS} hour to 7 days ({MAX_HOURS} hours)."
    reason = wanted.reason.strip()
    if len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason under {REASON_MAX} characters (it has {len(reason)})."
    if errors or hours is None:
        raise GrantInputError(errors)
    return connection, hours, reason


def create_grant(workspace_id: int, granted_by_id: int, wanted: GrantRequest) -> SupportGrant:
    """Issue a grant from the admin's form; raises GrantInputError with per-field messages."""
    connection, hours, reason = _parse(workspace_id, wanted)
    now = utcnow()
    grant = SupportGrant(
        workspace_id=workspace_id,
        all_connections=connection is None,
        reason=reason,
        connection_id=connection.id if connection else None,
        connection_name=connection.tenant_name if connection else "",
        granted_by_id=granted_by_id,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "grant.created",
        grant=grant,
        connection_id=grant.connection_id,
        detail=f"{hours} h, until {grant.expires_at:%Y-%m-%d %H:%M} UTC" + (f"; {reason}" if reason else ""),
    )
    return grant


def revoke_grant(grant: SupportGrant, by_user_id: int) -> None:
    """End a grant now; the next support request under it is refused."""
    if grant.revoked_at is not None:
        return
    grant.revoke(by_user_id, utcnow())
    audit.record("grant.revoked", grant=grant, connection_id=grant.connection_id)


def grantable_connections(workspace_id: int) -> list[Connection]:
    """What the admin may grant access to: the workspace's own connections."""
    return list(
        db.session.scalars(
            select(Connection).where(Connection.workspace_id == workspace_id).order_by(Connection.tenant_name)
        )
    )


def workspace_grants(workspace_id: int, limit: int = 50) -> list[SupportGrant]:
    return list(
        db.session.scalars(
            select(SupportGrant)
            .where(SupportGrant.workspace_id == workspace_id)
            .order_by(SupportGrant.id.desc())
            .limit(limit)
        )
    )


def workspace_grant(workspace_id: int, grant_id: int) -> SupportGrant | None:
    grant = db.session.get(SupportGrant, grant_id)
    return grant if grant is not None and grant.workspace_id == workspace_id else None


def _covering(connection: Connection):
    return select(SupportGrant).where(
        SupportGrant.workspace_id == connection.workspace_id,
        or_(
            SupportGrant.all_connections.is_(True),
            SupportGrant.connection_id == connection.id,
        ),
    )


def active_grant(connection: Connection, now: datetime | None = None) -> SupportGrant | None:
    """The active grant covering this connection (the one lasting longest), or None."""
    now = now or utcnow()
    return db.session.scalar(
        _covering(connection)
        .where(SupportGrant.revoked_at.is_(None), SupportGrant.expires_at > now)
        .order_by(SupportGrant.expires_at.desc())
        .limit(1)
    )


def latest_grant(connection: Connection) -> SupportGrant | None:
    """The most recent grant that ever covered this connection, whatever its state."""
    return db.session.scalar(_covering(connection).order_by(SupportGrant.id.desc()).limit(1))


@dataclass
class GrantedConnection:
    connection: Connection
    workspace: Workspace
    grant: SupportGrant


def granted_connections(search: str = "", now: datetime | None = None) -> list[GrantedConnection]:
    """Connections support may look at right now, optionally filtered by workspace name,
    organisation name or Xero tenant id. Nothing without an active grant is returned."""
    now = now or utcnow()
    query = (
        select(Connection, Workspace, SupportGrant)
        .join(Workspace, Workspace.id == Connection.workspace_id)
        .join(
            SupportGrant,
            (SupportGrant.workspace_id == Connection.workspace_id)
            & or_(
                SupportGrant.all_connections.is_(True),
                SupportGrant.connection_id == Connection.id,
            ),
        )
        .where(SupportGrant.revoked_at.is_(None), SupportGrant.expires_at > now)
        .order_by(Workspace.name, Connection.tenant_name, SupportGrant.expires_at.desc())
    )
    search = search.strip()
    if search:
        query = query.where(
            or_(
                Workspace.name.icontains(search, autoescape=True),
                Connection.tenant_name.icontains(search, autoescape=True),
                Connection.tenant_id.icontains(search, autoescape=True),
            )
        )
    rows: dict[int, GrantedConnection] = {}
    for connection, workspace, grant in db.session.execute(query):
        rows.setdefault(connection.id, GrantedConnection(connection, workspace, grant))
    return list(rows.values())


def record_expiries(now: datetime | None = None) -> int:
    """Background cleanup: note each grant that ran out in the audit log, once."""
    now = now or utcnow()
    due = db.session.scalars(
        select(SupportGrant).where(
            SupportGrant.revoked_at.is_(None),
            SupportGrant.expires_at <= now,
            SupportGrant.expiry_recorded_at.is_(None),
        )
    ).all()
    for grant in due:
        grant.expiry_recorded_at = now
        audit.record(
            "grant.expired",
            grant=grant,
            connection_id=grant.connection_id,
            commit=False,
        )
    db.session.commit()
    return len(due)
