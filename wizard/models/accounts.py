"""Workspaces and the people who sign in to them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Table, event, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from wizard.clock import utcnow
from wizard.extensions import Model

ROLES = ("admin", "viewer", "support")


class Workspace(Model):
    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An IANA zone name (zoneinfo), for times written by the server; None means UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))

    users: Mapped[list[User]] = relationship(back_populates="workspace")


class User(UserMixin, Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    # admin / viewer belong to a workspace; support staff belong to none.
    role: Mapped[str] = mapped_column(String(20))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspace.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workspace: Mapped[Workspace | None] = relationship(back_populates="users")

    # Set when loaded through a sign-in session; Flask-Login stores get_id() in the cookie.
    # Typed for the checker only: the ORM reads a class annotation as a column to map.
    if TYPE_CHECKING:
        login_token: str | None
        login_session: LoginSession | None
        unread_notifications: int | None
    login_token = None
    login_session = None  # its LoginSession row, loaded in the same query
    unread_notifications = None  # its unread notifications, counted in the same query

    def get_id(self) -> str:
        return f"{self.id}:{self.login_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_support(self) -> bool:
        return self.role == "support"


class LoginSession(Model):
    """A server-side record of each sign-in: signing out revokes it, so an old cookie is dead.

    It also ends by itself: idle for longer than SESSION_IDLE_MINUTES (by `last_seen_at`, kept
    to the minute) or older than SESSION_MAX_HOURS (by `created_at`).
    """

    __tablename__ = "login_session"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the password was last typed in this session (sign-in, or re-authentication).
    password_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


@event.listens_for(Session, "before_flush")
def _end_sessions_of_users_whose_role_changes(session: Session, _flush_context, _instances) -> None:
    """A changed role must not live on in sessions signed in under the old one: end them all."""
    changed = [
        user.id
        for user in session.dirty
        if isinstance(user, User) and user.id is not None and inspect(user).attrs.role.history.has_changes()
    ]
    if changed:
        session.execute(
            update(cast(Table, LoginSession.__table__))
            .where(LoginSession.user_id.in_(changed), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
