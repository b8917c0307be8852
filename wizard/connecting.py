"""Connecting a Xero organisation: the business rules behind the wizard's steps."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, session
from sqlalchemy import select

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, TokenSet, User
from wizard.xero import oauth
from wizard.xero.api import XeroApi
from wizard.xero.errors import IdTokenInvalid, XeroError
from wizard.xero.tokens import access_token, store_tokens

PENDING_KEY = "xero_pending_auth"  # state, verifier, nonce of the login in progress
AUTHORISED_KEY = "xero_authorised"  # token set id + auth event of the finished login
TENANTS_KEY = "xero_tenants"  # what Xero listed for that login at step 3
MAX_TENANTS = 100
MAX_CACHED_TENANTS = 8


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


def _now_seconds() -> float:
    """Seconds on the app clock (wizard.clock), so tests can age a pending login."""
    from datetime import UTC

    return utcnow().replace(tzinfo=UTC).timestamp()


def xero_api() -> XeroApi:
    return XeroApi(current_app.config["XERO_API_URL"], timeout=current_app.config["XERO_HTTP_TIMEOUT"])


def begin_authorization(mode: str = "redirect", reconnect_id: int | None = None) -> str:
    """Step 2a: remember state/PKCE/nonce in the session (one login at a time) and return Xero's URL."""
    request = oauth.build_authorization_request()
    session[PENDING_KEY] = {
        "state": request.state,
        "verifier": request.code_verifier,
        "nonce": request.nonce,
        "created": _now_seconds(),
        "mode": mode,
        "reconnect_id": reconnect_id,
    }
    session.pop(AUTHORISED_KEY, None)
    session.pop(TENANTS_KEY, None)
    return request.url


def pending_mode() -> str | None:
    pending = session.get(PENDING_KEY)
    return pending.get("mode") if pending else None


def finish_authorization(user: User, args: dict[str, Any]) -> dict[str, Any]:
    """Step 2b, the callback: state popped and checked, then the code exchanged and tokens saved.

    Raises ConnectError without storing anything on a missing/replayed/expired state or an error.
    Returns the popped pending-login record (mode, reconnect id).
    """
    pending = session.pop(PENDING_KEY, None)
    state = str(args.get("state", ""))[:512]
    if not pending or not state or not secrets.compare_digest(pending["state"].encode(), state.encode()):
        raise ConnectError("state_invalid")
    if _now_seconds() - pending["created"] > current_app.config["OAUTH_STATE_TTL_SECONDS"]:
        raise ConnectError("state_invalid")
    error = str(args.get("error", ""))[:100]
    if error:
        raise ConnectError("access_denied" if error == "access_denied" else "token_exchange_failed", error)
    code = str(args.get("code", ""))[:2048]
    if not code:
        raise ConnectError("token_exchange_failed", "no code in the callback")
    try:
        tokens = oauth.exchange_code(code, pending["verifier"], pending["nonce"])
    except IdTokenInvalid as exc:
        # Forged, replayed or mis-issued identity: refuse the callback and use none of the tokens.
        raise ConnectError("token_exchange_failed", str(exc), status=400) from None
    except XeroError as exc:
        cause = "xero_unavailable" if exc.kind == "xero_unavailable" else "token_exchange_failed"
        raise ConnectError(cause, str(exc)) from None
    if not tokens.xero_userid:
        raise ConnectError("token_exchange_failed", "token carried no Xero user id")
    token_set = save_token_set(user, tokens)
    session.pop(TENANTS_KEY, None)
    session[AUTHORISED_KEY] = {
        "token_set_id": token_set.id,
        "auth_event_id": tokens.authentication_event_id,
        "reconnect_id": pending.get("reconnect_id"),
    }
    return pending


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


def authorised_login() -> dict[str, Any]:
    """The finished Xero login of this browser session, or ConnectError to start again."""
    authorised = session.get(AUTHORISED_KEY)
    if not authorised:
        raise ConnectError("state_invalid", "no Xero login in this session")
    return authorised


def _xero_tenants(authorised: dict[str, Any]) -> list[dict[str, str]]:
    """Ask Xero: this consent's connections, or all of the user's when the filter comes back empty."""
    token = access_token(authorised["token_set_id"])
    api = xero_api()
    try:
        tenants = api.get_connections(token, authorised["auth_event_id"] or None)
        if not tenants:
            tenants = api.get_connections(token)
    except XeroError as exc:
        raise ConnectError(exc.kind, str(exc)) from None
    keep = ("id", "tenantId", "tenantName", "tenantType", "authEventId")
    return [{k: str(t.get(k) or "")[:300] for k in keep} for t in tenants if t.get("tenantId")][:MAX_TENANTS]


def authorised_organisations(user: User, fresh: bool = True) -> list[Organisation]:
    """Step 3: organisations of this consent, marked when already in this workspace.

    The list Xero gave when step 3 was shown is kept in the session, so the steps after it
    (choose, confirm, connect) answer without another call to Xero on the request path.
    """
    authorised = authorised_login()
    tenants = None if fresh else session.get(TENANTS_KEY)
    if tenants is None:
        tenants = _xero_tenants(authorised)
        # The session is a cookie (4 KB): a bulk consent's long list is fetched again instead.
        if len(tenants) <= MAX_CACHED_TENANTS:
            session[TENANTS_KEY] = tenants
    existing = dict(
        db.session.execute(
            select(Connection.tenant_id, Connection.id).where(Connection.workspace_id == user.workspace_id)
        ).all()
    )
    organisations = [
        Organisation(
            tenant_id=t["tenantId"],
            name=t.get("tenantName") or t["tenantId"],
            xero_connection_id=t.get("id", ""),
            auth_event_id=t.get("authEventId", ""),
            existing_connection_id=existing.get(t["tenantId"]),
        )
        for t in tenants
        if (t.get("tenantType") or "ORGANISATION") == "ORGANISATION"
    ]
    if not organisations:
        raise ConnectError("no_organisations")
    return sorted(organisations, key=lambda o: o.name.casefold())


def other_authorised(user: User) -> list[Organisation]:
    """Organisations of this same consent not connected yet ("Connect another organisation")."""
    try:
        return [o for o in authorised_organisations(user, fresh=False) if not o.existing_connection_id]
    except ConnectError:
        return []


def find_organisation(user: User, tenant_id: str) -> Organisation:
    for organisation in authorised_organisations(user, fresh=False):
        if organisation.tenant_id == tenant_id:
            return organisation
    raise ConnectError("no_organisations", "that organisation was not authorised in this login")


def create_connection(user: User, tenant_id: str) -> Connection:
    """Step 3 done: one connection per organisation per workspace, tied to this login's tokens."""
    organisation = find_organisation(user, tenant_id)
    if organisation.existing_connection_id:
        raise ConnectError("already_connected")
    authorised = authorised_login()
    connection = Connection(
        workspace_id=user.workspace_id,
        token_set_id=authorised["token_set_id"],
        tenant_id=organisation.tenant_id,
        tenant_name=organisation.name[:300],
        xero_connection_id=organisation.xero_connection_id,
        auth_event_id=organisation.auth_event_id,
        created_by_id=user.id,
        sync_interval_minutes=current_app.config["SYNC_INTERVAL_MINUTES"],
    )
    connection.move_to("connecting", "created")
    db.session.add(connection)
    db.session.commit()
    return connection


def reconnect(user: User, connection_id: int) -> Connection:
    """Re-authorise an existing connection with this login's tokens: same row, history and data.

    Refuses to switch silently to another organisation: the login must have authorised the
    connection's own tenant.
    """
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.workspace_id != user.workspace_id:
        raise ConnectError("state_invalid", "that connection is not in this workspace")
    authorised = authorised_login()
    match = next((o for o in authorised_organisations(user) if o.tenant_id == connection.tenant_id), None)
    if match is None:
        raise ConnectError("reconnect_wrong_organisation")
    connection.token_set_id = authorised["token_set_id"]
    connection.xero_connection_id = match.xero_connection_id
    connection.auth_event_id = match.auth_event_id
    connection.move_to("connecting", "reconnected")
    db.session.commit()
    return connection
