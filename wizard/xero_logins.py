"""Xero logins in progress, server-side: bound to one user and workspace, their callback used once.

The session cookie carries only the login's opaque id, so a forged or restored cookie can at most
name a login; whether that login is this user's, still open, or already used is decided here, in
the database, for every cookie at once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, cast

from flask import current_app, g, session
from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import User, XeroLogin

SESSION_KEY = "xero_login"  # the only thing about a Xero login that the browser holds
AUTHORISED_FOR = timedelta(hours=1)  # how long the steps after the callback can use a finished login
KEEP_FOR = timedelta(days=1)  # expired rows are deleted after this


def start(user: User, state: str, code_verifier: str, nonce: str, mode: str, reconnect_id: int | None) -> XeroLogin:
    """Record a new login for `user`; any login of theirs still waiting for its callback is closed."""
    now = utcnow()
    db.session.execute(delete(XeroLogin).where(XeroLogin.expires_at < now - KEEP_FOR))
    db.session.execute(
        update(XeroLogin).where(XeroLogin.user_id == user.id, XeroLogin.consumed_at.is_(None)).values(consumed_at=now)
    )
    login = XeroLogin(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        workspace_id=user.workspace_id,
        state=state,
        code_verifier=code_verifier,
        nonce=nonce,
        mode=mode,
        reconnect_id=reconnect_id,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["OAUTH_STATE_TTL_SECONDS"]),
    )
    db.session.add(login)
    db.session.commit()
    session[SESSION_KEY] = login.id
    return login


def _owned(user: User) -> XeroLogin | None:
    """The login the session names, only if it belongs to this user in this workspace."""
    login_id = session.get(SESSION_KEY)
    if not isinstance(login_id, str) or not login_id or len(login_id) > 64:
        return None
    # With its tokens in the same query: every caller after the callback checks them next.
    login = db.session.get(XeroLogin, login_id, options=[joinedload(XeroLogin.token_set)])
    if login is None or login.user_id != user.id or login.workspace_id != user.workspace_id:
        return None
    # Held for the rest of the request: the identity map holds objects weakly, and a step, its
    # banner and its helpers each ask again. Only the object is held; every check above runs again.
    g.xero_login_held = login
    return login


def waiting(user: User) -> XeroLogin | None:
    """The login whose callback is expected (to know its mode before the callback is checked)."""
    login = _owned(user)
    return login if login is not None and login.consumed_at is None else None


def consume(user: User) -> XeroLogin | None:
    """Claim the callback of the session's login: one UPDATE, so only one request ever wins.

    Works the same on SQLite and PostgreSQL: the row changes only while consumed_at is NULL and it
    has not expired, and the row count says whether this request was the one that changed it.
    """
    login = _owned(user)
    if login is None:
        return None
    now = utcnow()
    result = db.session.execute(
        update(XeroLogin)
        .where(XeroLogin.id == login.id, XeroLogin.consumed_at.is_(None), XeroLogin.expires_at > now)
        .values(consumed_at=now, expires_at=now + AUTHORISED_FOR)
        .execution_options(synchronize_session=False)
    )
    won = cast("CursorResult[Any]", result).rowcount
    db.session.commit()
    if won != 1:
        return None
    db.session.refresh(login)
    return login


def authorised(user: User) -> XeroLogin | None:
    """The finished login of this session, if it is this user's, unexpired, and its tokens are this workspace's."""
    login = _owned(user)
    if login is None or login.consumed_at is None or login.token_set_id is None or login.expires_at <= utcnow():
        return None
    token_set = login.token_set
    if token_set is None or token_set.workspace_id != user.workspace_id:
        return None
    return login
