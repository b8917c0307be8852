"""Temporary access to a customer's Xero organisation: asked by support, granted by an admin,
tracked until our support user is removed from Xero again.

Support asks from the connection doctor (so only under an active diagnostics grant); the
workspace's admins answer on the connection's "Grant temporary access to Xero" page and invite
our Xero user themselves. Every state change goes through `XeroAccessRequest.apply` (the
TRANSITIONS table says who may make it) and is written to the support audit log, under the
diagnostics grant the request was asked under. `send_reminders` runs periodically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import AuditEvent, Connection, SupportGrant, User, XeroAccessRequest
from wizard.models.xero_access import (
    ADMIN,
    DONE,
    EXPIRED,
    INVITED,
    LIVE_STATES,
    OPEN_STATES,
    SUPPORT,
    SYSTEM,
    TRANSITIONS,
    TransitionRefused,
)
from wizard.notifications.inbox import notify_admins
from wizard.request_numbers import whole_number
from wizard.support import audit
from wizard.support.grants import latest_grant

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 14, 3
TEXT_MAX = 1000
REMIND_BEFORE = timedelta(hours=24)
AUDIT_PREFIX = "xero_access."


@dataclass(frozen=True)
class XeroRole:
    label: str  # as Xero names it on Settings > Users > Invite a user
    allows: str
    rank: int  # more rank, more access


ROLES: dict[str, XeroRole] = {
    "read_only": XeroRole("Read only", "see the dashboard, reports and transactions; change nothing", 0),
    "standard": XeroRole(
        "Standard, with the Reports permission",
        "see and run reports, and see settings and transactions, to reproduce what you see",
        1,
    ),
    "adviser": XeroRole(
        "Adviser",
        "everything in the organisation, including settings, users and locking periods",
        2,
    ),
}
DEFAULT_ROLE = "standard"  # the least that serves most investigations


class AccessInputError(ValueError):
    """Support's request form was not acceptable; `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class AccessForm:
    """What support typed, kept so a re-rendered form loses nothing."""

    reason: str = ""
    days: str = str(DEFAULT_DAYS)
    role: str = DEFAULT_ROLE
    role_justification: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def needs_justification(self) -> bool:
        return self.role in ROLES and ROLES[self.role].rank > ROLES[DEFAULT_ROLE].rank


def _validate(form: AccessForm) -> int:
    errors: dict[str, str] = {}
    if not form.reason.strip():
        errors["reason"] = "Say why support needs to look inside Xero itself."
    elif len(form.reason.strip()) > TEXT_MAX:
        errors["reason"] = f"Keep the reason under {TEXT_MAX} characters."
    days = whole_number(form.days, MIN_DAYS, MAX_DAYS)
    if days is None:
        errors["days"] = f"Choose from {MIN_DAYS} to {MAX_DAYS} days."
    if form.role not in ROLES:
        errors["role"] = "Choose one of the Xero roles listed."
    elif form.needs_justification and not form.role_justification.strip():
        errors["role_justification"] = (
            f"{ROLES[form.role].label} gives more than {ROLES[DEFAULT_ROLE].label}: "
            "say why the smaller role is not enough."
        )
    elif len(form.role_justification.strip()) > TEXT_MAX:
        errors["role_justification"] = f"Keep the justification under {TEXT_MAX} characters."
    if errors or days is None:
        raise AccessInputError(errors)
    return days


def open_request(connection_id: int) -> XeroAccessRequest | None:
    """The connection's request that is not finished with (at most one at a time)."""
    return db.session.scalar(
        select(XeroAccessRequest)
        .where(
            XeroAccessRequest.connection_id == connection_id,
            XeroAccessRequest.state.in_(OPEN_STATES),
        )
        .order_by(XeroAccessRequest.id.desc())
        .limit(1)
    )


def connection_requests(connection_id: int, limit: int = 20) -> list[XeroAccessRequest]:
    """Every request for this connection, newest first."""
    return list(
        db.session.scalars(
            select(XeroAccessRequest)
            .where(XeroAccessRequest.connection_id == connection_id)
            .order_by(XeroAccessRequest.id.desc())
            .limit(limit)
        )
    )


def workspace_open_requests(workspace_id: int) -> list[XeroAccessRequest]:
    """What the Data page shows admins: open requests, the expired-not-removed ones first."""
    rows = db.session.scalars(
        select(XeroAccessRequest)
        .where(
            XeroAccessRequest.workspace_id == workspace_id,
            XeroAccessRequest.state.in_(OPEN_STATES),
        )
        .order_by(XeroAccessRequest.id)
    ).all()
    return sorted(rows, key=lambda r: r.state != EXPIRED)


def trail(connection_id: int, limit: int = 200) -> list[AuditEvent]:
    """The audit rows of this connection's Xero access requests, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.connection_id == connection_id,
                AuditEvent.action.startswith(AUDIT_PREFIX),
            )
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def support_email() -> str:
    return current_app.config["SUPPORT_XERO_EMAIL"]


def invite_steps(request: XeroAccessRequest) -> list[str]:
    """How the admin invites our support user, in Xero's own words."""
    role = ROLES[request.role]
    return [
        (f"Sign in to Xero as a user who can manage users, and open the organisation “{request.connection_name}”."),
        "Go to Settings > Users.",
        "Click “Invite a user”.",
        (f"Enter the first name “Planwise”, the last name “Support” and the email {request.support_email}."),
        f"Choose the role “{role.label}”. Leave “Manage users” and payroll access unticked.",
        "Click “Send invite”.",
        "Come back to this page and choose “I have invited the support user in Xero”.",
    ]


def removal_steps(request: XeroAccessRequest) -> list[str]:
    """How the admin removes our support user again (also in the reminders)."""
    return [
        f"Sign in to Xero and open the organisation “{request.connection_name}”.",
        "Go to Settings > Users.",
        (
            f"Click the user {request.support_email} (Planwise Support). If the invitation was "
            "never accepted it is listed as pending."
        ),
        "Click “Remove” (or “Cancel invite” for a pending one) and confirm.",
        (
            "Come back to Planwise and choose “Removed in Xero” on this organisation's "
            "“Grant temporary access to Xero” page."
        ),
    ]


def _label(request: XeroAccessRequest) -> str:
    return f"request #{request.id} for {request.connection_name}"


def _record(request: XeroAccessRequest, action: str, detail: str, allowed: bool = True) -> None:
    audit.record(
        AUDIT_PREFIX + action,
        allowed=allowed,
        grant=db.session.get(SupportGrant, request.grant_id),
        workspace_id=request.workspace_id,
        connection_id=request.connection_id,
        detail=f"{_label(request)}: {detail}",
        commit=False,
    )


def create_request(
    connection: Connection, grant: SupportGrant, requested_by: User, form: AccessForm
) -> XeroAccessRequest:
    """Support asks for access; raises AccessInputError with per-field messages (audited)."""
    try:
        days = _validate(form)
        if open_request(connection.id) is not None:
            raise AccessInputError({"form": "This organisation already has an open request: follow that one up."})
    except AccessInputError as refused:
        audit.record(
            AUDIT_PREFIX + "requested",
            allowed=False,
            grant=grant,
            connection_id=connection.id,
            detail=f"refused: {refused}",
        )
        raise
    now = utcnow()
    request = XeroAccessRequest(
        workspace_id=connection.workspace_id,
        connection_id=connection.id,
        connection_name=connection.tenant_name,
        tenant_id=connection.tenant_id,
        grant_id=grant.id,
        requested_by_id=requested_by.id,
        support_email=support_email(),
        reason=form.reason.strip(),
        role=form.role,
        role_justification=form.role_justification.strip(),
        days=days,
        created_at=now,
        state_changed_at=now,
    )
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent post opened one first (the partial unique index): same answer as above.
        db.session.rollback()
        raise AccessInputError({"form": "This organisation already has an open request: follow that one up."}) from None
    justification = f" (justification: {request.role_justification})" if request.role_justification else ""
    _record(
        request,
        "requested",
        f"{ROLES[request.role].label}{justification}, {days} day(s); {request.reason}",
    )
    notify_admins(
        request.workspace_id,
        "xero_access.requested",
        f"Support asks for temporary access to your Xero organisation “{request.connection_name}”",
        body=f"Reason: {request.reason}. Role: {ROLES[request.role].label}, for {days} day(s). "
        "Accept or decline on the request's page.",
        connection_id=request.connection_id,
    )
    db.session.commit()
    return request


def _actor(request: XeroAccessRequest) -> str:
    """Who is acting: support staff, an admin of the request's workspace, or the system."""
    if not has_request_context() or not current_user.is_authenticated:
        return SYSTEM
    if current_user.role == "support":
        return SUPPORT
    if current_user.role == "admin" and current_user.workspace_id == request.workspace_id:
        return ADMIN
    return "nobody"


def transition(connection: Connection, action: str, expected_id: str = "", message: str = "") -> XeroAccessRequest:
    """Make one state change to the connection's open request as the signed-in user.

    Raises TransitionRefused (audited) when there is no open request, when the form was
    about another request, or when the TRANSITIONS table does not allow it.
    """
    request = open_request(connection.id)
    target = TRANSITIONS[action].target
    if request is None:
        if has_request_context() and current_user.is_authenticated and current_user.is_support:
            audit.record(
                AUDIT_PREFIX + target,
                allowed=False,
                grant=latest_grant(connection),
                connection_id=connection.id,
                detail="refused: no open request",
            )
        raise TransitionRefused("There is no open Xero access request for this organisation.")
    try:
        if expected_id != str(request.id):
            raise TransitionRefused("This request has changed since you opened the page: check it again below.")
        applied = request.apply(action, _actor(request), utcnow())
    except TransitionRefused as refused:
        _record(request, target, f"refused: {refused}", allowed=False)
        db.session.commit()
        raise
    message = message.strip()[:TEXT_MAX]
    if applied.actor == ADMIN and action in ("accept", "decline"):
        request.answered_by_id, request.customer_message = current_user.id, message
    detail = request.state_label
    if request.expires_at is not None and request.state in LIVE_STATES:
        detail += f", access until {request.expires_at:%Y-%m-%d %H:%M} UTC"
    _record(request, target, detail + (f"; message: {message}" if message else ""))
    if request.state == DONE:
        notify_admins(
            request.workspace_id,
            AUDIT_PREFIX + "done",
            f"Support has finished in “{request.connection_name}”: remove the support user in Xero",
            steps=removal_steps(request),
            connection_id=request.connection_id,
        )
    db.session.commit()
    return request


def _claim(request: XeroAccessRequest, column: str, now: datetime) -> bool:
    """Set a reminder timestamp only if still unset: exactly one run gets to send it."""
    claimed = db.session.execute(
        update(XeroAccessRequest)
        .where(
            XeroAccessRequest.id == request.id,
            getattr(XeroAccessRequest, column).is_(None),
        )
        .values({column: now})
    )
    return cast("CursorResult[Any]", claimed).rowcount == 1


@dataclass
class ReminderRun:
    before_expiry: int = 0
    at_expiry: int = 0


def send_reminders(now: datetime | None = None) -> ReminderRun:
    """Periodic: remind admins 24 h before and at the end of each access (each once), and
    move ended ones to "expired, not removed" until an admin says the user is gone."""
    now = now or utcnow()
    sent = ReminderRun()
    due = db.session.scalars(
        select(XeroAccessRequest)
        .where(
            XeroAccessRequest.state.in_(LIVE_STATES),
            XeroAccessRequest.expires_at <= now + REMIND_BEFORE,
        )
        .order_by(XeroAccessRequest.id)
    ).all()
    for request in due:
        if request.expires_at is not None and now >= request.expires_at:
            if _claim(request, "reminder_expiry_at", now):
                # A run this late makes the 24-hour reminder moot: it is never sent afterwards.
                _claim(request, "reminder_before_at", now)
                _expire(request, now)
                sent.at_expiry += 1
        elif request.state in (INVITED, DONE) and _claim(request, "reminder_before_at", now):
            _remind(request, "reminder_24h", "ends in 24 hours", "in 24 hours")
            sent.before_expiry += 1
        db.session.commit()
    return sent


def _expire(request: XeroAccessRequest, now: datetime) -> None:
    request.apply("expire", SYSTEM, now)
    _record(request, "expired", f"access ended {request.expires_at:%Y-%m-%d %H:%M} UTC")
    _remind(request, "reminder_expiry", "has ended", "now")


def _remind(request: XeroAccessRequest, kind: str, ends: str, when: str) -> None:
    count = notify_admins(
        request.workspace_id,
        AUDIT_PREFIX + kind,
        f"Support's access to your Xero organisation “{request.connection_name}” {ends}: "
        f"remove the support user {when}",
        body=f"Access until {request.expires_at:%d %b %Y %H:%M} UTC. Remove "
        f"{request.support_email} from the organisation in Xero:",
        steps=removal_steps(request),
        connection_id=request.connection_id,
    )
    _record(request, kind, f"reminder sent to {count} admin(s)")
