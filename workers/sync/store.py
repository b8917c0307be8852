"""Writing synced data: bulk upserts by (connection, stream, Xero id), reports, checkpoints.

On PostgreSQL and SQLite alike this is one `INSERT .. ON CONFLICT DO UPDATE` per chunk. A row
only moves forward: an older copy of a record (a repeated page) never overwrites a newer one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import StreamCursor, XeroRecord, XeroReport
from wizard.xero.api import parse_xero_date
from workers.sync.streams import TOMBSTONE_STATUSES, Stream

CHUNK = 400  # rows per statement: stays under SQLite's bound-parameter limit
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _insert():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(XeroRecord.__table__)
    if dialect == "sqlite":
        return sqlite.insert(XeroRecord.__table__)
    raise RuntimeError(f"upserts are written for PostgreSQL and SQLite, not {dialect}")


def record_rows(connection_id: int, stream: Stream, items: list[dict[str, Any]], now: datetime) -> list[dict]:
    """Table rows for one page; the last copy of a duplicated id in a page wins."""
    rows: dict[str, dict] = {}
    key, status_field, updated_field = stream.key, stream.status_field, stream.updated_field
    for item in items:
        xero_id = item.get(key)
        if not xero_id:
            continue
        status = str(item.get(status_field) or "")
        rows[str(xero_id)] = {
            "connection_id": connection_id, "stream": stream.name, "xero_id": str(xero_id),
            "status": status, "tombstoned": status in TOMBSTONE_STATUSES,
            "xero_updated_at": parse_xero_date(item.get(updated_field)),
            "payload": _dumps(item), "synced_at": now,
        }
    return list(rows.values())


def upsert_records(connection_id: int, stream: Stream, items: list[dict[str, Any]]) -> int:
    """Insert or update a page of records in the current transaction; returns rows written."""
    rows = record_rows(connection_id, stream, items, utcnow())
    table = XeroRecord.__table__
    for start in range(0, len(rows), CHUNK):
        statement = _insert().values(rows[start:start + CHUNK])
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.connection_id, table.c.stream, table.c.xero_id],
            set_={"status": new.status, "tombstoned": new.tombstoned, "xero_updated_at": new.xero_updated_at,
                  "payload": new.payload, "synced_at": new.synced_at},
            where=or_(table.c.xero_updated_at.is_(None), new.xero_updated_at.is_(None),
                      new.xero_updated_at >= table.c.xero_updated_at),
        )
        db.session.execute(statement)
    return len(rows)


def save_report(connection_id: int, report: str, period: str, body: dict[str, Any]) -> None:
    reports = body.get("Reports") or [body]
    payload = _dumps(reports[0] if reports else {})
    row = db.session.scalar(select(XeroReport).where(
        XeroReport.connection_id == connection_id, XeroReport.report == report, XeroReport.period == period))
    if row is None:
        db.session.add(XeroReport(connection_id=connection_id, report=report, period=period, payload=payload))
    else:
        row.payload, row.fetched_at = payload, utcnow()


def cursor_for(connection_id: int, stream_name: str) -> StreamCursor:
    cursor = db.session.scalar(select(StreamCursor).where(
        StreamCursor.connection_id == connection_id, StreamCursor.stream == stream_name))
    if cursor is None:
        cursor = StreamCursor(connection_id=connection_id, stream=stream_name)
        db.session.add(cursor)
        db.session.flush()
    return cursor
