"""Support's object check: a connection is reachable only under an active grant covering it.

Called by wizard.policy on every request to a SUPPORT_GRANT endpoint, so revocation and
expiry take effect on the very next request. A miss is a 404 (the workspace's existence is
not revealed) and is written to the audit log as a denied attempt.
"""

from __future__ import annotations

from flask import abort, request

from wizard.extensions import db
from wizard.models import Connection, SupportGrant
from wizard.support import audit
from wizard.support.grants import active_grant, latest_grant

_CACHE_KEY = "wizard.support_access"

# What each support endpoint does, in the audit log's words.
ACTIONS = {
    "support.console": "console.view",
    "support.doctor": "doctor.view",
    "support.rerun_sync": "sync.rerun",
    "support.recheck": "connection.recheck",
    "xero_access.request_form": "xero_access.view",
    "xero_access.create_request": "xero_access.requested",
    "xero_access.mark_done": "xero_access.done",
}


def action_name() -> str:
    return ACTIONS.get(request.endpoint or "", request.endpoint or "unknown")


def require_grant(connection_id: int | None) -> tuple[Connection, SupportGrant]:
    """The connection and the grant that lets the signed-in support user see it, or 404."""
    # Per request, never across requests (a test's outer app context would share `g`).
    cached = request.environ.get(_CACHE_KEY)
    if cached is not None and cached[0].id == connection_id:
        return cached
    connection = db.session.get(Connection, connection_id) if connection_id is not None else None
    grant = active_grant(connection) if connection is not None else None
    if connection is None or grant is None:
        audit.record(
            action_name(),
            allowed=False,
            connection_id=connection_id,
            grant=latest_grant(connection) if connection is not None else None,
            workspace_id=connection.workspace_id if connection is not None else None,
            detail="no active grant",
        )
        abort(404)
    request.environ[_CACHE_KEY] = (connection, grant)
    return connection, grant


def record_denied_role() -> None:
    """A support account asked for a customer-only page: audit it (no lookup, nothing revealed)."""
    connection_id = (request.view_args or {}).get("connection_id")
    audit.record(
        action_name(),
        allowed=False,
        connection_id=connection_id if isinstance(connection_id, int) else None,
        detail=f"role not allowed on {request.method} {request.path}"[:300],
    )
