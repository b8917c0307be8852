"""Sign in and out of our app (not Xero)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from wizard.auth import end_all_sessions, end_session, sign_in, start_session
from wizard.extensions import limiter

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: no scheme, no host, no `//` or `/\\` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in.per_address_limit, key_func=sign_in.address_key, methods=["POST"], deduct_when=sign_in.failed)
@limiter.limit(sign_in.per_account_limit, key_func=sign_in.account_key, methods=["POST"], deduct_when=sign_in.failed)
def login():
    """Sign in with email and password; the session is cleared first (no fixation)."""
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    error = None
    if request.method == "POST":
        user = sign_in.authenticate(sign_in.submitted_email(), request.form.get("password", "")[:1000])
        if user is not None:
            next_url = safe_next(request.args.get("next") or request.form.get("next"))
            session.clear()
            start_session(user)
            login_user(user)
            return redirect(next_url, code=303)
        # Same words whether or not the account exists.
        error = "That email and password did not match an account."
    status = 200 if error is None else 401
    return render_template("auth/login.html", error=error, next=request.args.get("next", "")), status


@bp.post("/logout")
def logout():
    """Sign out and forget everything in the session."""
    end_session(current_user)
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.login"), code=303)


@bp.post("/logout/everywhere")
def logout_everywhere():
    """Sign out on every device and browser: all of the user's sign-ins end now."""
    ended = end_all_sessions(current_user.id)
    logout_user()
    session.clear()
    flash(f"You have signed out everywhere ({ended} sign-in{'s' if ended != 1 else ''} ended).")
    return redirect(url_for("auth.login"), code=303)
