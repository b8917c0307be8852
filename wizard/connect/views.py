"""The four wizard steps: start, log in to Xero, pick the organisation, complete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from wizard import connecting, syncing, unused_xero_connections
from wizard.connecting import ConnectError
from wizard.data.lookups import get_connection
from wizard.data.summary import record_counts
from wizard.first_copy import first_copy_sentence, first_copy_timing
from wizard.hints import HINTS, hint_for
from wizard.htmx import full_redirect, render_page
from wizard.reconnecting import needs_reconnect
from wizard.request_numbers import parse_id

bp = Blueprint("connect", __name__, url_prefix="/connect/xero")


@bp.app_context_processor
def reconnect_helpers():
    """The Data page and notifications offer Reconnect on rows a new Xero login can repair."""
    return {"needs_reconnect": needs_reconnect}


def _step(template: str, step: int, status: int = 200, **context):
    return render_page(f"wizard/{template}.html", status=status, step=step, **context)


@bp.get("")
def start():
    """Step 1: what will happen and what the admin needs; the "Login to connect" button."""
    problem = HINTS.get(request.args.get("problem", "")[:60])
    return _step("start", 1, problem=problem, first_copy=first_copy_sentence(first_copy_timing()))


@bp.get("/reconnect/<id:connection_id>")
def reconnect(connection_id: int):
    """Step 1 for an existing connection: log in to Xero again, same connection and data."""
    connection = get_connection(connection_id)
    problem = HINTS.get(request.args.get("problem", "")[:60])
    first_copy = first_copy_sentence(first_copy_timing())
    return _step("start", 1, reconnecting=connection, problem=problem, first_copy=first_copy)


@bp.get("/authorize")
def authorize():
    """Step 2a: a full-page hop (or the pop-up's first page) to Xero's authorize URL."""
    mode = "popup" if request.args.get("mode") == "popup" else "redirect"
    reconnect_id = request.args.get("reconnect", type=parse_id)
    if reconnect_id is not None:
        get_connection(reconnect_id)
    return full_redirect(connecting.begin_authorization(current_user, mode, reconnect_id))


@bp.get("/login")
def login():
    """Step 2: waiting for the Xero window, or what went wrong with it, and the fallback link."""
    problem = request.args.get("problem", "")[:60]
    return _step("login", 2, problem=HINTS.get(problem), reconnecting=_reconnecting())


def _reconnecting():
    """The connection a reconnect is for (`?reconnect=<id>`), so "Start again" and "Back" keep it."""
    reconnect_id = request.args.get("reconnect", type=int)
    return get_connection(reconnect_id) if reconnect_id is not None else None


@bp.get("/callback")
def callback():
    """Step 2b: Xero redirects here; check state, exchange the code, go to step 3."""
    waiting = connecting.pending_login(current_user)
    mode, reconnect_id = (waiting.mode, waiting.reconnect_id) if waiting else (None, None)
    try:
        login = connecting.finish_authorization(current_user, request.args)
        if login.reconnect_id:
            return _after_login(mode, _repair(login.reconnect_id))
    except ConnectError as exc:
        if mode == "popup":
            next_url = url_for("connect.login", problem=exc.cause, reconnect=reconnect_id)
            return render_template("wizard/popup_done.html", next_url=next_url), exc.status
        reconnecting = get_connection(reconnect_id) if reconnect_id else None
        return _step("login", 2, status=exc.status, problem=hint_for(exc.cause), reconnecting=reconnecting)
    return _after_login(mode, url_for("connect.organisations"))


def _repair(connection_id: int) -> str:
    """Reconnect with this session's login, sync what came back, and say where to watch it."""
    repaired = connecting.reconnect(current_user, connection_id)
    for connection in repaired:
        syncing.start_sync(connection, kind="manual", requested_by_id=current_user.id)
    if len(repaired) > 1:
        flash(f"{len(repaired) - 1} more organisation(s) of the same Xero login were reconnected too.")
    return url_for("connect.complete", connection_id=repaired[0].id)


def _after_login(mode: str | None, next_url: str):
    """The pop-up hands control back to the wizard window; a same-window login just redirects."""
    if mode == "popup":
        return render_template("wizard/popup_done.html", next_url=next_url)
    return redirect(next_url, code=303)


@bp.post("/reconnect/<id:connection_id>")
def reconnect_now(connection_id: int):
    """Step 3: "Reconnect it now": this login authorised an organisation whose connection needs it."""
    get_connection(connection_id)
    try:
        return redirect(_repair(connection_id), code=303)
    except ConnectError as exc:
        return _organisations_page(problem=hint_for(exc.cause))


@bp.get("/organisations")
def organisations():
    """Step 3: the organisations this Xero login authorised; connected ones are marked."""
    return _organisations_page()


def _organisations_page(problem=None, error: str | None = None):
    """Step 3's page: the choice, or why there is none and the way forward."""
    try:
        orgs = connecting.authorised_organisations(current_user, fresh=error is None and problem is None)
    except ConnectError as exc:
        return _step("organisations", 3, organisations=[], problem=hint_for(exc.cause))
    new = [o for o in orgs if not o.existing_connection_id]
    # One new organisation: it was chosen at Xero already, so it starts selected here.
    chosen = connecting.chosen_tenant(current_user) or (new[0].tenant_id if len(new) == 1 else "")
    return _step(
        "organisations", 3, organisations=orgs, new_count=len(new), problem=problem, error=error, chosen=chosen
    )


@bp.post("/organisations")
def choose_organisation():
    """Step 3: remember the chosen organisation, then confirm it."""
    tenant_id = request.form.get("tenant_id", "")[:64]
    try:
        orgs = connecting.authorised_organisations(current_user, fresh=False)
    except ConnectError as exc:
        return _step("organisations", 3, organisations=[], problem=hint_for(exc.cause))
    choice = next((o for o in orgs if o.tenant_id == tenant_id and not o.existing_connection_id), None)
    if choice is None:
        error = "Choose one of the organisations listed." if tenant_id else "Choose an organisation to connect."
        return _organisations_page(error=error)
    connecting.choose(current_user, tenant_id)
    return redirect(url_for("connect.confirm"), code=303)


@bp.post("/connections/all")
def connect_all():
    """Step 3, "Connect all N": every new organisation of this login, each with its initial sync."""
    try:
        connections = connecting.connect_all(current_user)
    except ConnectError as exc:
        return _organisations_page(problem=hint_for(exc.cause))
    for connection in connections:
        syncing.start_sync(connection, kind="initial", requested_by_id=current_user.id)
    flash(f"Connected {len(connections)} organisations: {', '.join(c.tenant_name for c in connections)}.")
    return redirect(url_for("data.index"), code=303)


@bp.get("/confirm")
def confirm():
    """Step 3: exactly which organisation will be connected, and the "Connect organisation" button."""
    tenant_id = connecting.chosen_tenant(current_user)
    if not tenant_id:
        return redirect(url_for("connect.organisations"), code=303)
    try:
        organisation = connecting.find_organisation(current_user, tenant_id)
    except ConnectError as exc:
        return _step("organisations", 3, organisations=[], problem=hint_for(exc.cause))
    return _step("confirm", 3, organisation=organisation)


@bp.post("/connections")
def create_connection():
    """Step 3 done: save the connection, enqueue the initial sync, go to step 4."""
    tenant_id = connecting.chosen_tenant(current_user)
    try:
        connection = connecting.create_connection(current_user, tenant_id)
    except ConnectError as exc:
        # Nothing chosen any more (a second tab after the first connected) or chosen and connected
        # meanwhile: step 3 again, in full (its counts too), with the reason.
        return _organisations_page(problem=hint_for(exc.cause))
    syncing.start_sync(connection, kind="initial", requested_by_id=current_user.id)
    return redirect(url_for("connect.complete", connection_id=connection.id), code=303)


@bp.get("/complete/<id:connection_id>")
def complete(connection_id: int):
    """Step 4: the connection is on the Data page; watch the initial sync finish."""
    connection = get_connection(connection_id)
    run = syncing.latest_run(connection.id)
    if run is None:
        abort(404)
    more = connecting.other_authorised(current_user)
    return _step(
        "complete",
        4,
        connection=connection,
        run=run,
        counts=record_counts(connection.id),
        more_organisations=more,
        unused=unused_xero_connections.unused_to_show(current_user, more),
    )


@bp.post("/unused/remove")
def remove_unused():
    """Step 4: remove at Xero the organisations ticked there but not connected here."""
    try:
        removed = unused_xero_connections.remove_unused(current_user)
    except ConnectError as exc:
        return _step("login", 2, problem=hint_for(exc.cause))
    if removed:
        flash(f"Removed at Xero, not connected here: {', '.join(removed)}.")
    return redirect(url_for("data.index"), code=303)
