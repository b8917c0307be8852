"""Writing synced data: bulk upserts by (connection, stream, Xero id), reports, checkpoints.

A page is one `INSERT .. ON CONFLICT DO UPDATE` statement, compiled once: on SQLite executed for all
of the page's rows (executemany); on PostgreSQL fed from a COPY of the page (`pg_copy`), which is
several times cheaper than binding thousands of parameters. A row only moves forward: an older copy
of a record (a repeated page) never overwrites a newer one. Pages arrive as raw JSON and are decoded
here with orjson; each record's payload is re-serialised compactly on its own.

Every upsert also stamps the row with the run that saw it (`seen_run_id`, even when the copy is
older and the data is kept). When a full pass over a stream completes, the rows of that stream not
stamped by this run are the ones Xero no longer returns: `tombstone_unseen` marks them in one
statement, without holding any id in memory (reliability.md §4.2 step 6, T-26).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Insert, Table, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from wizard.books import postings, totals
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import StreamCursor, XeroRecord, XeroReport
from wizard.xero.streams import TOMBSTONE_STATUSES, Stream
from wizard.xero.timestamps import xero_timestamp
from workers.sync import pg_copy

_UPSERTS: dict[str, Insert] = {}


def decode(raw: bytes | str | None) -> Any:
    """A Xero JSON body (bytes as received) -> Python objects."""
    return orjson.loads(raw) if raw else None


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _move_forward(statement: postgresql.Insert | sqlite.Insert) -> Insert:
    """`statement` (a dialect insert into xero_record) with the upsert rule: the data moves forward
    only; the pass marker always does (an older copy still proves the record exists in Xero, so a
    full pass must not tombstone it)."""
    table = XeroRecord.__table__
    new = statement.excluded
    newer = or_(
        table.c.xero_updated_at.is_(None), new.xero_updated_at.is_(None), new.xero_updated_at >= table.c.xero_updated_at
    )
    set_: dict[str, ColumnElement[Any]] = {
        name: case((newer, new[name]), else_=table.c[name])
        for name in ("status", "tombstoned", "xero_updated_at", "payload", "synced_at")
    }
    set_["seen_run_id"] = new.seen_run_id
    return statement.on_conflict_do_update(
        index_elements=[table.c.connection_id, table.c.stream, table.c.xero_id], set_=set_
    )


def _upsert() -> Insert:
    """The page write for the session's dialect, built once so its compiled form is cached."""
    dialect = db.session.get_bind().dialect.name
    statement = _UPSERTS.get(dialect)
    if statement is not None:
        return statement
    table = cast(Table, XeroRecord.__table__)
    if dialect == "postgresql":
        # Fed from the COPY staging table (pg_copy): one set-based statement per page.
        statement = pg_copy.merge_statement(_move_forward(postgresql.insert(table)))
    elif dialect == "sqlite":
        # RETURNING lets SQLAlchemy batch the executemany into multi-row VALUES statements; without
        # it, an upsert is sent one row per round trip (SQLAlchemy 2.1 only batches plain inserts
        # then). Batching an upsert is safe here because `record_rows` leaves no duplicate key in a page.
        statement = _move_forward(sqlite.insert(table)).returning(table.c.id)
    else:
        raise RuntimeError(f"upserts are written for PostgreSQL and SQLite, not {dialect}")
    _UPSERTS[dialect] = statement
    return statement


class PageRows(list):
    """A page's xero_record rows; for a stream that posts to accounts, also each record's postings
    (computed where the page is decoded, so the single writer only sums them)."""

    posted: dict[str, list[postings.Posting]] | None = None


def record_rows(
    connection_id: int, stream: Stream, items: list[dict[str, Any]], now: datetime, run_id: int | None = None
) -> PageRows:
    """Table rows for one page, stamped as seen by `run_id`; the last copy of a duplicated id in a page wins."""
    rows: dict[str, dict] = {}
    posts = stream.name in postings.POSTING_STREAMS
    posted: dict[str, list[postings.Posting]] = {}
    key, status_field, updated_field, name = stream.key, stream.status_field, stream.updated_field, stream.name
    # Bound once: this loop runs per record, and global/attribute look-ups are a good part of its cost.
    dumps_, timestamp, tombstones, post = orjson.dumps, xero_timestamp, TOMBSTONE_STATUSES, postings.postings
    for item in items:
        xero_id = item.get(key)
        if not xero_id:
            continue
        if type(xero_id) is not str:
            xero_id = str(xero_id)
        status = item.get(status_field) or ""
        if type(status) is not str:
            status = str(status)
        rows[xero_id] = {
            "connection_id": connection_id,
            "stream": name,
            "xero_id": xero_id,
            "status": status,
            "tombstoned": status in tombstones,
            "xero_updated_at": timestamp(item.get(updated_field)),
            "payload": dumps_(item).decode(),
            "synced_at": now,
            "seen_run_id": run_id,
        }
        if posts:
            posted[xero_id] = post(name, item)
    page = PageRows(rows.values())
    page.posted = posted if posts else None
    return page


def upsert_rows(rows: list[dict[str, Any]]) -> int:
    """Insert or update a page's rows (from `record_rows`) in the current transaction, and move the
    books totals by what the page changes; returns rows written."""
    if not rows:
        return 0
    posted = getattr(rows, "posted", None)
    first = rows[0]
    connection_id, stream_name = first["connection_id"], first["stream"]
    stored: totals.Stored | None = None
    if db.session.get_bind().dialect.name == "postgresql":
        if pg_copy.copy_new_page(db.session, rows):
            stored = {}  # none was stored: the totals only gain what the page posts
        else:
            # One look-up serves both the books totals (the replaced copies) and the merge.
            ids = [row["xero_id"] for row in rows]
            stored = totals.stored_copies(connection_id, stream_name, ids, payloads=posted is not None)
            pg_copy.write_page(db.session, _upsert(), rows, all_new=not stored)
    else:
        # The totals' look-up reads the replaced copies, so it comes before the write.
        if posted is not None:
            stored = totals.stored_copies(connection_id, stream_name, [row["xero_id"] for row in rows])
        db.session.execute(_upsert(), rows).close()
    if posted is not None:
        delta = totals.page_delta(connection_id, stream_name, rows, posted, stored)
        if delta:
            totals.apply(connection_id, delta)
    return len(rows)


def tombstone_unseen(connection_id: int, stream_name: str, run_id: int) -> int:
    """At the end of a complete full pass of a stream: its live rows this run did not see become
    tombstones (kept, marked). Call it only once every page of the pass is written, in the
    transaction of the final checkpoint; an interrupted pass must tombstone nothing."""
    table = cast(Table, XeroRecord.__table__)
    unseen = (
        table.c.connection_id == connection_id,
        table.c.stream == stream_name,
        table.c.tombstoned.is_(False),
        table.c.seen_run_id.is_distinct_from(run_id),
    )
    if stream_name in postings.POSTING_STREAMS and not postings.counts(stream_name, tombstoned=True):
        gone = db.session.scalars(select(table.c.payload).where(*unseen).execution_options(yield_per=2000))
        totals.apply(connection_id, totals.tombstone_delta(gone, stream_name))
    result = db.session.execute(update(table).where(*unseen).values(tombstoned=True))
    return cast("CursorResult[Any]", result).rowcount or 0


def live_payloads(connection_id: int, stream_name: str) -> list[dict[str, Any]]:
    """The stored, not tombstoned records of a stream, decoded (small streams only)."""
    query = select(XeroRecord.payload).where(
        XeroRecord.connection_id == connection_id,
        XeroRecord.stream == stream_name,
        XeroRecord.tombstoned.is_(False),
    )
    return [decode(payload) for payload in db.session.scalars(query.order_by(XeroRecord.xero_id))]


def save_report(connection_id: int, report: str, period: str, body: dict[str, Any]) -> None:
    reports = body.get("Reports") or [body]
    payload = dumps(reports[0] if reports else {})
    row = db.session.scalar(
        select(XeroReport).where(
            XeroReport.connection_id == connection_id, XeroReport.report == report, XeroReport.period == period
        )
    )
    if row is None:
        db.session.add(XeroReport(connection_id=connection_id, report=report, period=period, payload=payload))
    else:
        row.payload, row.fetched_at = payload, utcnow()


def cursor_for(connection_id: int, stream_name: str) -> StreamCursor:
    cursor = db.session.scalar(
        select(StreamCursor).where(StreamCursor.connection_id == connection_id, StreamCursor.stream == stream_name)
    )
    if cursor is None:
        cursor = StreamCursor(connection_id=connection_id, stream=stream_name)
        db.session.add(cursor)
        db.session.flush()
    return cursor
