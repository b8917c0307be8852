"""Temporary access to the customer's Xero: support's request page (under a diagnostics grant)
and the workspace admin's "Grant temporary access to Xero" page with its four answers.

Who may call what is in wizard.policy; which transition each may make is in
wizard.models.xero_access.TRANSITIONS, checked again by the service.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from wizard.auth import reauth
from wizard.clock import utcnow
from wizard.data.lookups import get_connection
from wizard.htmx import render_page
from wizard.models import Connection, SupportGrant
from wizard.models.xero_access import ADMIN, SUPPORT, TransitionRefused
from wizard.support import audit
from wizard.support import xero_access as access_rules
from wizard.support.access import require_grant
from wizard.support.xero_access import AccessForm, AccessInputError

bp = Blueprint("xero_access", __name__)


@bp.context_processor
def page_words():
    return {"label": audit.label, "roles": access_rules.ROLES, "ADMIN": ADMIN}


@bp.app_context_processor
def data_page_notices():
    """The Data page's banner asks for these (admins only; viewers see nothing)."""

    def notices():
        if not current_user.is_authenticated or not current_user.is_admin:
            return []
        return access_rules.workspace_open_requests(current_user.workspace_id)

    return {"xero_access_notices": notices}


def _support_page(connection: Connection, grant: SupportGrant, form: AccessForm) -> ResponseReturnValue:
    current = access_rules.open_request(connection.id)
    return render_page(
        "support/xero_access_request.html",
        connection=connection,
        grant=grant,
        form=form,
        current=current,
        actions=current.allowed_actions(SUPPORT) if current else [],
        history=access_rules.connection_requests(connection.id),
        limits=(access_rules.MIN_DAYS, access_rules.MAX_DAYS),
        default_role=access_rules.DEFAULT_ROLE,
    )


def _act(connection: Connection, action: str, page: str, done: str) -> ResponseReturnValue:
    """Make one transition from a posted form; a refusal is flashed, never half-applied."""
    try:
        access_rules.transition(
            connection,
            action,
            expected_id=request.form.get("request_id", ""),
            message=request.form.get("message", ""),
        )
        flash(done)
    except TransitionRefused as refused:
        flash(f"Not done: {refused}")
    return redirect(url_for(page, connection_id=connection.id), code=303)


@bp.get("/support/connections/<id:connection_id>/xero-access")
def request_form(connection_id: int):
    """Xero access, support side: the open request's progress, or the form to ask for one."""
    connection, grant = require_grant(connection_id)
    audit.record("xero_access.view", grant=grant, connection_id=connection.id)
    return _support_page(connection, grant, AccessForm())


@bp.post("/support/connections/<id:connection_id>/xero-access")
def create_request(connection_id: int):
    """Xero access, support side: ask the customer; bad input shows the form again."""
    connection, grant = require_grant(connection_id)
    form = AccessForm(
        reason=request.form.get("reason", ""),
        days=request.form.get("days", ""),
        role=request.form.get("role", ""),
        role_justification=request.form.get("role_justification", ""),
    )
    try:
        access_rules.create_request(connection, grant, current_user, form)
    except AccessInputError as exc:
        form.errors = exc.errors
        return _support_page(connection, grant, form)
    flash("Request sent. The workspace's admins are notified on their Data page.")
    return redirect(url_for("xero_access.request_form", connection_id=connection_id), code=303)


@bp.post("/support/connections/<id:connection_id>/xero-access/done")
def mark_done(connection_id: int):
    """Xero access, support side: say support has finished inside the customer's Xero."""
    connection, _grant = require_grant(connection_id)
    done = "Marked as done. The admins are asked to remove the support user in Xero."
    return _act(connection, "finish", "xero_access.request_form", done)


@bp.get("/data/connections/<id:connection_id>/xero-access")
def guide(connection_id: int):
    """Grant temporary access to Xero: the open request, the steps in Xero, the history."""
    return _guide_page(get_connection(connection_id))


def _guide_page(connection: Connection, reauth_error: str | None = None, message: str = "") -> ResponseReturnValue:
    current = access_rules.open_request(connection.id)
    return render_page(
        "support/xero_access.html",
        connection=connection,
        reauth_error=reauth_error,
        message=message,
        current=current,
        actions=current.allowed_actions(ADMIN) if current else [],
        history=access_rules.connection_requests(connection.id),
        events=access_rules.trail(connection.id),
        invite_steps=access_rules.invite_steps(current) if current else [],
        removal_steps=access_rules.removal_steps(current) if current else [],
        now=utcnow(),
    )


@bp.post("/data/connections/<id:connection_id>/xero-access/accept")
def accept(connection_id: int):
    """Grant temporary access to Xero: accept support's request."""
    connection = get_connection(connection_id)
    reauth_error = reauth.confirm(current_user, request.form.get(reauth.FIELD, ""))
    if reauth_error:
        return _guide_page(connection, reauth_error, message=request.form.get("message", "")[: access_rules.TEXT_MAX])
    done = "Accepted. Now invite the support user in Xero, following the steps below."
    return _act(connection, "accept", "xero_access.guide", done)


@bp.post("/data/connections/<id:connection_id>/xero-access/decline")
def decline(connection_id: int):
    """Grant temporary access to Xero: decline support's request."""
    done = "Declined. Support sees your answer and your message."
    return _act(get_connection(connection_id), "decline", "xero_access.guide", done)


@bp.post("/data/connections/<id:connection_id>/xero-access/invited")
def mark_invited(connection_id: int):
    """Grant temporary access to Xero: say the support user was invited in Xero."""
    done = "Marked as invited. The access period starts now."
    return _act(get_connection(connection_id), "invite", "xero_access.guide", done)


@bp.post("/data/connections/<id:connection_id>/xero-access/removed")
def mark_removed(connection_id: int):
    """Grant temporary access to Xero: say the support user was removed from Xero."""
    done = "Marked as removed in Xero. Nothing is left behind."
    return _act(get_connection(connection_id), "remove", "xero_access.guide", done)
