"""Sign-in: flask-login wiring (loader, what unauthenticated htmx requests get)."""

from __future__ import annotations

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
        return full_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def start_session(user) -> None:
    """Record a new sign-in; the cookie then carries only its random token."""
    import secrets

    from wizard.models import LoginSession

    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token=token, user_id=user.id))
    db.session.commit()
    user.login_token = token


def user_for_session(session_id: str):
    """The user of a live (not signed-out) sign-in, in one query."""
    from sqlalchemy import select

    from wizard.models import LoginSession, User

    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(user_id), LoginSession.token == token[:64], LoginSession.revoked_at.is_(None))
    )
    if user is not None:
        user.login_token = token
    return user


def end_session(user) -> None:
    from wizard.clock import utcnow
    from wizard.models import LoginSession

    record = db.session.get(LoginSession, user.login_token or "")
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()
