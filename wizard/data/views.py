"""The Data page: the workspace's data sources, their state, and the integration picker."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from wizard import connecting, polling, syncing, unused_xero_connections
from wizard.data.lookups import get_connection
from wizard.data.summary import record_counts, webhooks_of, workspace_rows
from wizard.disconnecting import request_disconnect
from wizard.hints import hint_for
from wizard.htmx import render_page
from wizard.webhooks.intake import coverage

bp = Blueprint("data", __name__, url_prefix="/data")
# The polling fragments carry the ETag of what they show (wizard/polling.py).
bp.add_app_template_global(polling.sync_status_etag, "sync_status_etag")
bp.add_app_template_global(polling.rows_etag, "rows_etag")


@bp.get("")
def index():
    """The Data page: every connection with its state, and the "+" button."""
    rows = workspace_rows(current_user.workspace_id)
    webhooks = webhooks_of(rows)
    # What an abandoned Xero login left connected at Xero but unused here (admins act on it).
    unused = []
    if current_user.is_admin:
        not_connected = connecting.other_authorised(current_user, [row.connection for row in rows])
        unused = unused_xero_connections.unused_to_show(current_user, not_connected)
    return render_page("data/index.html", rows=rows, webhooks=webhooks, unused=unused, hint_for=hint_for)


@bp.get("/rows")
def rows():
    """The connections table alone; it polls itself while anything is syncing (304 while unchanged)."""
    # Everything the rows show is a few small rows now (counts are kept, not counted): read once.
    rows = workspace_rows(current_user.workspace_id)
    webhooks = webhooks_of(rows)
    etag = polling.rows_etag(rows, webhooks)
    unchanged = polling.not_modified(etag)
    if unchanged is not None:
        return unchanged
    return polling.tagged(render_page("data/rows.html", rows=rows, webhooks=webhooks, hint_for=hint_for), etag)


@bp.get("/new")
def picker():
    """The integration picker opened by "+"; Xero starts the wizard."""
    return render_page("data/picker.html")


@bp.get("/connections/<id:connection_id>")
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


@bp.get("/connections/<id:connection_id>/status")
def sync_status(connection_id: int):
    """Progress of the latest sync: a fragment that polls itself until the run finishes (304 while unchanged)."""
    found = polling.connection_and_latest_run(connection_id)
    if found is None:
        abort(404)
    conn, run = found
    etag = polling.sync_status_etag(conn, run)
    unchanged = polling.not_modified(etag)
    if unchanged is not None:
        return unchanged
    page = render_page(
        "data/sync_status.html", connection=conn, run=run, counts=record_counts(conn.id), hint_for=hint_for
    )
    return polling.tagged(page, etag)


@bp.post("/connections/<id:connection_id>/sync")
def sync_now(connection_id: int):
    """ "Sync now": start (or join) a sync, then show the connection."""
    conn = get_connection(connection_id)
    if not conn.is_usable:
        abort(409)
    syncing.start_sync(conn, kind="manual", requested_by_id=current_user.id)
    return redirect(url_for("data.connection", connection_id=conn.id), code=303)


@bp.get("/connections/<id:connection_id>/disconnect")
def confirm_disconnect(connection_id: int):
    """Disconnect, step 1: say what will happen and ask keep-or-delete."""
    return render_page("data/disconnect.html", connection=get_connection(connection_id))


@bp.post("/connections/<id:connection_id>/disconnect")
def disconnect(connection_id: int):
    """Disconnect, step 2: record the choice; the worker removes it at Xero and keeps or deletes the data."""
    conn = get_connection(connection_id)
    choice = request.form.get("data")
    if choice not in ("keep", "delete"):
        return render_page(
            "data/disconnect.html",
            connection=conn,
            error="Choose whether to keep or delete the synced data.",
        )
    if not conn.can_move_to("disconnecting"):
        abort(409)
    request_disconnect(current_user, conn, delete_data=choice == "delete")
    flash(
        f"Disconnecting {conn.tenant_name}: we are removing it at Xero"
        f"{' and deleting the synced data' if choice == 'delete' else ''}. This page shows when it is done."
    )
    return redirect(url_for("data.index"), code=303)
