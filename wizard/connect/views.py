"""The four wizard steps: start, log in to Xero, pick the organisation, complete."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from wizard import connecting, syncing
from wizard.connecting import ConnectError
from wizard.data.lookups import get_connection
from wizard.data.summary import record_counts
from wizard.hints import HINTS, hint_for
from wizard.htmx import full_redirect, render_page
from wizard.request_numbers import parse_id

bp = Blueprint("connect", __name__, url_prefix="/connect/xero")

CHOSEN_KEY = "xero_chosen_tenant"


def _step(template: str, step: int, status: int = 200, **context):
    return render_page(f"wizard/{template}.html", status=status, step=step, **context)


@bp.get("")
def start():
    """Step 1: what will happen and what the admin needs; the "Login to connect" button."""
    return _step("start", 1, problem=HINTS.get(request.args.get("problem", "")[:60]))


@bp.get("/reconnect/<id:connection_id>")
def reconnect(connection_id: int):
    """Step 1 for an existing connection: log in to Xero again, same connection and data."""
    connection = get_connection(connection_id)
    return _step("start", 1, reconnecting=connection, problem=HINTS.get(request.args.get("problem", "")[:60]))


@bp.get("/authorize")
def authorize():
    """Step 2a: a full-page hop (or the pop-up's first page) to Xero's authorize URL."""
    mode = "popup" if request.args.get("mode") == "popup" else "redirect"
    reconnect_id = request.args.get("reconnect", type=parse_id)
    if reconnect_id is not None:
        get_connection(reconnect_id)
    return full_redirect(connecting.begin_authorization(mode, reconnect_id))


@bp.get("/login")
def login():
    """Step 2: waiting for the Xero window, or what went wrong with it, and the fallback link."""
    problem = request.args.get("problem", "")[:60]
    return _step("login", 2, problem=HINTS.get(problem))


@bp.get("/callback")
def callback():
    """Step 2b: Xero redirects here; check state, exchange the code, go to step 3."""
    mode = connecting.pending_mode()
    try:
        pending = connecting.finish_authorization(current_user, request.args)
        if pending.get("reconnect_id"):
            connection = connecting.reconnect(current_user, pending["reconnect_id"])
            syncing.start_sync(connection, kind="manual", requested_by_id=current_user.id)
            return _after_login(mode, url_for("connect.complete", connection_id=connection.id))
    except ConnectError as exc:
        status = exc.status
        if mode == "popup":
            return render_template(
                "wizard/popup_done.html", next_url=url_for("connect.login", problem=exc.cause)
            ), status
        return _step("login", 2, status=status, problem=hint_for(exc.cause))
    return _after_login(mode, url_for("connect.organisations"))


def _after_login(mode: str | None, next_url: str):
    """The pop-up hands control back to the wizard window; a same-window login just redirects."""
    if mode == "popup":
        return render_template("wizard/popup_done.html", next_url=next_url)
    return redirect(next_url, code=303)


@bp.get("/organisations")
def organisations():
    """Step 3: the organisations this Xero login authorised; connected ones are marked."""
    try:
        orgs = connecting.authorised_organisations(current_user)
    except ConnectError as exc:
        return _step("organisations", 3, organisations=[], problem=hint_for(exc.cause))
    return _step("organisations", 3, organisations=orgs, problem=None, chosen=session.get(CHOSEN_KEY))


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
        return _step("organisations", 3, organisations=orgs, problem=None, error=error)
    session[CHOSEN_KEY] = tenant_id
    return redirect(url_for("connect.confirm"), code=303)


@bp.get("/confirm")
def confirm():
    """Step 3: exactly which organisation will be connected, and the "Connect organisation" button."""
    tenant_id = session.get(CHOSEN_KEY)
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
    tenant_id = session.get(CHOSEN_KEY) or ""
    try:
        connection = connecting.create_connection(current_user, tenant_id)
    except ConnectError as exc:
        orgs = connecting.other_authorised(current_user)
        return _step("organisations", 3, organisations=orgs, problem=hint_for(exc.cause))
    session.pop(CHOSEN_KEY, None)
    syncing.start_sync(connection, kind="initial", requested_by_id=current_user.id)
    return redirect(url_for("connect.complete", connection_id=connection.id), code=303)


@bp.get("/complete/<id:connection_id>")
def complete(connection_id: int):
    """Step 4: the connection is on the Data page; watch the initial sync finish."""
    connection = get_connection(connection_id)
    run = syncing.latest_run(connection.id)
    if run is None:
        abort(404)
    more = connecting.other_authorised(current_user) if session.get(connecting.AUTHORISED_KEY) else []
    return _step(
        "complete", 4, connection=connection, run=run, counts=record_counts(connection.id), more_organisations=more
    )
