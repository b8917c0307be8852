"""Turn one verified webhook delivery into recorded changes and coalesced syncs (issue 17 item 3).

The endpoint must answer within 5 seconds, so nothing here calls Xero: each new event adds its data
type to the connection's pending set (models.webhooks.ConnectionWebhook) and a "webhook" sync is
queued when none is waiting already. The sync takes the whole pending set when it starts, so a storm
of events for one organisation becomes one sync, plus one more for the events that arrive while it
runs (started by the sweep: `start_followups`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wizard import jobs, syncing
from wizard.extensions import db
from wizard.models import Connection, ConnectionWebhook
from wizard.xero.api import parse_xero_date

log = logging.getLogger(__name__)

# Xero's event categories -> our streams (xero-platform.md §12). Everything else stays polled.
EVENT_STREAMS: dict[str, tuple[str, ...]] = {
    "INVOICE": ("Invoices",),
    "CONTACT": ("Contacts",),
    "CREDITNOTE": ("CreditNotes",),
}
COVERED_STREAMS = frozenset(name for names in EVENT_STREAMS.values() for name in names)
# Xero retries a failed delivery for up to 24 hours: remember what we saw a little longer.
SEEN_SECONDS = 26 * 3600
SEEN_PREFIX = "webhooks:seen:"
COUNTS_KEY = "webhooks:counts"


class BadPayload(ValueError):
    """A correctly signed body that is not a webhook payload."""


@dataclass
class Intake:
    received: int = 0
    duplicates: int = 0
    unknown_tenant: int = 0
    ignored: int = 0  # events of a kind we do not sync (e.g. SUBSCRIPTION)
    connections: int = 0
    syncs_queued: int = 0


def parse(body: bytes) -> list[dict]:
    """The events of a delivery ([] for Xero's intent-to-receive check)."""
    try:
        payload = json.loads(body or b"null")
    except ValueError as exc:
        raise BadPayload("the body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise BadPayload("the body has no list of events")
    events = payload["events"]
    if not all(isinstance(e, dict) and e.get("tenantId") and e.get("eventCategory") for e in events):
        raise BadPayload("an event lacks tenantId or eventCategory")
    return events


def event_key(event: dict) -> str:
    """Same tenant, record, kind and moment: the same event, however often Xero delivers it."""
    parts = (event.get(k) or "" for k in ("tenantId", "eventCategory", "resourceId", "eventType", "eventDateUtc"))
    return SEEN_PREFIX + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _new_events(events: list[dict]) -> list[dict]:
    """Drop events seen before (one Redis round trip). Redis down: keep them all; a sync is idempotent."""
    try:
        pipe = jobs.redis().pipeline(transaction=False)
        for event in events:
            pipe.set(event_key(event), 1, nx=True, ex=SEEN_SECONDS)
        fresh = pipe.execute()
    except RedisError as exc:
        log.warning("webhooks.dedupe_unavailable error=%s", type(exc).__name__)
        return events
    return [event for event, new in zip(events, fresh, strict=True) if new]


def take_delivery(events: list[dict]) -> Intake:
    """Record a delivery's new events and queue what must sync; returns what happened, counted."""
    intake = Intake(received=len(events))
    fresh = _new_events(events)
    intake.duplicates = len(events) - len(fresh)
    changes: dict[str, list[dict]] = defaultdict(list)
    for event in fresh:
        if event.get("eventCategory") in EVENT_STREAMS and event.get("tenantType", "ORGANISATION") == "ORGANISATION":
            changes[str(event["tenantId"])].append(event)
        else:
            intake.ignored += 1
    connections = _usable_connections(set(changes))
    known = {c.tenant_id for c in connections}
    intake.unknown_tenant = sum(len(evs) for tenant, evs in changes.items() if tenant not in known)
    for connection in connections:
        _note(connection, changes[connection.tenant_id])
    db.session.commit()
    intake.connections = len(connections)
    for connection in connections:
        intake.syncs_queued += _queue_sync(connection)
    _count(intake)
    log.info("webhooks.delivery %s", " ".join(f"{k}={v}" for k, v in asdict(intake).items()))
    return intake


def _usable_connections(tenant_ids: set[str]) -> list[Connection]:
    if not tenant_ids:
        return []
    rows = db.session.scalars(select(Connection).where(Connection.tenant_id.in_(tenant_ids)).order_by(Connection.id))
    return [c for c in rows if c.is_usable]


def _note(connection: Connection, events: list[dict]) -> None:
    streams = {name for e in events for name in EVENT_STREAMS[e["eventCategory"]]}
    moments = [d for d in (parse_xero_date(str(e.get("eventDateUtc") or "")) for e in events) if d is not None]
    row = db.session.get(ConnectionWebhook, connection.id, with_for_update=True)
    if row is None:
        row = ConnectionWebhook(connection_id=connection.id, events=0, pending_streams="")
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:  # another delivery created it first: add to theirs
            db.session.rollback()
            row = db.session.get_one(ConnectionWebhook, connection.id, with_for_update=True)
    row.note(streams, max(moments, default=None), len(events))


def _queue_sync(connection: Connection) -> int:
    """A webhook sync unless one (of any kind) is already queued or running: that one absorbs it."""
    if syncing.active_run(connection.id) is not None:
        return 0
    syncing.start_sync(connection, kind="webhook")
    return 1


def claim_streams(connection_id: int, kind: str) -> set[str] | None:
    """For a run that is starting: the streams it must sync (a webhook run: what is pending; any
    other run: None, meaning all). Either way it takes the pending ones, as it will fetch them."""
    row = db.session.get(ConnectionWebhook, connection_id, with_for_update=True)
    claimed = row.claim() if row is not None else set()
    return claimed if kind == "webhook" else None


def start_followups() -> int:
    """Sweep duty: a connection whose events arrived while its last sync ran gets its next one."""
    rows = db.session.scalars(select(ConnectionWebhook).where(ConnectionWebhook.pending_streams != ""))
    started = 0
    for row in list(rows):
        connection = db.session.get(Connection, row.connection_id)
        if connection is not None and connection.is_usable:
            started += _queue_sync(connection)
    return started


def _count(intake: Intake) -> None:
    try:
        pipe = jobs.redis().pipeline(transaction=False)
        for name, value in asdict(intake).items():
            if value:
                pipe.hincrby(COUNTS_KEY, name, value)
        pipe.hincrby(COUNTS_KEY, "deliveries", 1)
        pipe.execute()
    except RedisError as exc:
        log.warning("webhooks.count_unavailable error=%s", type(exc).__name__)


def counts() -> dict[str, int]:
    """Totals since Redis last lost its data: deliveries, received, duplicates, unknown_tenant, ..."""
    raw = jobs.redis().hgetall(COUNTS_KEY)
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def coverage(connection_ids: list[int]) -> dict[int, ConnectionWebhook]:
    """The Data page's "kept up to date by webhooks" facts (a connection is absent until its first event)."""
    if not connection_ids:
        return {}
    rows = db.session.scalars(select(ConnectionWebhook).where(ConnectionWebhook.connection_id.in_(connection_ids)))
    return {row.connection_id: row for row in rows}
