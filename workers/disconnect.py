"""Job entry point for a disconnect the admin asked for (wizard.disconnecting does the work)."""

from __future__ import annotations

from wizard.disconnecting import finish_disconnect
from wizard.extensions import db


def run_disconnect(connection_id: int) -> str:
    """Remove the connection at Xero, delete or keep its data, end `disconnected`; RQ retries it."""
    db.engine.dispose(close=False)  # never share the parent's pooled connections after the fork
    return finish_disconnect(connection_id)
