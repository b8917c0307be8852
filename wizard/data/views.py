"""The Data page: the workspace's data sources, their state, and the integration picker."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from wizard import connecting, syncing
from wizard.connecting import ConnectError
from wizard.data.lookups import get_connection
from wizard.data.summary import record_counts, workspace_rows
from wizard.hints import hint_for
from wizard.htmx import render_page
from wizard.webhooks.intake import coverage

bp = Blueprint("data", __name__, url_prefix="/data")


@bp.get("")
def index():
    """The Data page: every connection with its state, and the "+" button."""
    rows = workspace_rows(current_user.workspace_id)
    webhooks = coverage([row.connection.id for row in rows])
    return render_page("data/index.html", rows=rows, webhooks=webhooks, hint_for=hint_for)


@bp.get("/rows")
def rows():
    """The connections table alone; it polls itself while anything is syncing."""
    rows = workspace_rows(current_user.workspace_id)
    webhooks = coverage([row.connection.id for row in rows])
    return render_page("data/rows.html", rows=rows, webhooks=webhooks, hint_for=hint_for)


@bp.get("/new")
def picker():
    """The integration picker opened by "+"; Xero starts the wizard."""
    return render_page("data/picker.html")


@bp.get("/connections/<int:connection_id>")
def connection(connection_id: int):
    """One connection: its state, record counts and sync history."""
    conn = get_connection(connection_id)
    return render_page(
        "data/connection.html",
        connection=conn,
        counts=record_counts(conn.id),
        run=syncing.latest_run(conn.id),
        webhook=coverage([conn.id]).get(conn.id),
        hint_for=hint_for,
    )


@bp.get("/connections/<int:connection_id>/status")
def sync_status(connection_id: int):
    """Progress of the latest sync: a fragment that polls itself until the run finishes."""
    conn = get_connection(connection_id)
    run = syncing.latest_run(conn.id)
    if run is None:
        abort(404)
    return render_page(
        "data/sync_status.html", connection=conn, run=run, counts=record_counts(conn.id), hint_for=hint_for
    )


@bp.post("/connections/<int:connection_id>/sync")
def sync_now(connection_id: int):
    """ "Sync now": start (or join) a sync, then show the connection."""
    conn = get_connection(connection_id)
    if not conn.is_usable:
        abort(409)
    syncing.start_sync(conn, kind="manual", requested_by_id=current_user.id)
    return redirect(url_for("data.connection", connection_id=conn.id), code=303)


@bp.get("/connections/<int:connection_id>/disconnect")
def confirm_disconnect(connection_id: int):
    """Disconnect, step 1: say what will happen and ask keep-or-delete."""
    return render_page("data/disconnect.html", connection=get_connection(connection_id), problem=None)


@bp.post("/connections/<int:connection_id>/disconnect")
def disconnect(connection_id: int):
    """Disconnect, step 2: at Xero first, then keep or delete the synced data."""
    conn = get_connection(connection_id)
    choice = request.form.get("data")
    if choice not in ("keep", "delete"):
        return render_page(
            "data/disconnect.html",
            connection=conn,
            problem=None,
            error="Choose whether to keep or delete the synced data.",
        )
    name = conn.tenant_name
    try:
        at_xero = connecting.disconnect(current_user, conn, delete_data=choice == "delete")
    except ConnectError as exc:
        return render_page("data/disconnect.html", connection=conn, problem=hint_for(exc.cause))
    flash(f"{name} was disconnected ({at_xero}); synced data {'deleted' if choice == 'delete' else 'kept'}.")
    return redirect(url_for("data.index"), code=303)
