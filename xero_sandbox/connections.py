"""api.xero.com/connections: list (optionally by authEventId) and delete connections."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .gateway import app_call, json_response, not_found
from .state import connection_view, current_sandbox

bp = Blueprint("connections", __name__)


@bp.get("/connections")
@bp.get("/Connections")
def list_connections():
    """The token user's connections to this app, oldest first."""

    def handler(bearer):
        store = current_sandbox().store
        auth_event_id = request.args.get("authEventId")
        user = store.users[bearer.user_id]
        with store.lock:
            rows = [
                connection_view(c, store)
                for c in store.user_connections(bearer.user_id, bearer.client_id)
                if store.can_connect(user, c.tenant_id)
                and (auth_event_id is None or c.auth_event_id == auth_event_id.lower())
            ]
        return json_response(rows)

    return app_call(handler)


@bp.delete("/connections/<connection_id>")
@bp.delete("/Connections/<connection_id>")
def delete_connection(connection_id: str):
    """Disconnect one organisation by connection id (not tenant id): 204, or 404."""

    def handler(bearer):
        store = current_sandbox().store
        with store.lock:
            conn = store.connections.get(connection_id.lower())
            if conn is None or conn.user_id != bearer.user_id or conn.client_id != bearer.client_id:
                return not_found()
            store.remove_connection(conn.connection_id)
        return Response(status=204)

    return app_call(handler)
