"""A live access token for a token set: single-flight refresh, rotated token committed first.

One token set per Xero user per app covers all of that user's organisations, so the lock is
keyed by the token set, not the tenant (reliability.md §2.3).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult

from wizard import jobs
from wizard.clock import utcnow
from wizard.crypto import cipher, token_context
from wizard.extensions import db
from wizard.models import TokenSet
from wizard.xero import oauth
from wizard.xero.errors import InvalidGrant

REFRESH_MARGIN = timedelta(seconds=60)
LOCK_TIMEOUT = 30  # seconds a crashed refresher can hold the lock

log = logging.getLogger(__name__)
# Threads of one process queue here first, so only one of them even asks Redis for the lock.
_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()


def _local_lock(token_set_id: int) -> threading.Lock:
    with _local_guard:
        return _local_locks.setdefault(token_set_id, threading.Lock())


def _context(token_set: TokenSet, column: str) -> str:
    return token_context(token_set.workspace_id, token_set.xero_userid, column)


def decrypt_access(token_set: TokenSet) -> str:
    return cipher().decrypt(token_set.access_token_enc, _context(token_set, "access"))


def decrypt_refresh(token_set: TokenSet) -> str:
    if token_set.refresh_token_enc is None:  # Xero issued no refresh token (no offline_access)
        raise InvalidGrant("invalid_grant", "no refresh token is stored for this Xero login")
    return cipher().decrypt(token_set.refresh_token_enc, _context(token_set, "refresh"))


def token_values(token_set: TokenSet, response: oauth.TokenResponse) -> dict:
    """Column values for a (new) token pair: ciphertexts bound to this row, never plaintext."""
    values = {
        "access_token_enc": cipher().encrypt(response.access_token, _context(token_set, "access")),
        "access_expires_at": utcnow() + timedelta(seconds=response.expires_in),
        "dead": False,
    }
    if response.refresh_token:
        values["refresh_token_enc"] = cipher().encrypt(response.refresh_token, _context(token_set, "refresh"))
    if response.scopes:
        values["scopes"] = " ".join(response.scopes)
    if response.authentication_event_id:
        values["authentication_event_id"] = response.authentication_event_id
    return values


def store_tokens(token_set: TokenSet, response: oauth.TokenResponse) -> None:
    """Write a (new) token pair onto the row; the caller commits."""
    for name, value in token_values(token_set, response).items():
        setattr(token_set, name, value)


def _fresh(token_set: TokenSet) -> bool:
    return not token_set.dead and token_set.access_expires_at - REFRESH_MARGIN > utcnow()


def _reload(token_set_id: int) -> TokenSet:
    db.session.expire_all()
    token_set = db.session.get(TokenSet, token_set_id)
    if token_set is None:
        raise InvalidGrant("invalid_grant", "token set no longer exists")
    return token_set


def mark_dead(token_set: TokenSet, error: str) -> None:
    """Only a token nobody else rotated is dead. The caller hears InvalidGrant and decides what its
    connections become (wizard.connection_health.mark_login_dead); this layer notifies nobody."""
    token_set.dead = True
    token_set.refresh_failures += 1
    token_set.last_refresh_error = error[:200]


def _usable(token_set: TokenSet, refused: str | None) -> str | None:
    """The stored access token, unless it is expiring or is the one Xero just refused."""
    if not _fresh(token_set):
        return None
    token = decrypt_access(token_set)
    return None if refused is not None and token == refused else token


def access_token(token_set_id: int, refused: str | None = None) -> str:
    """Return a valid access token, refreshing it at most once across all threads and workers.

    `refused`: an access token Xero answered 401 TokenExpired to; it is replaced even if our
    clock still thinks it is fresh.
    """
    token = _usable(_reload(token_set_id), refused)
    if token is not None:
        return token
    with _local_lock(token_set_id):
        token = _usable(_reload(token_set_id), refused)
        if token is not None:
            return token
        lock = jobs.redis().lock(
            f"xero:token-refresh:{token_set_id}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT + 5
        )
        with lock:
            return _refresh_locked(token_set_id, refused)


def _refresh_locked(token_set_id: int, refused: str | None) -> str:
    token_set = _reload(token_set_id)  # a sibling may have refreshed while we waited
    token = _usable(token_set, refused)
    if token is not None:
        return token
    if token_set.dead:
        raise InvalidGrant("invalid_grant", "this Xero login needs to be authorised again")
    version = token_set.version
    try:
        response = oauth.refresh(decrypt_refresh(token_set))
    except InvalidGrant as exc:
        db.session.rollback()
        token_set = _reload(token_set_id)
        if token_set.version != version and _fresh(token_set):
            return decrypt_access(token_set)
        mark_dead(token_set, exc.error)
        db.session.commit()
        log.warning("token.dead token_set=%s", token_set_id)
        raise
    except Exception as exc:
        db.session.rollback()
        token_set = _reload(token_set_id)
        token_set.refresh_failures += 1
        token_set.last_refresh_error = type(exc).__name__
        db.session.commit()
        raise
    db.session.rollback()
    # Compare-and-set on the version: the lock's lease could in theory have run out.
    result = db.session.execute(
        update(TokenSet)
        .where(TokenSet.id == token_set_id, TokenSet.version == version)
        .values(
            **token_values(token_set, response),
            version=version + 1,
            refreshed_at=utcnow(),
            refresh_failures=0,
            last_refresh_error="",
        )
    )
    written = cast("CursorResult[Any]", result).rowcount
    # Commit the rotated refresh token before anyone uses the new access token.
    db.session.commit()
    if written != 1:
        log.error("token.refresh_cas_lost token_set=%s version=%s", token_set_id, version)
        return decrypt_access(_reload(token_set_id))
    log.info("token.refreshed token_set=%s version=%s", token_set_id, version + 1)
    return response.access_token
