"""Writing and reading admins' notifications. One row per admin, so each reads at their pace."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Notification, User


def notify_admins(
    workspace_id: int,
    kind: str,
    title: str,
    body: str = "",
    steps: list[str] | None = None,
    connection_id: int | None = None,
) -> int:
    """Queue one notification for every admin of the workspace (the caller commits)."""
    admins = db.session.scalars(select(User.id).where(User.workspace_id == workspace_id, User.role == "admin")).all()
    now = utcnow()
    for user_id in admins:
        db.session.add(
            Notification(
                user_id=user_id,
                workspace_id=workspace_id,
                kind=kind,
                title=title[:300],
                body=body,
                steps="\n".join(steps or []),
                connection_id=connection_id,
                created_at=now,
            )
        )
    return len(admins)


def unread_count(user_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def for_user(user_id: int, limit: int = 100) -> list[Notification]:
    """Newest first."""
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
        )
    )


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return cast("CursorResult[Any]", result).rowcount
