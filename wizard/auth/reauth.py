"""Re-authentication: the password again, typed within the last REAUTH_MINUTES, before an admin
lets support in (a support grant, or accepting a Xero access request). A session left open on a
shared computer must not be enough to open the customer's data to us (issue 11 item 10)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_login import current_user
from limits import parse_many

from wizard.auth import record_password_typed
from wizard.clock import utcnow
from wizard.extensions import limiter

FIELD = "current_password"


def password_is_recent(user) -> bool:
    """Did the user type their password (sign-in or re-authentication) within REAUTH_MINUTES?"""
    login_session = getattr(user, "login_session", None)
    if login_session is None:
        return False
    return utcnow() - login_session.password_at < timedelta(minutes=current_app.config["REAUTH_MINUTES"])


def confirm(user, typed: str) -> str | None:
    """None when the action may go ahead; else what to say next to the password field."""
    if password_is_recent(user):
        return None
    minutes = current_app.config["REAUTH_MINUTES"]
    if not typed:
        return f"Enter your Planwise password to confirm it is you (asked when it is older than {minutes} minutes)."
    if not _guesses_left(user):
        return "Too many wrong passwords. Wait a few minutes, then enter it again."
    if not user.check_password(typed[:1000]):
        _count_wrong_guess(user)
        return "That is not your Planwise password. Enter it again to confirm it is you."
    record_password_typed(user)
    return None


# Someone holding a signed-in session must not be able to guess the password here faster than at
# the sign-in page: wrong answers count against the same per-account limit (its own bucket).
def _limits():
    return parse_many(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]) if limiter.enabled else []


def _guesses_left(user) -> bool:
    return all(limiter.limiter.test(item, "reauth", str(user.id)) for item in _limits())


def _count_wrong_guess(user) -> None:
    for item in _limits():
        limiter.limiter.hit(item, "reauth", str(user.id))


def init_reauth(app: Flask) -> None:
    """Forms that need it show the password field only when the last one is too old."""
    app.jinja_env.globals["password_needed"] = lambda: (
        current_user.is_authenticated and not password_is_recent(current_user)
    )
