"""Every synced record belongs to a stored connection (wizard/models/record_owner.py): on PostgreSQL
statement-level triggers keep what the per-row foreign key guaranteed. A record for a missing
connection is refused on every write path, a record never moves to another connection, a connection
with records cannot be deleted, and a page being written holds its connection against a delete.

PostgreSQL only (CI runs it: TEST_DATABASE_URL); SQLite keeps its declared foreign key, which it
enforces only under `PRAGMA foreign_keys=ON` (the app does not set it).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from psycopg2 import errors
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.sync.helpers import bare_connection
from wizard.models import Connection, XeroRecord
from wizard.xero.streams import stream
from workers.sync import pg_copy, store

CONTACTS = stream("Contacts")
FOREIGN_KEY_VIOLATION = "23503"


def _page(connection_id: int, first: int = 0, count: int = 3, status: str = "ACTIVE") -> store.PageRows:
    items = [
        {"ContactID": f"c-{n}", "ContactStatus": status, "UpdatedDateUTC": "/Date(1000+0000)/"}
        for n in range(first, first + count)
    ]
    return store.record_rows(connection_id, CONTACTS, items, datetime(2026, 1, 1))


def _records(connection_id: int) -> int:
    from wizard.extensions import db

    return db.session.scalar(select(func.count()).where(XeroRecord.connection_id == connection_id)) or 0


def _sqlstate(error: Exception) -> str | None:
    return getattr(getattr(error, "orig", error), "pgcode", None)


def _missing_connection() -> int:
    from wizard.extensions import db

    return (db.session.scalar(select(func.max(Connection.id))) or 0) + 1000


def test_a_page_for_a_missing_connection_is_refused_on_every_write_path(postgresql_app):
    from wizard.extensions import db

    missing = _missing_connection()
    # Live and archived records (the latter are not counted, so record_count's foreign key is not involved).
    writes = {
        f"{path} ({status})": write
        for status in ("ACTIVE", "ARCHIVED")
        for path, write in {
            "all-new page (COPY into xero_record)": lambda status=status: store.upsert_rows(
                _page(missing, status=status)
            ),
            "merged page (staging table)": lambda status=status: pg_copy.write_page(
                db.session, store._upsert(), _page(missing, status=status)
            ),
            "one ORM row": lambda status=status: (
                db.session.add(XeroRecord(**_page(missing, status=status)[0])),
                db.session.flush(),
            ),
        }.items()
    }
    for path, write in writes.items():
        # The COPY paths raise psycopg2's error (COPY goes through the driver), the ORM SQLAlchemy's.
        with pytest.raises((IntegrityError, errors.ForeignKeyViolation)) as refused:
            write()
        db.session.rollback()
        assert _sqlstate(refused.value) == FOREIGN_KEY_VIOLATION, path
        assert _records(missing) == 0, path


def test_one_missing_connection_refuses_the_whole_statement(postgresql_app):
    from wizard.extensions import db

    owner, missing = bare_connection("Owner"), _missing_connection()
    # Tombstones: no live record to count, so only the owner check stands between them and the table.
    rows = [*_page(owner), *_page(missing, first=10)]
    with pytest.raises(IntegrityError, match="connection \\d+ does not exist"):
        db.session.execute(XeroRecord.__table__.insert(), [{**row, "tombstoned": True} for row in rows])
    db.session.rollback()
    assert _records(owner) == 0


def test_a_record_never_moves_to_another_connection(postgresql_app):
    from wizard.extensions import db

    owner, other = bare_connection("Owner"), bare_connection("Other")
    store.upsert_rows(_page(owner))
    db.session.commit()
    with pytest.raises(IntegrityError, match="cannot move"):
        db.session.execute(update(XeroRecord).where(XeroRecord.connection_id == owner).values(connection_id=other))
    db.session.rollback()
    assert (_records(owner), _records(other)) == (3, 0)


def test_a_connection_with_records_is_deleted_only_after_its_records(postgresql_app):
    from wizard.disconnecting import delete_synced_data
    from wizard.extensions import db

    # Archived records: no live record to count, so record_count's own foreign key is not involved.
    owner = bare_connection("Owner")
    store.upsert_rows(_page(owner, status="ARCHIVED"))
    db.session.commit()
    with pytest.raises(IntegrityError, match="still has records"):
        db.session.execute(delete(Connection).where(Connection.id == owner))
    db.session.rollback()
    assert _records(owner) == 3

    delete_synced_data(owner)
    db.session.execute(delete(Connection).where(Connection.id == owner))
    db.session.commit()
    assert db.session.get(Connection, owner) is None


def test_a_page_being_written_holds_its_connection_against_a_delete(postgresql_app):
    from wizard.extensions import db

    owner = bare_connection("Owner")
    store.upsert_rows(_page(owner, status="ARCHIVED"))  # not committed yet: the page's transaction is open
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '100ms'"))
        # The page's transaction holds the connection row (FOR KEY SHARE): the delete must wait.
        with pytest.raises(OperationalError, match="lock timeout"):
            other.execute(delete(Connection).where(Connection.id == owner))
        other.rollback()
        db.session.commit()
        # Once the page is committed, the delete sees its records and is refused.
        with pytest.raises(IntegrityError, match="still has records"):
            other.execute(delete(Connection).where(Connection.id == owner))
        other.rollback()
    assert _records(owner) == 3
