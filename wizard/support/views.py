"""Support access: the customer's grant pages, and support staff's console and connection doctor.

Who may call what is in wizard.policy (support.* endpoints); the grant check for staff runs
there, on every request, before these views.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from wizard.auth import reauth
from wizard.clock import utcnow
from wizard.htmx import render_page
from wizard.models import SupportGrant
from wizard.support import audit
from wizard.support import doctor as connection_doctor
from wizard.support import grants as grant_rules
from wizard.support.access import require_grant
from wizard.support.grants import GrantInputError, GrantRequest
from wizard.time_zones import zone_text

bp = Blueprint("support", __name__)


@bp.context_processor
def audit_words():
    return {"label": audit.label}


def _own_grant(grant_id: int) -> SupportGrant:
    grant = grant_rules.workspace_grant(current_user.workspace_id, grant_id)
    if grant is None:
        abort(404)
    return grant


def _grants_page(wanted: GrantRequest, status: int = 200, reauth_error: str | None = None) -> ResponseReturnValue:
    workspace_id = current_user.workspace_id
    return render_page(
        "support/grants.html",
        status,
        wanted=wanted,
        reauth_error=reauth_error,
        durations=grant_rules.DURATIONS,
        now=utcnow(),
        connections=grant_rules.grantable_connections(workspace_id),
        grants=grant_rules.workspace_grants(workspace_id),
        trail=audit.for_grant,
        outside=audit.outside_grants(workspace_id),
    )


@bp.get("/settings/support-access")
def grants():
    """Support access page: grant form, active and past grants, and their audit trails."""
    return _grants_page(GrantRequest())


@bp.post("/settings/support-access")
def create_grant():
    """Support access page: issue a grant, or show the form again with messages by the fields."""
    wanted = GrantRequest(
        scope=request.form.get("scope", ""),
        hours=request.form.get("hours", ""),
        reason=request.form.get("reason", ""),
    )
    reauth_error = reauth.confirm(current_user, request.form.get(reauth.FIELD, ""))
    if reauth_error:
        return _grants_page(wanted, reauth_error=reauth_error)
    try:
        grant = grant_rules.create_grant(current_user.workspace_id, current_user.id, wanted)
    except GrantInputError as exc:
        wanted.errors = exc.errors
        return _grants_page(wanted)
    flash(f"Support can look at your diagnostics until {zone_text(grant.expires_at)}.")
    return redirect(url_for("support.grants"), code=303)


@bp.get("/settings/support-access/<id:grant_id>")
def grant(grant_id: int):
    """One grant: what it covers and everything support did under it."""
    item = _own_grant(grant_id)
    return render_page(
        "support/grant.html",
        grant=item,
        now=utcnow(),
        events=audit.for_grant(item.id, 1000),
    )


@bp.post("/settings/support-access/<id:grant_id>/revoke")
def revoke_grant(grant_id: int):
    """Revoke a grant at once; support's next request under it is refused."""
    grant_rules.revoke_grant(_own_grant(grant_id), current_user.id)
    flash("Support access revoked. Support's next request is refused.")
    return redirect(url_for("support.grants"), code=303)


@bp.get("/support")
def console():
    """Support console: connections under an active grant, searchable; nothing else."""
    search = request.args.get("q", "").strip()[:200]
    rows = grant_rules.granted_connections(search)
    audit.record(
        "console.view",
        detail=f"search {search!r}, {len(rows)} shown" if search else f"{len(rows)} shown",
    )
    return render_page("support/console.html", rows=rows, search=search, now=utcnow())


@bp.get("/support/connections/<id:connection_id>")
def doctor(connection_id: int):
    """Connection doctor: state, token health, runs, limits and hints for one granted connection."""
    connection, grant = require_grant(connection_id)
    audit.record("doctor.view", grant=grant, connection_id=connection.id)
    return render_page(
        "support/doctor.html",
        diagnosis=connection_doctor.diagnose(connection),
        grant=grant,
        now=utcnow(),
    )


@bp.post("/support/connections/<id:connection_id>/sync")
def rerun_sync(connection_id: int):
    """Connection doctor: re-run the sync under the grant, then back to the doctor."""
    connection, grant = require_grant(connection_id)
    try:
        run = connection_doctor.rerun_sync(connection, grant)
        flash(f"Sync run #{run.id} is {run.state}.")
    except connection_doctor.CannotSync:
        flash("This connection cannot sync until the customer reconnects it to Xero.")
    return redirect(url_for("support.doctor", connection_id=connection.id), code=303)


@bp.post("/support/connections/<id:connection_id>/recheck")
def recheck(connection_id: int):
    """Connection doctor: ask Xero once whether the connection still works; record the answer."""
    connection, grant = require_grant(connection_id)
    flash("Re-check: " + connection_doctor.recheck(connection, grant))
    return redirect(url_for("support.doctor", connection_id=connection.id), code=303)
