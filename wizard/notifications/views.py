"""Workspace admins' notifications: the list, "mark all read", and the unread count in the nav."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from wizard.htmx import render_page
from wizard.notifications import inbox

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_badge():
    """base.html shows the count next to "Notifications" (admins only)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated or not current_user.is_admin:
            return 0
        counted = current_user.unread_notifications  # counted with the sign-in (wizard.auth)
        return counted if counted is not None else inbox.unread_count(current_user.id)

    return {"unread_notifications": unread_notifications}


@bp.get("")
def index():
    """Notifications: the admin's messages, newest first, unread ones marked."""
    return render_page("notifications/index.html", items=inbox.for_user(current_user.id))


@bp.post("/read")
def mark_read():
    """Notifications: mark every one of the admin's notifications as read."""
    inbox.mark_all_read(current_user.id)
    return redirect(url_for("notifications.index"), code=303)
