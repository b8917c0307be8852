"""Live records per connection and data type, kept by the database as records are written.

`record_count.live` is what the Data page, the connection page, step 4 and the sync status show as
"records": the connection's rows of that data type that are live in Xero (tombstones not counted).
Counting them live costs a scan of the connection's records (about half a second at 500k), so the
database keeps the figure itself: triggers on `xero_record` move it in the statement that inserts,
tombstones, revives or deletes a row, hence in the same transaction as the page, the end-of-pass
tombstoning or the disconnect's delete batch. A rolled-back page rolls its counts back with it, and
every writer (the sync, a disconnect, raw SQL, a test's fixture) is covered without remembering to.

PostgreSQL: statement-level triggers with transition tables (one grouped upsert per page, not one
per row). SQLite: row-level triggers (in-process, cheap). Used by the model (create_all) and by the
migration, so both build the same triggers.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import DDL, ForeignKey, String, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from wizard.extensions import Model
from wizard.models.sync import XeroRecord


class RecordCount(Model):
    """How many of one connection's records of one data type are live (see the module docstring)."""

    __tablename__ = "record_count"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    live: Mapped[int] = mapped_column(default=0)


_MOVE = """
    INSERT INTO record_count (connection_id, stream, live)
    SELECT connection_id, stream, sum(n) FROM ({rows}) AS moved
    GROUP BY connection_id, stream HAVING sum(n) <> 0
    ON CONFLICT (connection_id, stream) DO UPDATE SET live = record_count.live + excluded.live;
"""
_ADDED = "SELECT connection_id, stream, count(*) AS n FROM new_rows WHERE NOT tombstoned GROUP BY connection_id, stream"
_REMOVED = (
    "SELECT connection_id, stream, -count(*) AS n FROM old_rows WHERE NOT tombstoned GROUP BY connection_id, stream"
)

POSTGRESQL = (
    f"""
    CREATE OR REPLACE FUNCTION record_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_MOVE.format(rows=_ADDED)}
        ELSIF TG_OP = 'DELETE' THEN
            {_MOVE.format(rows=_REMOVED)}
        ELSE
            {_MOVE.format(rows=f"{_ADDED} UNION ALL {_REMOVED}")}
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER record_count_insert AFTER INSERT ON xero_record REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION record_count_move()",
    "CREATE TRIGGER record_count_update AFTER UPDATE ON xero_record "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_count_move()",
    "CREATE TRIGGER record_count_delete AFTER DELETE ON xero_record REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION record_count_move()",
)

_ADD_ONE = """
    INSERT INTO record_count (connection_id, stream, live) SELECT NEW.connection_id, NEW.stream, 1 WHERE true
    ON CONFLICT (connection_id, stream) DO UPDATE SET live = live + 1;
"""
_REMOVE_ONE = "UPDATE record_count SET live = live - 1 WHERE connection_id = OLD.connection_id AND stream = OLD.stream;"

SQLITE = (
    f"CREATE TRIGGER record_count_insert AFTER INSERT ON xero_record WHEN NOT NEW.tombstoned BEGIN {_ADD_ONE} END",
    f"CREATE TRIGGER record_count_delete AFTER DELETE ON xero_record WHEN NOT OLD.tombstoned BEGIN {_REMOVE_ONE} END",
    # Only a row that changes live-ness or moves between counters moves the figures.
    "CREATE TRIGGER record_count_update AFTER UPDATE OF tombstoned, connection_id, stream ON xero_record "
    "WHEN OLD.tombstoned IS NOT NEW.tombstoned OR OLD.connection_id IS NOT NEW.connection_id "
    "OR OLD.stream IS NOT NEW.stream BEGIN "
    f"{_REMOVE_ONE.replace(' WHERE ', ' WHERE NOT OLD.tombstoned AND ')} "
    f"{_ADD_ONE.replace('WHERE true', 'WHERE NOT NEW.tombstoned')} END",
)

DROP = (
    "DROP TRIGGER IF EXISTS record_count_insert{on}",
    "DROP TRIGGER IF EXISTS record_count_update{on}",
    "DROP TRIGGER IF EXISTS record_count_delete{on}",
)

# The definition the triggers keep, for the migration's backfill and for checks.
RECOUNT = (
    "INSERT INTO record_count (connection_id, stream, live) SELECT connection_id, stream, count(*) FROM xero_record "
    "WHERE NOT tombstoned GROUP BY connection_id, stream"
)


def statements(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return POSTGRESQL
    if dialect == "sqlite":
        return SQLITE
    raise RuntimeError(f"record counts are kept for PostgreSQL and SQLite, not {dialect}")


def drop_statements(dialect: str) -> tuple[str, ...]:
    on = " ON xero_record" if dialect == "postgresql" else ""
    extra = ("DROP FUNCTION IF EXISTS record_count_move()",) if dialect == "postgresql" else ()
    return (*(s.format(on=on) for s in DROP), *extra)


def attach(table: Table) -> None:
    """Create the triggers whenever `xero_record` is created (the functions they call resolve
    `record_count` when they run, so table order does not matter)."""
    for dialect in ("postgresql", "sqlite"):
        for statement in statements(dialect):
            ddl = DDL(statement.replace("%", "%%"))
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))


attach(cast(Table, XeroRecord.__table__))
