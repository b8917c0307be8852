"""A connection that stops working tells the workspace's admins, once, what to do."""

from __future__ import annotations

from wizard.hints import hint_for
from wizard.models import Connection
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
    notify_admins(
        connection.workspace_id,
        f"connection.{state}",
        f"{connection.tenant_name}: {hint.title}",
        body=f"{hint.cause} {hint.action}",
        connection_id=connection.id,
    )
