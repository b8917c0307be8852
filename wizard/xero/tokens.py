"""A live access token for a token set: single-flight refresh, rotated token committed first.

One token set per Xero user per app covers all of that user's organisations, so the lock is
keyed by the token set, not the tenant (reliability.md §2.3).
"""

from __future__ import annotations

from datetime import timedelta

from wizard import jobs
from wizard.clock import utcnow
from wizard.crypto import cipher
from wizard.extensions import db
from wizard.models import TokenSet
from wizard.xero import oauth
from wizard.xero.errors import InvalidGrant

REFRESH_MARGIN = timedelta(seconds=60)
LOCK_TIMEOUT = 30  # seconds a crashed refresher can hold the lock


def store_tokens(token_set: TokenSet, response: oauth.TokenResponse) -> None:
    """Write a (new) token pair onto the row; the caller commits."""
    token_set.access_token_enc = cipher().encrypt(response.access_token)
    if response.refresh_token:
        token_set.refresh_token_enc = cipher().encrypt(response.refresh_token)
    token_set.access_expires_at = utcnow() + timedelta(seconds=response.expires_in)
    if response.scopes:
        token_set.scopes = " ".join(response.scopes)
    if response.authentication_event_id:
        token_set.authentication_event_id = response.authentication_event_id
    token_set.dead = False


def _fresh(token_set: TokenSet) -> bool:
    return not token_set.dead and token_set.access_expires_at - REFRESH_MARGIN > utcnow()


def _reload(token_set_id: int) -> TokenSet:
    db.session.expire_all()
    token_set = db.session.get(TokenSet, token_set_id)
    if token_set is None:
        raise InvalidGrant("invalid_grant", "token set no longer exists")
    return token_set


def mark_dead(token_set: TokenSet, error: str) -> None:
    """Only a token nobody else rotated is dead: its connections need the admin to log in again."""
    token_set.dead = True
    token_set.refresh_failures += 1
    token_set.last_refresh_error = error[:200]
    for connection in token_set.connections:
        if connection.state != "disconnected":
            connection.move_to("needs_reauth", "token_dead", "Xero no longer accepts this login's refresh token.")


def access_token(token_set_id: int) -> str:
    """Return a valid access token, refreshing it at most once across all workers."""
    token_set = _reload(token_set_id)
    if _fresh(token_set):
        return cipher().decrypt(token_set.access_token_enc)
    if token_set.dead:
        raise InvalidGrant("invalid_grant", "this Xero login needs to be authorised again")
    lock = jobs.redis().lock(f"xero:token-refresh:{token_set_id}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT + 5)
    with lock:
        token_set = _reload(token_set_id)  # a sibling may have refreshed while we waited
        if _fresh(token_set):
            return cipher().decrypt(token_set.access_token_enc)
        version = token_set.version
        try:
            response = oauth.refresh(cipher().decrypt(token_set.refresh_token_enc))
        except InvalidGrant as exc:
            db.session.rollback()
            token_set = _reload(token_set_id)
            if token_set.version != version and _fresh(token_set):
                return cipher().decrypt(token_set.access_token_enc)
            mark_dead(token_set, exc.error)
            db.session.commit()
            raise
        except Exception as exc:
            db.session.rollback()
            token_set = _reload(token_set_id)
            token_set.refresh_failures += 1
            token_set.last_refresh_error = type(exc).__name__
            db.session.commit()
            raise
        store_tokens(token_set, response)
        token_set.version = version + 1
        token_set.refreshed_at = utcnow()
        token_set.refresh_failures = 0
        token_set.last_refresh_error = ""
        # Commit the rotated refresh token before anyone uses the new access token.
        db.session.commit()
        return response.access_token
