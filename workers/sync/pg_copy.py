"""PostgreSQL page writes: COPY a page into a session temp table, then one `INSERT .. SELECT .. ON CONFLICT`.

A multi-row VALUES upsert makes PostgreSQL parse and plan thousands of parameters per page and
psycopg2 quote each one in Python; COPY streams the page as one text buffer instead, and the
merge into `xero_record` is a single set-based statement with the same move-forward rule as the
SQLite path (the caller passes the ON CONFLICT clause). Only the per-record columns travel through
COPY; the page's constants (connection, stream, run, time) are bound once.

The staging table is `ON COMMIT DELETE ROWS`, so it is empty at the start of every page's
transaction and a failed page leaves nothing behind (the rollback discards it).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Insert, MetaData, String, Table, Text, bindparam, select
from sqlalchemy.orm import Session, scoped_session

STAGING = "xero_record_page"
_staging = Table(
    STAGING,
    MetaData(),
    Column("xero_id", String(64)),
    Column("status", String(30)),
    Column("tombstoned", Boolean),
    Column("xero_updated_at", DateTime),
    Column("payload", Text),
    prefixes=["TEMPORARY"],
)
_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (xero_id varchar(64), status varchar(30), "
    "tombstoned boolean, xero_updated_at timestamp, payload text) ON COMMIT DELETE ROWS"
)
# The page's commit does not wait for its WAL flush. Safe because rows, progress and checkpoint are
# one transaction: a database crash can lose only the last few pages whole, and the run resumes at
# the checkpoint that survived; the run's final commit (synchronous) flushes every page before it.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"
_COPY = f"COPY {STAGING} (xero_id, status, tombstoned, xero_updated_at, payload) FROM STDIN"
# COPY text format: backslash, tab, newline and carriage return must be escaped in a value.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def copy_text(rows: list[dict[str, Any]]) -> bytes:
    """The page's per-record columns as COPY text (one line per row; `\\N` is NULL)."""
    lines = []
    for row in rows:
        updated: datetime | None = row["xero_updated_at"]
        # orjson never emits a raw tab, newline or carriage return (JSON escapes them), so a
        # payload only needs its backslashes doubled.
        lines.append(
            f"{_text(row['xero_id'])}\t{_text(row['status'])}\t{'t' if row['tombstoned'] else 'f'}\t"
            f"{updated.isoformat() if updated is not None else chr(92) + 'N'}\t"
            f"{row['payload'].replace(chr(92), chr(92) * 2)}\n"
        )
    return "".join(lines).encode()


def merge_statement(insert: Insert) -> Insert:
    """`insert` (a PostgreSQL upsert into xero_record, ON CONFLICT already set) fed from the staging table."""
    table = insert.table
    columns = ["connection_id", "stream", "xero_id", "status", "tombstoned", "xero_updated_at", "payload"]
    columns += ["synced_at", "seen_run_id"]
    source = select(
        bindparam("page_connection_id", type_=table.c.connection_id.type),
        bindparam("page_stream", type_=table.c.stream.type),
        _staging.c.xero_id,
        _staging.c.status,
        _staging.c.tombstoned,
        _staging.c.xero_updated_at,
        _staging.c.payload,
        bindparam("page_synced_at", type_=table.c.synced_at.type),
        bindparam("page_run_id", type_=table.c.seen_run_id.type),
    )
    return insert.from_select(columns, source)


def write_page(session: Session | scoped_session[Any], merge: Insert, rows: list[dict[str, Any]]) -> None:
    """COPY one page (rows from `record_rows`, which share connection, stream, time and run) and merge it."""
    connection = session.connection()
    # Every time, not once per pooled connection: a rolled-back first page also rolls back the CREATE.
    connection.exec_driver_sql(f"{_ASYNC_COMMIT}; {_CREATE}")
    payload = copy_text(rows)
    driver_connection = connection.connection.driver_connection
    if driver_connection is None:  # the pooled connection was invalidated: there is nothing to COPY through
        raise RuntimeError("no psycopg2 connection to COPY the page through")
    with driver_connection.cursor() as cursor:
        cursor.copy_expert(_COPY, io.BytesIO(payload), size=max(len(payload), 8192))
    first = rows[0]
    connection.execute(
        merge,
        {
            "page_connection_id": first["connection_id"],
            "page_stream": first["stream"],
            "page_synced_at": first["synced_at"],
            "page_run_id": first["seen_run_id"],
        },
    )
