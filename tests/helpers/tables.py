"""Emptying every table between tests, the audit log included.

On PostgreSQL the audit log's trigger refuses DELETE (wizard.models.audit_guard); a superuser
may switch user triggers off for one transaction (`session_replication_role = replica`), as an
operator purging the log would have to.
"""

from __future__ import annotations

from sqlalchemy import text


def empty_all_tables(db) -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
