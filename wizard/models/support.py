"""Customer-issued support grants and the append-only audit log of support access."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Delete, ForeignKey, Index, String, Table, Text, Update, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from wizard.clock import utcnow
from wizard.extensions import Model
from wizard.models import audit_guard

GRANT_SCOPE = "diagnostics"


class SupportGrant(Model):
    """A workspace admin lets our support team see one connection's (or every connection's)
    diagnostics until `expires_at`, or until revoked. Checked on every request."""

    __tablename__ = "support_grant"
    __table_args__ = (Index("ix_support_grant_workspace_expires", "workspace_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    # Scope: every connection of the workspace (including ones added while the grant runs),
    # or one connection. A deleted connection leaves its grant covering nothing, kept as history.
    all_connections: Mapped[bool] = mapped_column(default=False)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"), index=True)
    connection_name: Mapped[str] = mapped_column(String(300), default="")  # as it was when granted
    scope: Mapped[str] = mapped_column(String(40), default=GRANT_SCOPE)
    reason: Mapped[str] = mapped_column(String(500), default="")
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set by the background cleanup once it has recorded the expiry (access ends without it).
    expiry_recorded_at: Mapped[datetime | None]

    granted_by = relationship("User", foreign_keys=[granted_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if now < self.expires_at else "expired"

    @property
    def scope_label(self) -> str:
        return "All connections" if self.all_connections else (self.connection_name or "A removed connection")

    def revoke(self, by_user_id: int, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at, self.revoked_by_id = now, by_user_id


class AuditEvent(Model):
    """One support access, allowed or denied. Append-only: rows are never updated or deleted.

    Ids are plain columns, not foreign keys, so that the log outlives what it mentions.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_workspace_at", "workspace_id", "id"),
        Index("ix_audit_event_grant", "grant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    actor_email: Mapped[str] = mapped_column(String(320), default="")
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    grant_id: Mapped[int | None]
    workspace_id: Mapped[int | None]
    connection_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(60))
    allowed: Mapped[bool] = mapped_column(default=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


audit_guard.attach(cast(Table, AuditEvent.__table__))


class AuditLogImmutable(Exception):
    """Someone tried to change or remove an audit row."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise AuditLogImmutable("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise AuditLogImmutable("audit events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(orm_execute_state) -> None:
    """`session.execute(update(AuditEvent)...)` bypasses the per-row hooks; refuse it too."""
    statement = orm_execute_state.statement
    table = getattr(statement, "table", None)  # an annotated copy, so compare by name
    if isinstance(statement, Update | Delete) and getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogImmutable("audit events are append-only")
