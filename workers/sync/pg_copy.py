"""PostgreSQL page writes: COPY, straight into `xero_record` when the page is all new, else through a
session temp table and one `INSERT .. SELECT .. ON CONFLICT`.

A multi-row VALUES upsert makes PostgreSQL parse and plan thousands of parameters per page and
psycopg2 quote each one in Python; COPY streams the page as one text buffer instead. Two ways:

- none of the page's ids stored (a first sync, or new records; `copy_new_page`): the page is
  COPYed into `xero_record` itself. With no stored copy there is nothing for the move-forward rule
  to compare (nor for the books totals to take out), so the result is what the upsert would write,
  without staging every row twice and without looking up all the page's ids first. It runs under
  a savepoint: if one id is stored after all (the unique constraint says so, also when another
  execution stored it meanwhile), the COPY is undone and the page goes the merge way;
- some (the caller has looked them up, for the books totals; `write_page`): the per-record columns
  are COPYed into the staging table and merged by a single set-based statement with the same
  move-forward rule as the SQLite path (the caller passes the ON CONFLICT clause); the page's
  constants (connection, stream, run, time) are bound once.

The staging table is `ON COMMIT DELETE ROWS`, so it is empty at the start of every page's
transaction and a failed page leaves nothing behind (the rollback discards it).
"""

from __future__ import annotations

import io
from typing import Any

from psycopg2 import errors
from sqlalchemy import Boolean, Column, DateTime, Insert, MetaData, String, Table, Text, bindparam, select
from sqlalchemy.engine import Connection
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
_PER_RECORD = "xero_id, status, tombstoned, xero_updated_at, payload"
_COPY_STAGING = f"COPY {STAGING} ({_PER_RECORD}) FROM STDIN"
_COPY_RECORDS = f"COPY xero_record (connection_id, stream, {_PER_RECORD}, synced_at, seen_run_id) FROM STDIN"
_SAVEPOINT = "pg_copy_new_page"
_PROBE = (
    "SELECT 1 FROM xero_record WHERE connection_id = %(connection_id)s AND stream = %(stream)s"
    " AND xero_id IN (%(first)s, %(last)s) LIMIT 1"
)
# COPY text format: backslash, tab, newline and carriage return must be escaped in a value.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def copy_text(rows: list[dict[str, Any]], before: str = "", after: str = "") -> bytes:
    """The page's per-record columns as COPY text, one line per row (`\\N` is NULL); `before` and
    `after` are put around every line's columns (the page's constants, already in COPY text)."""
    escapes, null, backslash, doubled = _ESCAPES, _NULL, "\\", "\\\\"
    lines: list[str] = []
    append = lines.append  # bound once: this loop runs per record
    for row in rows:
        xero_id, status, updated = row["xero_id"], row["status"], row["xero_updated_at"]
        # Ids and statuses almost never hold a character COPY escapes: two scans in C are several
        # times cheaper than `translate`, which maps every character through a dict.
        if backslash in xero_id or not xero_id.isprintable():
            xero_id = xero_id.translate(escapes)
        if backslash in status or not status.isprintable():
            status = status.translate(escapes)
        # orjson never emits a raw tab, newline or carriage return (JSON escapes them), so a
        # payload only needs its backslashes doubled.
        append(
            f"{before}{xero_id}\t{status}\t{'t' if row['tombstoned'] else 'f'}\t"
            f"{null if updated is None else updated.isoformat()}\t{row['payload'].replace(backslash, doubled)}{after}\n"
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


def _copy(connection: Connection, statement: str, payload: bytes) -> None:
    driver_connection = connection.connection.driver_connection
    if driver_connection is None:  # the pooled connection was invalidated: there is nothing to COPY through
        raise RuntimeError("no psycopg2 connection to COPY the page through")
    with driver_connection.cursor() as cursor:
        cursor.copy_expert(statement, io.BytesIO(payload), size=max(len(payload), 8192))


def _copy_new(connection: Connection, rows: list[dict[str, Any]], probe: bool = False) -> bool:
    """COPY a page none of whose ids was stored into xero_record; False (nothing written) when one
    turned out to be stored after all. `probe`: look for the page's first and last ids first (in
    the same round trip as the savepoint) and skip the COPY when either is stored."""
    first = rows[0]
    prepare = f"{_ASYNC_COMMIT}; SAVEPOINT {_SAVEPOINT}"
    if probe:
        ids = {"connection_id": first["connection_id"], "stream": first["stream"], "first": first["xero_id"]}
        found = connection.exec_driver_sql(f"{prepare}; {_PROBE}", {**ids, "last": rows[-1]["xero_id"]})
        if found.first() is not None:
            return False
    else:
        connection.exec_driver_sql(prepare)
    run_id = first["seen_run_id"]
    before = f"{first['connection_id']}\t{_text(first['stream'])}\t"
    after = f"\t{first['synced_at'].isoformat()}\t{_NULL if run_id is None else run_id}"
    try:
        _copy(connection, _COPY_RECORDS, copy_text(rows, before, after))
    except errors.UniqueViolation:
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        return False
    return True


def copy_new_page(session: Session | scoped_session[Any], rows: list[dict[str, Any]]) -> bool:
    """COPY a page (rows from `record_rows`) straight into xero_record if none of its ids is stored;
    False, with nothing written, if one is. The page's first and last ids are probed first: a
    repeated or incremental page usually has them stored and then costs one index probe, not a COPY
    that fails; the unique constraint catches any other stored id."""
    return _copy_new(session.connection(), rows, probe=True)


def write_page(
    session: Session | scoped_session[Any], merge: Insert, rows: list[dict[str, Any]], all_new: bool = False
) -> None:
    """Write one page (rows from `record_rows`, which share connection, stream, time and run);
    `all_new`: the caller found none of its ids stored in this transaction."""
    connection = session.connection()
    if all_new and _copy_new(connection, rows):
        return
    # Every time, not once per pooled connection: a rolled-back first page also rolls back the CREATE.
    connection.exec_driver_sql(f"{_ASYNC_COMMIT}; {_CREATE}")
    _copy(connection, _COPY_STAGING, copy_text(rows))
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
