"""PostgreSQL page writes (workers/sync/pg_copy.py): the COPY text of a page, the merge statement
fed from the staging table, and (on PostgreSQL only) the page's trip through COPY.

The COPY text and the merge statement are plain Python and PostgreSQL SQL compiled without a
server, so they are checked on every database; writing a page needs PostgreSQL (CI runs it:
TEST_DATABASE_URL). tests/sync/test_store.py checks the stored results on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects import postgresql

from tests.sync.helpers import bare_connection
from wizard.models import XeroRecord
from wizard.xero.streams import stream
from workers.sync import pg_copy, store

INVOICES = stream("Invoices")


def _row(xero_id: str, status: str, tombstoned: bool, updated: datetime | None, payload: str) -> dict:
    return {
        "connection_id": 7,
        "stream": "Invoices",
        "xero_id": xero_id,
        "status": status,
        "tombstoned": tombstoned,
        "xero_updated_at": updated,
        "payload": payload,
        "synced_at": datetime(2026, 1, 1),
        "seen_run_id": 3,
    }


def test_the_copy_text_escapes_what_copy_would_read_as_escapes():
    rows = [
        _row("inv\\1\tx\ny\rz", "PAID", False, datetime(2026, 2, 3, 4, 5, 6), '{"Ref":"C:\\\\new"}'),
        _row("inv-2", "VOIDED", True, None, "{}"),
        _row("inv\\3", "A\\B\tC", False, None, "{}"),  # a backslash alone; a status with escapes
    ]
    assert pg_copy.copy_text(rows) == (
        b'inv\\\\1\\tx\\ny\\rz\tPAID\tf\t2026-02-03T04:05:06\t{"Ref":"C:\\\\\\\\new"}\n'  # backslashes doubled
        b"inv-2\tVOIDED\tt\t\\N\t{}\n"  # no timestamp: COPY's NULL
        b"inv\\\\3\tA\\\\B\\tC\tf\t\\N\t{}\n"
    )


def test_an_empty_status_stays_an_empty_string_not_null():
    assert pg_copy.copy_text([_row("inv-3", "", False, None, "{}")]) == b"inv-3\t\tf\t\\N\t{}\n"


def test_the_merge_reads_the_staging_table_and_binds_the_page_constants_once():
    statement = store._move_forward(postgresql.insert(cast(Table, XeroRecord.__table__)))
    merge = pg_copy.merge_statement(statement).compile(dialect=postgresql.dialect())
    sql = " ".join(str(merge).split())
    assert sql.startswith(
        "INSERT INTO xero_record (connection_id, stream, xero_id, status, tombstoned, xero_updated_at, payload, "
        "synced_at, seen_run_id) SELECT"
    )
    assert f"FROM {pg_copy.STAGING} ON CONFLICT (connection_id, stream, xero_id) DO UPDATE" in sql
    # only the page's constants are parameters; every per-record value comes from the COPY
    assert {"page_connection_id", "page_stream", "page_synced_at", "page_run_id"} <= set(merge.params)
    assert not {"xero_id", "payload", "status"} & set(merge.params)


def _invoice(number: int) -> dict:
    return {"InvoiceID": f"inv-{number:04d}", "Status": "AUTHORISED", "UpdatedDateUTC": "/Date(1000+0000)/"}


def test_a_page_travels_through_the_staging_table_which_the_commit_empties(postgresql_app):
    from wizard.extensions import db

    connection_id = bare_connection("COPY test")
    rows = store.record_rows(connection_id, INVOICES, [_invoice(n) for n in range(250)], datetime(2026, 1, 1), 9)
    assert store.upsert_rows(rows) == 250  # all new: COPYed straight into xero_record, not staged
    db.session.commit()
    assert store.upsert_rows(rows) == 250  # now stored: the page is staged and merged
    staged = text(f"SELECT count(*) FROM {pg_copy.STAGING}")
    assert db.session.scalar(staged) == 250, "the page was COPYed into the session's staging table"
    assert db.session.scalar(text("SHOW synchronous_commit")) == "off", "a page's commit does not wait for its WAL"
    db.session.commit()
    assert db.session.scalar(staged) == 0, "ON COMMIT DELETE ROWS: the next page starts from an empty table"
    assert db.session.scalar(text("SHOW synchronous_commit")) == "on", "SET LOCAL: only the page's transaction"
    db.session.commit()
    count = select(func.count()).select_from(XeroRecord).where(XeroRecord.seen_run_id == 9)
    assert db.session.scalar(count) == 250


def test_a_page_after_a_rolled_back_first_page_recreates_the_staging_table(postgresql_app):
    """The first page's CREATE TEMPORARY TABLE is rolled back with it: the next page creates it again."""
    from wizard.extensions import db

    connection_id = bare_connection("COPY test")
    first = store.record_rows(connection_id, INVOICES, [_invoice(1)], datetime(2026, 1, 1), 1)
    store.upsert_rows(first)
    db.session.rollback()
    second = store.record_rows(connection_id, INVOICES, [_invoice(2)], datetime(2026, 1, 1), 2)
    assert store.upsert_rows(second) == 1
    db.session.commit()
    stored = db.session.scalars(select(XeroRecord.xero_id).where(XeroRecord.connection_id == connection_id))
    assert list(stored) == ["inv-0002"]


def _posting_invoice(number: int, updated_ms: int, amount: float) -> dict:
    return {
        "InvoiceID": f"inv-{number:04d}",
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Date": f"/Date({1_700_000_000_000 + number * 86_400_000}+0000)/",
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"AccountCode": "200", "LineAmount": amount, "TaxAmount": 0.0}],
        "Total": amount,
    }


def test_an_all_new_page_is_copied_in_without_looking_up_its_ids(postgresql_app, monkeypatch):
    """A first sync's pages cost no look-up of their ids; a page with a stored id in the middle (its
    first and last new) still merges by the move-forward rule and moves the totals by the difference."""
    from wizard.books import totals
    from wizard.extensions import db

    look_ups: list[list[str]] = []
    stored_copies = totals.stored_copies

    def counted(connection_id, stream_name, ids, payloads=True):
        look_ups.append(ids)
        return stored_copies(connection_id, stream_name, ids, payloads)

    monkeypatch.setattr(totals, "stored_copies", counted)
    connection_id = bare_connection("COPY test")

    def write(items: list[dict]) -> None:
        store.upsert_rows(store.record_rows(connection_id, INVOICES, items, datetime(2026, 1, 1)))
        db.session.commit()

    write([_posting_invoice(n, 2_000, 100.0) for n in range(1, 6)])
    assert look_ups == []
    # inv-0003 is stored with a newer copy: this older one must not replace it (nor its postings).
    write([_posting_invoice(10, 2_000, 7.0), _posting_invoice(3, 1_000, 999.0), _posting_invoice(11, 2_000, 8.0)])
    assert len(look_ups) == 1
    payload = db.session.scalar(
        select(XeroRecord.payload).where(XeroRecord.connection_id == connection_id, XeroRecord.xero_id == "inv-0003")
    )
    assert '"LineAmount":100.0' in payload
    assert db.session.scalar(select(func.count()).where(XeroRecord.connection_id == connection_id)) == 7
    assert totals.stored(connection_id) == totals.recompute(connection_id) != {}
