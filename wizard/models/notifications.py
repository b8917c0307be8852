"""In-app messages to a workspace's admins (a connection needs them, support asks for access)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wizard.clock import utcnow
from wizard.extensions import Model


class Notification(Model):
    """One in-app message to one workspace admin; unread until they mark it read."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[str] = mapped_column(Text, default="")  # numbered steps, one per line
    # What it is about; a plain column (no foreign key) so the message outlives the connection.
    connection_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]  # the problem it reported is fixed (e.g. by a reconnect)

    @property
    def step_list(self) -> list[str]:
        return [line for line in self.steps.splitlines() if line.strip()]
