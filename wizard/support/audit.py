"""The support audit log: one row per support access, allowed or denied; only ever appended."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import AuditEvent, SupportGrant


def record(
    action: str,
    *,
    allowed: bool = True,
    grant: SupportGrant | None = None,
    workspace_id: int | None = None,
    connection_id: int | None = None,
    detail: str = "",
    commit: bool = True,
) -> AuditEvent:
    """Append one row for the signed-in user (or the system, outside a request)."""
    actor = current_user if has_request_context() and current_user.is_authenticated else None
    row = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "system",
        actor_role=actor.role if actor else "system",
        grant_id=grant.id if grant else None,
        workspace_id=workspace_id if workspace_id is not None else (grant.workspace_id if grant else None),
        connection_id=connection_id,
        action=action,
        allowed=allowed,
        remote_addr=(request.remote_addr or "")[:64] if has_request_context() else "",
        detail=detail[:2000],
    )
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def for_grant(grant_id: int, limit: int = 200) -> list[AuditEvent]:
    """A grant's trail, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.grant_id == grant_id).order_by(AuditEvent.id.desc()).limit(limit)
        )
    )


def since(after_id: int = 0, limit: int = 10000) -> list[AuditEvent]:
    """Rows in order for security reviewers (the `audit-log` command), oldest first."""
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id).limit(limit))
    )


def outside_grants(workspace_id: int, limit: int = 50) -> list[AuditEvent]:
    """Attempts on this workspace that no grant ever covered (always denied)."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace_id, AuditEvent.grant_id.is_(None))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def last_of(action: str, connection_id: int) -> AuditEvent | None:
    """The latest allowed `action` on a connection (e.g. its last re-check and outcome)."""
    return db.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.connection_id == connection_id,
            AuditEvent.allowed.is_(True),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


# The log's action keys in the customer's words.
ACTION_LABELS = {
    "grant.created": "Access granted",
    "grant.revoked": "Access revoked",
    "grant.expired": "Access expired",
    "console.view": "Opened the support console",
    "doctor.view": "Viewed connection diagnostics",
    "sync.rerun": "Re-ran the sync",
    "connection.recheck": "Re-checked the connection with Xero",
    "xero_access.view": "Viewed the Xero access request page",
    "xero_access.requested": "Asked for temporary access to Xero",
    "xero_access.accepted": "Xero access request accepted",
    "xero_access.declined": "Xero access request declined",
    "xero_access.invited": "Support user invited in Xero",
    "xero_access.done": "Support finished in Xero",
    "xero_access.removed": "Support user removed from Xero",
    "xero_access.expired": "Xero access expired, support user not removed",
    "xero_access.reminder_24h": "Reminder: Xero access ends in 24 hours",
    "xero_access.reminder_expiry": "Reminder: Xero access ended, remove the support user",
}


def label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
