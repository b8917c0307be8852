"""A connection that stops working tells the workspace's admins, once, what to do."""

from __future__ import annotations

from wizard.extensions import db
from wizard.hints import hint_for
from wizard.models import Connection, TokenSet
from wizard.notifications.inbox import notify_admins


def mark_broken(connection: Connection, state: str, cause: str, detail: str = "") -> None:
    """Move to needs_reauth / disconnected; on the first move there, notify every admin (caller commits)."""
    if connection.state == "disconnecting":
        return  # the admin is removing it: Xero refusing it now is expected, the disconnect job ends it
    already = connection.state == state
    connection.move_to(state, cause, detail)
    if already:
        return
    hint = hint_for(cause)
    assert hint is not None, "mark_broken needs a cause"
    notify_admins(
        connection.workspace_id,
        f"connection.{state}",
        f"{connection.tenant_name}: {hint.title}",
        body=f"{hint.cause} {hint.action}",
        connection_id=connection.id,
    )


def mark_login_dead(token_set_id: int | None) -> None:
    """Xero refused this login's refresh token: every connection made with the same Xero login
    needs the admin to log in again, and the admins hear it once (caller commits)."""
    token_set = db.session.get(TokenSet, token_set_id) if token_set_id is not None else None
    if token_set is None:
        return
    for connection in token_set.connections:
        if connection.state != "disconnected":
            mark_broken(connection, "needs_reauth", "token_dead", "Xero no longer accepts this login's refresh token.")
