"""Object lookups scoped to the signed-in user's workspace: a miss is a 404, never a leak."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from wizard.extensions import db
from wizard.models import Connection


def get_connection(connection_id: int) -> Connection:
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.workspace_id != current_user.workspace_id:
        abort(404)
    return connection
