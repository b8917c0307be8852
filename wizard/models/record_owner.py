"""Every synced record belongs to a stored connection, checked once per statement on PostgreSQL.

A foreign key on `xero_record.connection_id` checks and locks the connection once per row: 13 to 27
ms of a 1,000-row page write, for a page whose rows all name the same connection. On PostgreSQL
these triggers keep the same guarantees once per statement instead:

- inserting records: every connection the statement's rows name must exist, and is locked
  `FOR KEY SHARE` (the lock a foreign key takes), so it cannot be deleted before the records commit;
- a record never moves to another connection (no writer does; this keeps the check to inserts);
- deleting a connection that still has records fails, as the foreign key (NO ACTION) did: the
  disconnect deletes the records first (wizard/disconnecting.py). A delete that waited for a
  sync's lock sees that sync's committed records (READ COMMITTED, the app's isolation level).

Both raise `foreign_key_violation` (psycopg2 `ForeignKeyViolation`, SQLAlchemy `IntegrityError`), as
the foreign key did. SQLite keeps the declared foreign key (it enforces it only with
`PRAGMA foreign_keys=ON`, which the app does not set: unchanged by this module).

Used by the model (create_all) and by the migration, so both build the same triggers.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import DDL, Table, event

from wizard.models.sync import XeroRecord

POSTGRESQL = (
    """
    CREATE OR REPLACE FUNCTION xero_record_connection_check() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        owner integer;
    BEGIN
        FOR owner IN SELECT DISTINCT connection_id FROM new_rows LOOP
            PERFORM 1 FROM connection WHERE id = owner FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'xero_record: connection % does not exist', owner
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'xero_record', COLUMN = 'connection_id';
            END IF;
        END LOOP;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION xero_record_connection_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'xero_record % cannot move from connection % to %', OLD.id, OLD.connection_id,
            NEW.connection_id USING ERRCODE = 'foreign_key_violation', TABLE = 'xero_record';
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION connection_records_gone() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        owner integer;
    BEGIN
        SELECT r.connection_id INTO owner FROM xero_record r
            WHERE r.connection_id IN (SELECT id FROM old_rows) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'connection % still has records', owner
                USING ERRCODE = 'foreign_key_violation', TABLE = 'xero_record', COLUMN = 'connection_id';
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER xero_record_connection_insert AFTER INSERT ON xero_record REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION xero_record_connection_check()",
    # Column-specific: the page merge's ON CONFLICT DO UPDATE never sets connection_id, so it never fires.
    "CREATE TRIGGER xero_record_connection_update BEFORE UPDATE OF connection_id ON xero_record FOR EACH ROW "
    "WHEN (OLD.connection_id IS DISTINCT FROM NEW.connection_id) EXECUTE FUNCTION xero_record_connection_kept()",
    "CREATE TRIGGER connection_records_delete AFTER DELETE ON connection REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION connection_records_gone()",
)

DROP_POSTGRESQL = (
    "DROP TRIGGER IF EXISTS xero_record_connection_insert ON xero_record",
    "DROP TRIGGER IF EXISTS xero_record_connection_update ON xero_record",
    "DROP TRIGGER IF EXISTS connection_records_delete ON connection",
    "DROP FUNCTION IF EXISTS xero_record_connection_check()",
    "DROP FUNCTION IF EXISTS xero_record_connection_kept()",
    "DROP FUNCTION IF EXISTS connection_records_gone()",
)


def attach(records: Table) -> None:
    """Create the triggers on PostgreSQL whenever `xero_record` is created (`connection` exists by
    then: the foreign key declared for SQLite orders the tables); the one on `connection` too."""
    for statement in POSTGRESQL:
        ddl = DDL(statement.replace("%", "%%"))
        event.listen(records, "after_create", ddl.execute_if(dialect="postgresql"))


attach(cast(Table, XeroRecord.__table__))
