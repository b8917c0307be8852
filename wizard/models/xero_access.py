"""Temporary access to a customer's own Xero organisation.

A `XeroAccessRequest` is asked for by support, answered by a workspace admin and tracked until
the support user is removed from the Xero organisation again. Its state changes only through
`XeroAccessRequest.apply`, which checks the TRANSITIONS table (who may move it, from where).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from wizard.clock import utcnow
from wizard.extensions import Model

# States, in the order a request normally passes through them.
REQUESTED, ACCEPTED, INVITED, DONE, REMOVED = (
    "requested",
    "accepted",
    "invited",
    "done",
    "removed",
)
DECLINED, EXPIRED = "declined", "expired_not_removed"
OPEN_STATES = (REQUESTED, ACCEPTED, INVITED, DONE, EXPIRED)
# States in which our support user may exist in the customer's Xero (reminders, expiry apply).
LIVE_STATES = (ACCEPTED, INVITED, DONE)
_OPEN_SQL = text("state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")")
STATE_LABELS = {
    REQUESTED: "Requested by support",
    ACCEPTED: "Accepted, support user not invited yet",
    INVITED: "Support user invited in Xero",
    DONE: "Support has finished",
    REMOVED: "Support user removed from Xero",
    DECLINED: "Declined",
    EXPIRED: "Expired, support user not removed",
}

SUPPORT, ADMIN, SYSTEM = "support", "admin", "system"


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    actor: str  # support, admin (of the request's workspace) or system (the reminder run)


# The only way a request changes state.
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition((REQUESTED,), ACCEPTED, ADMIN),
    "decline": Transition((REQUESTED, ACCEPTED), DECLINED, ADMIN),
    "invite": Transition((ACCEPTED,), INVITED, ADMIN),
    "finish": Transition((INVITED,), DONE, SUPPORT),
    "remove": Transition((INVITED, DONE, EXPIRED), REMOVED, ADMIN),
    "expire": Transition(LIVE_STATES, EXPIRED, SYSTEM),
}


class TransitionRefused(Exception):
    """A state change that the table does not allow; the message is fit to show to the user."""


class XeroAccessRequest(Model):
    """Support asks to be invited into one connection's Xero organisation for a few days."""

    __tablename__ = "xero_access_request"
    __table_args__ = (
        Index("ix_xero_access_request_connection", "connection_id", "id"),
        Index("ix_xero_access_request_workspace_state", "workspace_id", "state"),
        # One open request per organisation, also when two support posts race.
        Index(
            "uq_xero_access_request_one_open",
            "connection_id",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    # A deleted connection keeps its request: our user may still be in that Xero organisation.
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"))
    connection_name: Mapped[str] = mapped_column(String(300), default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    # The diagnostics grant it was asked under: its audit trail shows the whole story.
    grant_id: Mapped[int] = mapped_column(ForeignKey("support_grant.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    support_email: Mapped[str] = mapped_column(String(320))  # the Xero user to invite
    reason: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(40))
    role_justification: Mapped[str] = mapped_column(Text, default="")
    days: Mapped[int]

    state: Mapped[str] = mapped_column(String(30), default=REQUESTED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    customer_message: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    # Set on acceptance, and again on invitation: access runs `days` from when it can exist.
    expires_at: Mapped[datetime | None]
    # Each reminder is claimed once with a conditional UPDATE (see send_reminders).
    reminder_before_at: Mapped[datetime | None]
    reminder_expiry_at: Mapped[datetime | None]

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def allowed_actions(self, actor: str) -> list[str]:
        """What `actor` may do now (the pages show exactly these buttons)."""
        return [name for name, t in TRANSITIONS.items() if t.actor == actor and self.state in t.sources]

    def apply(self, action: str, actor: str, now: datetime) -> Transition:
        """Move to the action's target state, or raise TransitionRefused saying why not."""
        transition = TRANSITIONS.get(action)
        if transition is None:
            raise TransitionRefused(f"Unknown action {action!r}.")
        if transition.actor != actor:
            raise TransitionRefused(f"Only {_ACTOR_WORDS[transition.actor]} can {_ACTION_WORDS[action]}.")
        if self.state not in transition.sources:
            raise TransitionRefused(f"Cannot {_ACTION_WORDS[action]}: it is now “{STATE_LABELS[self.state]}”.")
        self.state, self.state_changed_at = transition.target, now
        stamp = {
            ACCEPTED: "accepted_at",
            INVITED: "invited_at",
            DONE: "done_at",
            REMOVED: "removed_at",
            DECLINED: "declined_at",
            EXPIRED: "expired_at",
        }[transition.target]
        setattr(self, stamp, now)
        if transition.target in (ACCEPTED, INVITED):
            self.expires_at = now + timedelta(days=self.days)
        return transition


_ACTOR_WORDS = {
    SUPPORT: "support staff",
    ADMIN: "a workspace admin",
    SYSTEM: "the expiry check",
}
_ACTION_WORDS = {
    "accept": "accept this request",
    "decline": "decline this request",
    "invite": "mark this request as invited in Xero",
    "finish": "mark this request as done",
    "remove": "mark the support user as removed in Xero",
    "expire": "expire this request",
}
