"""Xero token sets (one per Xero user) and connections (one per organisation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wizard.clock import utcnow
from wizard.extensions import Model

# What the Data page can say about a connection. Transitions go through Connection.move_to().
CONNECTION_STATES = (
    "connecting",  # saved, initial sync not started yet
    "syncing",
    "synced",
    "paused",  # parked by Xero's daily limit or an organisation-offline 503
    "needs_reauth",  # refresh token dead: the admin must log in to Xero again
    "disconnecting",  # the admin asked to disconnect; the worker finishes it (wizard.disconnecting)
    "disconnected",  # removed inside Xero (403 AuthenticationUnsuccessful / not listed), or by the admin
    "failed",
)

# Allowed moves, from -> to. Staying in a state (a new reason or detail) is always allowed.
# Once the admin asked to disconnect, only the disconnect itself may end it: a sync that
# meets Xero's 403 after our DELETE /connections must not end it early and skip the clean-up.
_ANY_PROBLEM = {"failed", "needs_reauth", "disconnected", "disconnecting"}
TRANSITIONS: dict[str, frozenset[str]] = {
    "connecting": frozenset({"syncing", *_ANY_PROBLEM}),
    "syncing": frozenset({"synced", "paused", "connecting", *_ANY_PROBLEM}),
    "synced": frozenset({"syncing", "connecting", *_ANY_PROBLEM}),
    "paused": frozenset({"syncing", "connecting", *_ANY_PROBLEM}),
    "failed": frozenset({"syncing", "connecting", *_ANY_PROBLEM}),
    "needs_reauth": frozenset({"connecting", "disconnected", "disconnecting"}),
    "disconnected": frozenset({"connecting", "disconnecting"}),
    "disconnecting": frozenset({"disconnected"}),
}


class TransitionRefused(ValueError):
    """A move the connection lifecycle does not allow (see TRANSITIONS)."""


class TokenSet(Model):
    """Xero tokens of one Xero user for this app: they cover every organisation that user connected."""

    __tablename__ = "token_set"
    __table_args__ = (UniqueConstraint("workspace_id", "xero_userid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    xero_userid: Mapped[str] = mapped_column(String(64))
    xero_user_email: Mapped[str] = mapped_column(String(320), default="")
    xero_user_name: Mapped[str] = mapped_column(String(200), default="")
    # Fernet ciphertexts; never plaintext (see wizard.crypto).
    access_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime]
    scopes: Mapped[str] = mapped_column(Text, default="")
    authentication_event_id: Mapped[str] = mapped_column(String(64), default="")
    # Bumped on every rotation: lets a refresher tell "someone else rotated it" from "dead".
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None]
    refresh_failures: Mapped[int] = mapped_column(default=0)
    last_refresh_error: Mapped[str] = mapped_column(String(200), default="")
    dead: Mapped[bool] = mapped_column(default=False)

    connections: Mapped[list[Connection]] = relationship(back_populates="token_set")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class Connection(Model):
    """One Xero organisation connected to one workspace."""

    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("workspace_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    token_set_id: Mapped[int | None] = mapped_column(ForeignKey("token_set.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    tenant_name: Mapped[str] = mapped_column(String(300))
    tenant_type: Mapped[str] = mapped_column(String(40), default="ORGANISATION")
    xero_connection_id: Mapped[str] = mapped_column(String(64), default="")
    auth_event_id: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(20), default="connecting")
    state_reason: Mapped[str] = mapped_column(String(60), default="")
    state_detail: Mapped[str] = mapped_column(Text, default="")
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_synced_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    sync_interval_minutes: Mapped[int] = mapped_column(default=360)
    # Rate-limit headroom from the last Xero response (support diagnostics).
    min_limit_remaining: Mapped[int | None]
    day_limit_remaining: Mapped[int | None]
    app_min_limit_remaining: Mapped[int | None]

    token_set: Mapped[TokenSet | None] = relationship(back_populates="connections")
    events: Mapped[list[ConnectionEvent]] = relationship(
        back_populates="connection", order_by="ConnectionEvent.id", cascade="all, delete-orphan"
    )

    def move_to(self, state: str, reason: str = "", detail: str = "") -> None:
        """The one place a connection changes state; every change is kept as an event.

        Raises TransitionRefused for a move TRANSITIONS does not allow (the row is left as it was).
        """
        if state not in CONNECTION_STATES:
            raise ValueError(f"unknown connection state {state!r}")
        if not self.can_move_to(state):
            raise TransitionRefused(f"connection {self.id} cannot move from {self.state} to {state}")
        if (state, reason) == (self.state, self.state_reason) and detail == self.state_detail:
            return
        self.events.append(ConnectionEvent(from_state=self.state, to_state=state, reason=reason, detail=detail))
        self.state, self.state_reason, self.state_detail = state, reason, detail
        self.state_changed_at = utcnow()

    def can_move_to(self, state: str) -> bool:
        if self.state is None:
            return True  # a new row, before its first flush, starts in the state it is given
        return state == self.state or state in TRANSITIONS[self.state]

    @property
    def is_usable(self) -> bool:
        return self.state not in ("needs_reauth", "disconnecting", "disconnected")


class ConnectionEvent(Model):
    """History of a connection's states (support's connection doctor shows it)."""

    __tablename__ = "connection_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    connection: Mapped[Connection] = relationship(back_populates="events")
