"""Replays of captured Xero pages for bench/sync.py: the sync's write path, and a reference loop.

- `replay`: each page through the sync's own processing path (decode -> rows -> the page write
  of `workers.sync.store` -> commit), in one thread; the same pages can go to any database.
- `reference_loop`: the floor for PostgreSQL: decode the same pages with orjson and COPY each
  record (the same columns) into a table with no index or constraint, one commit per page (not
  waiting for the WAL flush, like the sync's page commits, so the ratio compares the work).

Both return (records, seconds spent); only the processing is timed, never the file reads.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import orjson

Pages = list[tuple[str, int, int]]  # (stream, offset in the capture file, length)


def bare_connection(app, name: str) -> int:
    """A workspace + connection row to hang replayed records on (no tokens: nothing is fetched)."""
    from wizard.extensions import db
    from wizard.models import Connection, Workspace

    with app.app_context():
        workspace = Workspace(name=name)
        db.session.add(workspace)
        db.session.flush()
        connection = Connection(workspace_id=workspace.id, tenant_id=f"replay-{workspace.id}", tenant_name=name)
        db.session.add(connection)
        db.session.commit()
        return connection.id


def _pages(path: Path, pages: Pages):
    with open(path, "rb") as source:
        for name, offset, length in pages:
            source.seek(offset)
            yield name, source.read(length)


def replay(app, path: Path, pages: Pages, connection_id: int) -> tuple[int, float, float]:
    """The sync's path, page by page: (records, decode + rows seconds, write + commit seconds)."""
    from wizard.clock import utcnow
    from wizard.extensions import db
    from workers.sync import store
    from workers.sync.engine import long_lived_heap_frozen
    from workers.sync.streams import stream

    records, decode, write = 0, 0.0, 0.0
    # As in the work horse, keep the collector off the long-lived heap (here: the sandbox's books).
    with app.app_context(), long_lived_heap_frozen():
        for name, raw in _pages(path, pages):
            started = time.perf_counter()
            s = stream(name)
            rows = store.record_rows(connection_id, s, store.decode(raw)[s.collection], utcnow())
            decoded = time.perf_counter()
            records += store.upsert_rows(rows)
            db.session.commit()
            decode += decoded - started
            write += time.perf_counter() - decoded
    return records, decode, write


REFERENCE_TABLE = "bench_reference_copy"


def reference_loop(database_url: str, path: Path, pages: Pages) -> tuple[int, float]:
    """orjson decode + COPY into an unindexed table, per page with a commit: (records, seconds)."""
    import psycopg2

    from workers.sync.streams import stream

    connection = psycopg2.connect(database_url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {REFERENCE_TABLE}; CREATE TABLE {REFERENCE_TABLE} (connection_id integer, "
                "stream varchar(60), xero_id varchar(64), status varchar(30), updated text, payload text)"
            )
        records, spent = 0, 0.0
        for name, raw in _pages(path, pages):
            started = time.perf_counter()
            s = stream(name)
            lines = []
            for item in orjson.loads(raw)[s.collection]:
                payload = orjson.dumps(item).decode().replace("\\", "\\\\")
                lines.append(
                    f"1\t{name}\t{item[s.key]}\t{item.get(s.status_field) or ''}\t"
                    f"{item.get(s.updated_field) or ''}\t{payload}\n"
                )
            with connection, connection.cursor() as cursor:
                data = "".join(lines).encode()
                cursor.execute("SET LOCAL synchronous_commit = off")  # as the sync's page commits
                cursor.copy_expert(f"COPY {REFERENCE_TABLE} FROM STDIN", io.BytesIO(data), size=len(data) or 8192)
            records += len(lines)
            spent += time.perf_counter() - started
        with connection, connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {REFERENCE_TABLE}")
        return records, spent
    finally:
        connection.close()
