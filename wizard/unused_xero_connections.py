"""Organisations ticked at Xero but not connected here: Xero keeps them connected to our app, unused.

Xero creates a connection for every organisation ticked on its consent screen. Those the admin
does not connect here still count against the app's connection limit and still show in Xero's
"Connected apps", so the admin is told and can remove them (DELETE /connections/{id}).
"""

from __future__ import annotations

from sqlalchemy import select

from wizard import connecting, xero_logins
from wizard.connecting import ConnectError, Organisation
from wizard.extensions import db
from wizard.models import Connection, TokenSet, User
from wizard.xero.errors import XeroError
from wizard.xero.tokens import access_token


def unused(user: User, not_connected: list[Organisation] | None = None) -> list[Organisation]:
    """This login's organisations that no workspace of ours uses through the same Xero user.

    The same Xero user may have connected one of them to another workspace here: Xero has one
    connection per user, app and organisation, so removing it would break that workspace.
    `not_connected`: `connecting.other_authorised(user)` when the caller has it already.
    """
    login = xero_logins.authorised(user)
    if login is None or login.tenants is None:  # no list from Xero yet: nothing was offered here
        return []
    organisations = connecting.other_authorised(user) if not_connected is None else not_connected
    if not organisations:
        return []
    token_set = login.token_set  # loaded by authorised(): no query
    xero_userid = token_set.xero_userid if token_set is not None else None
    in_use = set(
        db.session.scalars(
            select(Connection.tenant_id)
            .join(TokenSet, Connection.token_set_id == TokenSet.id)
            .where(TokenSet.xero_userid == xero_userid, Connection.tenant_id.in_([o.tenant_id for o in organisations]))
        )
    )
    return [o for o in organisations if o.tenant_id not in in_use and o.xero_connection_id]


def unused_to_show(user: User, not_connected: list[Organisation] | None = None) -> list[Organisation]:
    """`unused` for a page's note: nothing when the session's Xero login cannot be used any more."""
    try:
        return unused(user, not_connected)
    except ConnectError:
        return []


def remove_unused(user: User) -> list[str]:
    """Remove the unused organisations' connections at Xero; return their names."""
    organisations = unused(user)
    login = connecting.authorised_login(user)
    if login.token_set_id is None:  # authorised_login checks it; this tells the type checker
        raise ConnectError("state_invalid", "that Xero login has no tokens")
    api = connecting.xero_api()
    removed = []
    for organisation in organisations:
        try:
            api.delete_connection(access_token(login.token_set_id), organisation.xero_connection_id)
        except XeroError as exc:
            if exc.kind != "xero_not_found":
                raise ConnectError(exc.kind, str(exc)) from None
        removed.append(organisation.name)
    gone = {o.tenant_id for o in organisations}
    login.tenants = [t for t in login.tenants or [] if t.get("tenantId") not in gone]
    db.session.commit()
    return removed
