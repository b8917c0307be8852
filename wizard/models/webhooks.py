"""What Xero's webhooks told us about one connection, and the data types still waiting for a sync."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wizard.clock import utcnow
from wizard.extensions import Model


class ConnectionWebhook(Model):
    """One row per connection that Xero has sent events for (it exists from the first event on).

    `pending_streams` is the coalescing point: events add their data types to it, and the next
    sync of the connection takes them all at once when it starts (`claim`), so a storm of events
    becomes one sync, plus at most one more for events that arrive while it runs.
    """

    __tablename__ = "connection_webhook"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), primary_key=True)
    events: Mapped[int] = mapped_column(default=0)
    last_event_at: Mapped[datetime | None]  # Xero's eventDateUtc: when the data last changed there
    last_received_at: Mapped[datetime] = mapped_column(default=utcnow)
    pending_streams: Mapped[str] = mapped_column(String(300), default="")  # comma-separated stream names

    @property
    def pending(self) -> set[str]:
        return {name for name in self.pending_streams.split(",") if name}

    def note(self, streams: set[str], changed_at: datetime | None, count: int) -> None:
        """Record `count` new events that changed `streams`, the newest at `changed_at`."""
        self.pending_streams = ",".join(sorted(self.pending | streams))
        self.events = (self.events or 0) + count
        self.last_received_at = utcnow()
        if changed_at is not None and (self.last_event_at is None or changed_at > self.last_event_at):
            self.last_event_at = changed_at

    def claim(self) -> set[str]:
        """Hand the waiting data types to the sync that is starting; they are no longer pending."""
        claimed, self.pending_streams = self.pending, ""
        return claimed
