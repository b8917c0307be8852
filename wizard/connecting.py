"""Connecting a Xero organisation: the business rules behind the wizard's steps."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from wizard import xero_logins
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, TokenSet, User, XeroLogin
from wizard.reconnecting import needs_reconnect, resolve_notifications, revive_siblings
from wizard.xero import oauth
from wizard.xero.api import XeroApi
from wizard.xero.errors import IdTokenInvalid, XeroError
from wizard.xero.tokens import access_token, store_tokens

MAX_TENANTS = 100


class ConnectError(Exception):
    """A failure the user can act on; `cause` keys wizard.hints.HINTS.

    `status` is 400 when the callback itself is refused (a state not issued to this session, an
    id_token that fails validation), 200 when the page explains a problem the admin can act on.
    """

    def __init__(self, cause: str, message: str = "", status: int | None = None) -> None:
        super().__init__(message or cause)
        self.cause = cause
        self.status = status if status is not None else (400 if cause == "state_invalid" else 200)


@dataclass
class Organisation:
    tenant_id: str
    name: str
    xero_connection_id: str
    auth_event_id: str
    existing_connection_id: int | None  # already a data source in this workspace
    existing_needs_reconnect: bool = False  # ...whose connection this login can repair


def xero_api() -> XeroApi:
    return XeroApi(current_app.config["XERO_API_URL"], timeout=current_app.config["XERO_HTTP_TIMEOUT"])


def begin_authorization(user: User, mode: str = "redirect", reconnect_id: int | None = None) -> str:
    """Step 2a: keep state/PKCE/nonce server-side for this user (one login at a time); return Xero's URL."""
    request = oauth.build_authorization_request()
    xero_logins.start(user, request.state, request.code_verifier, request.nonce, mode, reconnect_id)
    return request.url


def pending_login(user: User) -> XeroLogin | None:
    """This user's login waiting for its callback (its mode and reconnect target), if any."""
    return xero_logins.waiting(user)


def finish_authorization(user: User, args: dict[str, Any]) -> XeroLogin:
    """Step 2b, the callback: the login claimed once (atomically), state checked, code exchanged.

    Raises ConnectError without storing anything on a missing/replayed/expired state or an error.
    Returns the login, now holding this workspace's token set.
    """
    login = xero_logins.consume(user)
    state = str(args.get("state", ""))[:512]
    if login is None or not state or not secrets.compare_digest(login.state.encode(), state.encode()):
        raise ConnectError("state_invalid")
    error = str(args.get("error", ""))[:100]
    if error:
        raise ConnectError("access_denied" if error == "access_denied" else "token_exchange_failed", error)
    code = str(args.get("code", ""))[:2048]
    if not code:
        raise ConnectError("token_exchange_failed", "no code in the callback")
    try:
        tokens = oauth.exchange_code(code, login.code_verifier, login.nonce)
    except IdTokenInvalid as exc:
        # Forged, replayed or mis-issued identity: refuse the callback and use none of the tokens.
        raise ConnectError("token_exchange_failed", str(exc), status=400) from None
    except XeroError as exc:
        cause = "xero_unavailable" if exc.kind == "xero_unavailable" else "token_exchange_failed"
        raise ConnectError(cause, str(exc)) from None
    if not tokens.xero_userid:
        raise ConnectError("token_exchange_failed", "token carried no Xero user id")
    token_set = save_token_set(user, tokens)
    login.token_set_id = token_set.id
    login.auth_event_id = tokens.authentication_event_id[:64]
    db.session.commit()
    return login


def save_token_set(user: User, tokens: oauth.TokenResponse) -> TokenSet:
    """One token set per Xero user per workspace: a new login replaces the old pair."""
    token_set = db.session.scalar(
        select(TokenSet).where(TokenSet.workspace_id == user.workspace_id, TokenSet.xero_userid == tokens.xero_userid)
    )
    if token_set is None:
        token_set = TokenSet(workspace_id=user.workspace_id, xero_userid=tokens.xero_userid)
        db.session.add(token_set)
    else:
        token_set.version += 1
    store_tokens(token_set, tokens)
    token_set.refreshed_at = utcnow()
    token_set.refresh_failures = 0
    token_set.last_refresh_error = ""
    token_set.xero_user_email = str(tokens.identity.get("email", ""))[:320]
    names = (tokens.identity.get("given_name", ""), tokens.identity.get("family_name", ""))
    token_set.xero_user_name = " ".join(n for n in names if n)[:200]
    db.session.commit()
    return token_set


def authorised_login(user: User) -> XeroLogin:
    """The finished Xero login of this browser session, this user's and workspace's, or ConnectError."""
    login = xero_logins.authorised(user)
    if login is None:
        raise ConnectError("state_invalid", "no Xero login of yours in this session")
    return login


def _xero_tenants(login: XeroLogin) -> list[dict[str, str]]:
    """Ask Xero: this consent's connections, or all of the user's when the filter comes back empty."""
    if login.token_set_id is None:  # not from authorised_login, which checks it
        raise ConnectError("state_invalid", "that Xero login has no tokens")
    token = access_token(login.token_set_id)
    api = xero_api()
    try:
        tenants = api.get_connections(token, login.auth_event_id or None)
        if not tenants:
            tenants = api.get_connections(token)
    except XeroError as exc:
        raise ConnectError(exc.kind, str(exc)) from None
    keep = ("id", "tenantId", "tenantName", "tenantType", "authEventId")
    return [{k: str(t.get(k) or "")[:300] for k in keep} for t in tenants if t.get("tenantId")][:MAX_TENANTS]


def authorised_organisations(
    user: User, fresh: bool = True, connections: list[Connection] | None = None
) -> list[Organisation]:
    """Step 3: organisations of this consent, marked when already in this workspace.

    The list Xero gave when step 3 was shown is kept with the login (server-side), so the steps
    after it (choose, confirm, connect) answer without another call to Xero on the request path.
    `connections`: the workspace's connections, when the caller has just read them all.
    """
    login = authorised_login(user)
    if fresh or login.tenants is None:
        login.tenants = _xero_tenants(login)
        db.session.commit()
    if connections is None:
        connections = list(db.session.scalars(select(Connection).where(Connection.workspace_id == user.workspace_id)))
    existing = {c.tenant_id: c for c in connections}
    organisations = [
        Organisation(
            tenant_id=t["tenantId"],
            name=t.get("tenantName") or t["tenantId"],
            xero_connection_id=t.get("id", ""),
            auth_event_id=t.get("authEventId", ""),
            existing_connection_id=existing[t["tenantId"]].id if t["tenantId"] in existing else None,
            existing_needs_reconnect=t["tenantId"] in existing and needs_reconnect(existing[t["tenantId"]]),
        )
        for t in login.tenants
        if (t.get("tenantType") or "ORGANISATION") == "ORGANISATION"
    ]
    if not organisations:
        raise ConnectError("no_organisations")
    return sorted(organisations, key=lambda o: o.name.casefold())


def other_authorised(user: User, connections: list[Connection] | None = None) -> list[Organisation]:
    """Organisations of this same consent not connected yet ("Connect another organisation")."""
    try:
        return [o for o in authorised_organisations(user, False, connections) if not o.existing_connection_id]
    except ConnectError:
        return []


def find_organisation(user: User, tenant_id: str) -> Organisation:
    for organisation in authorised_organisations(user, fresh=False):
        if organisation.tenant_id == tenant_id:
            return organisation
    raise ConnectError("no_organisations", "that organisation was not authorised in this login")


def choose(user: User, tenant_id: str) -> None:
    """Remember the organisation picked at step 3, with the login (server-side)."""
    login = authorised_login(user)
    login.chosen_tenant_id = tenant_id[:64]
    db.session.commit()


def chosen_tenant(user: User) -> str:
    login = xero_logins.authorised(user)
    return login.chosen_tenant_id if login else ""


def _own_token_set(user: User, token_set_id: int | None) -> TokenSet:
    """Defence in depth: whatever named it, a token set is used only by its own workspace."""
    token_set = db.session.get(TokenSet, token_set_id) if token_set_id else None
    if token_set is None or token_set.workspace_id != user.workspace_id:
        raise ConnectError("state_invalid", "that Xero login is not this workspace's")
    return token_set


def create_connection(user: User, tenant_id: str) -> Connection:
    """Step 3 done: one connection per organisation per workspace, tied to this login's tokens."""
    organisation = find_organisation(user, tenant_id)
    if organisation.existing_connection_id:
        raise ConnectError("already_connected")
    connection = _new_connection(user, organisation)
    authorised_login(user).chosen_tenant_id = ""
    db.session.commit()
    return connection


def connect_all(user: User) -> list[Connection]:
    """Step 3, "Connect all N": every organisation of this login not yet in the workspace."""
    organisations = [o for o in authorised_organisations(user, fresh=False) if not o.existing_connection_id]
    if not organisations:
        raise ConnectError("already_connected")
    connections = [_new_connection(user, organisation) for organisation in organisations]
    authorised_login(user).chosen_tenant_id = ""
    db.session.commit()
    return connections


def _new_connection(user: User, organisation: Organisation) -> Connection:
    token_set = _own_token_set(user, authorised_login(user).token_set_id)
    connection = Connection(
        workspace_id=user.workspace_id,
        token_set_id=token_set.id,
        tenant_id=organisation.tenant_id,
        tenant_name=organisation.name[:300],
        xero_connection_id=organisation.xero_connection_id,
        auth_event_id=organisation.auth_event_id,
        created_by_id=user.id,
        sync_interval_minutes=current_app.config["SYNC_INTERVAL_MINUTES"],
    )
    connection.move_to("connecting", "created")
    db.session.add(connection)
    return connection


def reconnect(user: User, connection_id: int) -> list[Connection]:
    """Re-authorise an existing connection with this login's tokens: same row, history and data.

    Refuses to switch silently to another organisation: the login must have authorised the
    connection's own tenant. Returns it first, then the siblings of the same Xero login that
    came back with it; their "needs re-authorising" notifications are marked resolved.
    """
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.workspace_id != user.workspace_id:
        raise ConnectError("state_invalid", "that connection is not in this workspace")
    token_set = _own_token_set(user, authorised_login(user).token_set_id)
    match = next((o for o in authorised_organisations(user) if o.tenant_id == connection.tenant_id), None)
    if match is None:
        raise ConnectError("reconnect_wrong_organisation")
    old_token_set_id = connection.token_set_id
    connection.token_set_id = token_set.id
    connection.xero_connection_id = match.xero_connection_id
    connection.auth_event_id = match.auth_event_id
    connection.move_to("connecting", "reconnected")
    repaired = [connection, *revive_siblings(xero_api(), connection, old_token_set_id)]
    resolve_notifications([c.id for c in repaired])
    db.session.commit()
    return repaired
