"""What the Data page shows per connection, in a fixed number of queries (no N+1)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from wizard.extensions import db
from wizard.models import Connection, RecordCount, SyncRun, XeroRecord


@dataclass
class ConnectionRow:
    connection: Connection
    run: SyncRun | None
    counts: dict[str, int] = field(default_factory=dict)

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
    connections = db.session.scalars(
        select(Connection).where(Connection.workspace_id == workspace_id).order_by(Connection.tenant_name)
    ).all()
    ids = [c.id for c in connections]
    if not ids:
        return []
    latest_ids = select(func.max(SyncRun.id)).where(SyncRun.connection_id.in_(ids)).group_by(SyncRun.connection_id)
    runs = {r.connection_id: r for r in db.session.scalars(select(SyncRun).where(SyncRun.id.in_(latest_ids)))}
    counts = live_record_counts(ids)
    return [ConnectionRow(c, runs.get(c.id), counts.get(c.id, {})) for c in connections]


def live_record_counts(connection_ids: list[int]) -> dict[int, dict[str, int]]:
    """connection id -> data type -> records. THE definition of "records" on every page: the rows
    we hold that are live in Xero (deleted, voided and archived ones, kept as tombstones, not counted).
    A sync run's own figure is what Xero sent in that run; pages label it "received".

    Read from `record_count`, which the database keeps equal to `recount_live_records` as records
    are written (wizard/models/record_counts.py): a few rows, whatever the size of the books."""
    counts: dict[int, dict[str, int]] = {}
    for connection_id, stream, n in db.session.execute(
        select(RecordCount.connection_id, RecordCount.stream, RecordCount.live).where(
            RecordCount.connection_id.in_(connection_ids), RecordCount.live > 0
        )
    ):
        counts.setdefault(connection_id, {})[stream] = n
    return counts


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
