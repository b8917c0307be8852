"""Issue 11 item 10 (first half): on PostgreSQL the database itself keeps the audit log
append-only. A trigger refuses UPDATE, DELETE and TRUNCATE of `audit_event`, even from raw SQL
that never passes our ORM hooks. The tables built from the models and the ones the migrations
build both get it."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from wizard import create_app
from wizard.extensions import db

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="the append-only trigger is PostgreSQL's; on SQLite the ORM hooks in wizard.models.support guard "
    "the audit log (tests/support_access/test_expiry_and_audit.py::test_audit_rows_cannot_be_updated_or_deleted)",
)

INSERT = text(
    "INSERT INTO audit_event (at, actor_email, actor_role, action, allowed, remote_addr, detail) "
    "VALUES (now(), 'support@planwise.test', 'support', 'doctor.view', true, '', 'kept')"
)
CHANGES = (
    "UPDATE audit_event SET detail = 'rewritten'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
)


def _assert_every_change_is_refused(engine) -> None:
    with engine.begin() as conn:
        conn.execute(INSERT)
    for statement in CHANGES:
        with pytest.raises(DBAPIError, match="audit_event is append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT detail FROM audit_event")).scalars().all() == ["kept"]


def test_raw_sql_cannot_change_or_remove_audit_rows(app):
    with app.app_context():
        _assert_every_change_is_refused(db.engine)


def test_the_migration_adds_the_trigger_and_its_downgrade_removes_it(test_env):
    from flask_migrate import downgrade, upgrade

    schema = "migration_check"
    admin = create_engine(test_env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg2://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade()
            _assert_every_change_is_refused(db.engine)
            downgrade(revision="d158b5658106")
            with db.engine.begin() as conn:
                assert conn.execute(text("DELETE FROM audit_event")).rowcount == 1
            db.engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
