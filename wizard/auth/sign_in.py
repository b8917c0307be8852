"""Checking a password, and throttling guesses per account and per client address.

Issue 11 items 3 and 4: a throttle per address alone lets one account be guessed from many
addresses (and puts everyone behind a load balancer in one bucket); an unknown account answered
in ~25 ms against ~300 ms for a known one, which told an attacker which accounts exist.
"""

from __future__ import annotations

import secrets
from functools import cache

from flask import Response, current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from wizard.extensions import db
from wizard.models import User


@cache
def _dummy_hash() -> str:
    """A hash made the way real ones are, of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are; an unknown email costs one hash check too."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


def submitted_email() -> str:
    return request.form.get("email", "").strip().lower()[:320]


def account_key() -> str:
    """Throttle bucket of the account being signed in to, whichever address the guesses come from."""
    return "account:" + submitted_email()


def address_key() -> str:
    """Throttle bucket of the client address (the real client's only behind a configured ProxyFix)."""
    return "address:" + (get_remote_address() or "")


def per_account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def per_address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def failed(response: Response) -> bool:
    """Only failed sign-ins count: people who type their password right are never throttled."""
    return response.status_code == 401
