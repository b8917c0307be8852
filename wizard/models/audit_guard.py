"""The database's own guard on the audit log (PostgreSQL): UPDATE, DELETE and TRUNCATE of
`audit_event` raise, whoever sends them (issue 11 item 10). The ORM hooks in
wizard.models.support refuse them earlier for our code; this holds for raw SQL too.

Used by the model (create_all) and by the migration, so both build the same trigger.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

CREATE = (
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)


def attach(table: Table) -> None:
    """Create the trigger whenever the table is created on PostgreSQL (other databases: ORM hooks only)."""
    for statement in CREATE:
        ddl = DDL(statement.replace("%", "%%"))  # DDL formats %(table)s-style; RAISE's % is literal
        event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))
