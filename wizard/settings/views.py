"""Workspace settings: the time zone the server writes times in (issue 16)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.htmx import render_page
from wizard.models import Workspace
from wizard.time_zones import UnknownTimeZone, parse_zone, zone_names

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _workspace() -> Workspace:
    workspace = db.session.get(Workspace, current_user.workspace_id)
    assert workspace is not None  # the policy lets only workspace admins in
    return workspace


def _page(typed: str, error: str = "") -> ResponseReturnValue:
    return render_page(
        "settings/workspace.html", workspace=_workspace(), typed=typed, error=error, zones=zone_names(), now=utcnow()
    )


@bp.get("/workspace")
def workspace():
    """Workspace settings: the form with the current time zone."""
    return _page(_workspace().time_zone or "UTC")


@bp.post("/workspace")
def save_workspace():
    """Workspace settings: save a known time zone, or show the form again with the reason."""
    typed = request.form.get("time_zone", "")
    try:
        zone = parse_zone(typed)
    except UnknownTimeZone as exc:
        return _page(typed, str(exc))
    _workspace().time_zone = zone
    db.session.commit()
    flash(f"Times are now shown in {zone} when your browser does not say otherwise.")
    return redirect(url_for("settings.workspace"), code=303)
