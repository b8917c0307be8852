"""Replays of captured Xero pages for bench/sync.py: the sync's write path, and a reference loop.

- `SyncPath`: each page through the sync's own processing path (decode -> rows -> the page write
  of `workers.sync.store` -> commit), in one thread; one per database (app).
- `ReferencePath`: the floor for PostgreSQL: decode the same pages with orjson and COPY each
  record (the same columns) into a table with no index or constraint, one commit per page (not
  waiting for the WAL flush, like the sync's page commits, so the ratio compares the work).
- `race`: every page through each of them in turn, so a busy machine slows them alike.

Each keeps its records and seconds; only the processing is timed, never the file reads.
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


class SyncPath:
    """The sync's processing path into one app's database: decode -> rows -> page write -> commit."""

    def __init__(self, app, connection_id: int) -> None:
        self.app, self.connection_id = app, connection_id
        self.records, self.decode, self.write = 0, 0.0, 0.0

    def page(self, name: str, raw: bytes) -> None:
        from wizard.clock import utcnow
        from wizard.extensions import db
        from wizard.xero.streams import stream
        from workers.sync import store

        with self.app.app_context():
            started = time.perf_counter()
            s = stream(name)
            rows = store.record_rows(self.connection_id, s, store.decode(raw)[s.collection], utcnow())
            decoded = time.perf_counter()
            self.records += store.upsert_rows(rows)
            db.session.commit()
            self.decode += decoded - started
            self.write += time.perf_counter() - decoded

    @property
    def seconds(self) -> float:
        return self.decode + self.write


REFERENCE_TABLE = "bench_reference_copy"


class ReferencePath:
    """orjson decode + COPY into an unindexed table, a commit per page (see the module docstring)."""

    def __init__(self, database_url: str) -> None:
        import psycopg2

        self.connection = psycopg2.connect(database_url.replace("postgresql+psycopg2://", "postgresql://"))
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {REFERENCE_TABLE}; CREATE TABLE {REFERENCE_TABLE} (connection_id integer, "
                "stream varchar(60), xero_id varchar(64), status varchar(30), updated text, payload text)"
            )
        self.records, self.seconds = 0, 0.0

    def page(self, name: str, raw: bytes) -> None:
        from wizard.xero.streams import stream

        started = time.perf_counter()
        s = stream(name)
        lines = []
        for item in orjson.loads(raw)[s.collection]:
            payload = orjson.dumps(item).decode().replace("\\", "\\\\")
            lines.append(
                f"1\t{name}\t{item[s.key]}\t{item.get(s.status_field) or ''}\t"
                f"{item.get(s.updated_field) or ''}\t{payload}\n"
            )
        with self.connection, self.connection.cursor() as cursor:
            data = "".join(lines).encode()
            cursor.execute("SET LOCAL synchronous_commit = off")  # as the sync's page commits
            cursor.copy_expert(f"COPY {REFERENCE_TABLE} FROM STDIN", io.BytesIO(data), size=len(data) or 8192)
        self.records += len(lines)
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {REFERENCE_TABLE}")
        self.connection.close()


def race(contenders: list, path: Path, pages: Pages) -> None:
    """Each page through every contender in turn (the order rotating), so that whatever else the
    machine does slows them alike; each keeps its own records and seconds."""
    from workers.sync.engine import long_lived_heap_frozen

    # As in the work horse, keep the collector off the long-lived heap (here: the sandbox's books).
    with long_lived_heap_frozen():
        for number, (name, raw) in enumerate(_pages(path, pages)):
            turn = number % len(contenders)
            for contender in contenders[turn:] + contenders[:turn]:
                contender.page(name, raw)
