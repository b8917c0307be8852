"""Xero-access fixtures: the support-access world (reused as is) and a few shortcuts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support_access import conftest as support_access
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import AuditEvent, Notification, SupportGrant, XeroAccessRequest

# The support-access fixtures, reused as they are: its world, personas, clock and live server.
world = support_access.world
as_persona = support_access.as_persona
frozen_clock = support_access.frozen_clock
live_app = support_access.live_app

VALID = {
    "reason": "Ticket #7001: the P&L in Planwise differs from Xero's",
    "days": "3",
    "role": "standard",
    "role_justification": "",
}


def support_url(world, state: str = "active", action: str = "") -> str:
    return f"/support/connections/{world.connections[state]}/xero-access{action}"


def guide_url(world, state: str = "active", action: str = "") -> str:
    return f"/data/connections/{world.connections[state]}/xero-access{action}"


def open_request(app, connection_id: int) -> XeroAccessRequest | None:
    with app.app_context():
        return db.session.scalars(
            select(XeroAccessRequest)
            .where(XeroAccessRequest.connection_id == connection_id)
            .order_by(XeroAccessRequest.id.desc())
        ).first()


def audit_actions(app, connection_id: int) -> list[tuple[str, bool, str]]:
    """(action, allowed, actor_role) of the connection's Xero access rows, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.connection_id == connection_id,
                AuditEvent.action.startswith("xero_access."),
            )
            .order_by(AuditEvent.id)
        )
        return [(r.action, r.allowed, r.actor_role) for r in rows]


def notifications(app, user_id: int) -> list[Notification]:
    with app.app_context():
        return list(
            db.session.scalars(select(Notification).where(Notification.user_id == user_id).order_by(Notification.id))
        )


def grant_access_to(app, world, state: str) -> int:
    """An extra active diagnostics grant on one more of workspace A's connections."""
    with app.app_context():
        grant = SupportGrant(
            workspace_id=world.workspace_a,
            connection_id=world.connections[state],
            connection_name=f"Acme {state.title()} Ltd",
            reason="second ticket",
            granted_by_id=world.user_ids["admin"],
            created_at=world.now,
            expires_at=world.now + timedelta(days=2),
        )
        db.session.add(grant)
        db.session.commit()
        return grant.id


class Flow:
    """The round trip over HTTP: support asks, the admin answers, each in their own client."""

    def __init__(self, app, world, as_persona, state: str = "active") -> None:
        self.app, self.world, self.state = app, world, state
        self._as_persona, self._clients = as_persona, {}

    def _signed_in(self, persona: str):
        """The persona's client, signed in again when the frozen clock has jumped: the steps can be
        days apart, and a sign-in ends after an hour idle (a real admin signs in when back)."""
        now = utcnow()
        client, since = self._clients.get(persona, (None, now))
        if client is None or abs(now - since) > timedelta(minutes=30):
            client = self._as_persona(persona)
            self._clients[persona] = (client, now)
        return client

    @property
    def support(self):
        return self._signed_in("support")

    @property
    def admin(self):
        return self._signed_in("admin")

    @property
    def request(self) -> XeroAccessRequest | None:
        return open_request(self.app, self.world.connections[self.state])

    def ask(self, **fields):
        return self.support.post(support_url(self.world, self.state), data={**VALID, **fields})

    def admin_does(self, action: str, message: str = "", request_id=None):
        rid = self.request.id if request_id is None else request_id
        return self.admin.post(
            guide_url(self.world, self.state, f"/{action}"),
            data={"request_id": str(rid), "message": message},
        )

    def support_done(self, request_id=None):
        rid = self.request.id if request_id is None else request_id
        return self.support.post(
            support_url(self.world, self.state, "/done"),
            data={"request_id": str(rid)},
        )


@pytest.fixture
def flow(app, world, as_persona):
    return Flow(app, world, as_persona)
