"""Sign-in: flask-login wiring (loader, what unauthenticated htmx requests get)."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from flask import Flask, request, url_for

from wizard.extensions import db, login_manager
from wizard.htmx import full_redirect


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        return user_for_session(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        # Never swap a login page into a fragment: htmx gets HX-Redirect.
        say_if_sign_in_ended()
        return full_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def say_if_sign_in_ended() -> None:
    """The cookie still names a sign-in the server has ended (idle, too old, signed out
    elsewhere, role changed): tell the person once, on the sign-in page."""
    from flask import flash, session

    if session.pop("_user_id", None) is not None:
        flash("Your sign-in has ended. Sign in again to carry on.")


def start_session(user) -> None:
    """Record a new sign-in; the cookie then carries only its random token."""
    import secrets

    from wizard.models import LoginSession

    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token=token, user_id=user.id))
    db.session.commit()
    user.login_token = token


@cache
def _signed_in_statement():
    """The sign-in query, built once (its SQL is then compiled once): the user, their live sign-in
    and, for the nav's badge, their unread notifications, in one round trip."""
    from sqlalchemy import bindparam, func, select

    from wizard.models import LoginSession, Notification, User

    unread = (
        select(func.count())
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    return (
        select(User, LoginSession, unread)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == bindparam("user_id"),
            LoginSession.token == bindparam("token"),
            LoginSession.revoked_at.is_(None),
            LoginSession.last_seen_at > bindparam("idle_after"),
            LoginSession.created_at > bindparam("born_after"),
        )
    )


def user_for_session(session_id: str):
    """The user of a live sign-in (not signed out, not idle too long, not too old), in one query.

    Reading pages writes nothing, except `last_seen_at` at most once a minute per sign-in.
    """
    from datetime import timedelta

    from flask import current_app

    from wizard.clock import utcnow
    from wizard.request_numbers import parse_id

    user_text, _, token = session_id.partition(":")
    user_id = parse_id(user_text)
    if user_id is None or not token:
        return None
    now, config = utcnow(), current_app.config
    row = db.session.execute(
        _signed_in_statement(),
        {
            "user_id": user_id,
            "token": token[:64],
            "idle_after": now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            "born_after": now - timedelta(hours=config["SESSION_MAX_HOURS"]),
        },
    ).one_or_none()
    if row is None:
        return None
    user, login_session, unread = row
    if now - login_session.last_seen_at >= timedelta(seconds=config["SESSION_SEEN_EVERY_SECONDS"]):
        _touch(login_session.token, now)
    user.login_token, user.login_session, user.unread_notifications = token, login_session, unread
    return user


def _touch(token: str, now) -> None:
    _update_login_session(token, last_seen_at=now)


def record_password_typed(user) -> None:
    """The user has just typed their password again (re-authentication) in this sign-in."""
    from wizard.clock import utcnow

    now = utcnow()
    _update_login_session(user.login_token, password_at=now)
    if user.login_session is not None:
        user.login_session.password_at = now


def _update_login_session(token: str, **values) -> None:
    """In its own short transaction: the request's session stays clean, so the user just loaded
    is not expired and re-read by a commit, and a form shown again keeps what was recorded."""
    from sqlalchemy import Table, update

    from wizard.models import LoginSession

    with db.engine.begin() as connection:
        table = cast(Table, LoginSession.__table__)
        connection.execute(update(table).where(LoginSession.token == token).values(**values))


def end_all_sessions(user_id: int) -> int:
    """Sign a user out everywhere: every live sign-in of theirs ends now. Returns how many."""
    from sqlalchemy import Table, update
    from sqlalchemy.engine import CursorResult

    from wizard.clock import utcnow
    from wizard.models import LoginSession

    result = db.session.execute(
        update(cast(Table, LoginSession.__table__))
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    ended = cast("CursorResult[Any]", result).rowcount
    db.session.commit()
    return ended


def end_session(user) -> None:
    from wizard.clock import utcnow
    from wizard.models import LoginSession

    record = db.session.get(LoginSession, user.login_token or "")
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()
