"""What the Data page shows per connection, in a fixed number of queries (no N+1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, func, select

from wizard.extensions import db
from wizard.models import Connection, ConnectionWebhook, RecordCount, SyncRun, XeroRecord


@dataclass
class ConnectionRow:
    connection: Connection
    run: SyncRun | None
    counts: dict[str, int] = field(default_factory=dict)
    webhook: ConnectionWebhook | None = None  # absent until Xero's first event for it

    @property
    def total_records(self) -> int:
        return sum(self.counts.values())

    @property
    def busy(self) -> bool:
        # The rows poll themselves while any of these is true: a sync or a disconnect is under way.
        return self.connection.state == "disconnecting" or (
            self.run is not None and self.run.state in ("queued", "running")
        )


def workspace_rows(workspace_id: int) -> list[ConnectionRow]:
    """The workspace's connections with their latest runs and webhook notes (one query) and their
    record counts (one more): what the Data page's rows show, and what their poll's ETag is made of."""
    found = db.session.execute(_rows_statement(), {"workspace_id": workspace_id}).all()
    if not found:
        return []
    counts = live_record_counts([connection.id for connection, _run, _webhook in found])
    return [
        ConnectionRow(connection, run, counts.get(connection.id, {}), webhook) for connection, run, webhook in found
    ]


@cache
def _rows_statement():
    # Built once (the rows poll runs it every second or two per watcher); only the workspace varies.
    latest = select(func.max(SyncRun.id)).where(SyncRun.connection_id == Connection.id).correlate(Connection)
    return (
        select(Connection, SyncRun, ConnectionWebhook)
        .outerjoin(SyncRun, SyncRun.id == latest.scalar_subquery())
        .outerjoin(ConnectionWebhook, ConnectionWebhook.connection_id == Connection.id)
        .where(Connection.workspace_id == bindparam("workspace_id"))
        .order_by(Connection.tenant_name)
    )


def webhooks_of(rows: list[ConnectionRow]) -> dict[int, ConnectionWebhook]:
    """connection id -> its webhook facts, as templates take them (wizard.webhooks.intake.coverage)."""
    return {row.connection.id: row.webhook for row in rows if row.webhook is not None}


def live_record_counts(connection_ids: list[int]) -> dict[int, dict[str, int]]:
    """connection id -> data type -> records. THE definition of "records" on every page: the rows
    we hold that are live in Xero (deleted, voided and archived ones, kept as tombstones, not counted).
    A sync run's own figure is what Xero sent in that run; pages label it "received".

    Read from `record_count`, which the database keeps equal to `recount_live_records` as records
    are written (wizard/models/record_counts.py): a few rows, whatever the size of the books."""
    counts: dict[int, dict[str, int]] = {}
    for connection_id, stream, n in db.session.execute(_live_counts_statement(), {"ids": connection_ids}):
        counts.setdefault(connection_id, {})[stream] = n
    return counts


@cache
def _live_counts_statement():
    return select(RecordCount.connection_id, RecordCount.stream, RecordCount.live).where(
        RecordCount.connection_id.in_(bindparam("ids", expanding=True)), RecordCount.live > 0
    )


def recount_live_records(connection_ids: list[int]) -> dict[int, dict[str, int]]:
    """`live_record_counts` counted from the records themselves (a scan: for checks, not pages)."""
    counts: dict[int, dict[str, int]] = {}
    for connection_id, stream, n in db.session.execute(
        select(XeroRecord.connection_id, XeroRecord.stream, func.count())
        .where(XeroRecord.connection_id.in_(connection_ids), XeroRecord.tombstoned.is_(False))
        .group_by(XeroRecord.connection_id, XeroRecord.stream)
    ):
        counts.setdefault(connection_id, {})[stream] = n
    return counts


def record_counts(connection_id: int) -> dict[str, int]:
    """One connection's live records per data type (see live_record_counts)."""
    return live_record_counts([connection_id]).get(connection_id, {})
