"""Sign-in: flask-login wiring (loader, what unauthenticated htmx requests get)."""

from __future__ import annotations

from flask import Flask, request, url_for

from wizard.extensions import db, login_manager
from wizard.htmx import full_redirect


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from wizard.models import User

        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @login_manager.unauthorized_handler
    def unauthorized():
        # Never swap a login page into a fragment: htmx gets HX-Redirect.
        return full_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
