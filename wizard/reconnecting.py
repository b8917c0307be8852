"""Repairing connections with a new Xero login: which ones need it, siblings revived, notices resolved."""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, Notification, TokenSet
from wizard.xero.api import XeroApi
from wizard.xero.errors import XeroError
from wizard.xero.tokens import access_token

log = logging.getLogger(__name__)

# Notifications that a working login settles (wizard.connection_health writes them).
BROKEN_KINDS = ("connection.needs_reauth", "connection.disconnected")


def needs_reconnect(connection: Connection) -> bool:
    """Broken by Xero (dead login, or removed inside Xero): a new login can repair it.

    A connection the admin disconnected here is not offered: that was their choice.
    """
    if connection.state == "needs_reauth":
        return True
    return connection.state == "disconnected" and connection.state_reason != "disconnected_by_admin"


def revive_siblings(api: XeroApi, repaired: Connection, old_token_set_id: int | None) -> list[Connection]:
    """Connections that used the same Xero login and that Xero still lists for the new tokens.

    One Xero login covers every organisation its user connected, so when it is repaired for one
    organisation the others come back too, if Xero still has them connected (it drops them all
    when the grant was revoked; the admin then ticks them again at Xero).
    """
    token_set = db.session.get(TokenSet, repaired.token_set_id)
    siblings = [
        c
        for c in db.session.scalars(
            select(Connection).where(
                Connection.workspace_id == repaired.workspace_id,
                Connection.id != repaired.id,
                Connection.token_set_id.in_({repaired.token_set_id, old_token_set_id} - {None}),
            )
        )
        if needs_reconnect(c)
    ]
    if token_set is None or not siblings:
        return []
    try:
        listed = {t.get("tenantId"): t for t in api.get_connections(access_token(token_set.id))}
    except XeroError as exc:
        log.warning("reconnect.siblings_unlisted connection=%s kind=%s", repaired.id, exc.kind)
        return []
    revived = []
    for sibling in siblings:
        tenant = listed.get(sibling.tenant_id)
        if tenant is None:
            continue
        sibling.token_set_id = token_set.id
        sibling.xero_connection_id = str(tenant.get("id") or "")[:64]
        sibling.auth_event_id = str(tenant.get("authEventId") or "")[:64]
        sibling.move_to("connecting", "reconnected")
        revived.append(sibling)
    return revived


def resolve_notifications(connection_ids: list[int]) -> int:
    """Mark the broken-connection notices of these connections resolved (the caller commits).

    They also count as read: the admin just fixed it, so they no longer call for attention.
    """
    if not connection_ids:
        return 0
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.connection_id.in_(connection_ids),
            Notification.kind.in_(BROKEN_KINDS),
            Notification.resolved_at.is_(None),
        )
        .values(resolved_at=now, read_at=func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount
