"""The page upsert on its own: newer copies win, tombstones are kept, replays change nothing."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest
from sqlalchemy import func, select

from tests.sync.helpers import bare_connection
from wizard.xero.api import parse_xero_date
from wizard.xero.streams import stream
from workers.sync import store

INVOICES = stream("Invoices")


def _invoice(number: int, updated_ms: int, status: str = "AUTHORISED", reference: str = "") -> dict:
    return {
        "InvoiceID": f"inv-{number:04d}",
        "Status": status,
        "Reference": reference,
        "Total": 12.5,
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
        "LineItems": [{"Description": "Fee", "Quantity": 1.0}],
    }


def _write_page(connection_id: int, items: list[dict]) -> int:
    from wizard.extensions import db

    page = orjson.dumps({"Invoices": items})  # as the fetcher receives it: bytes
    rows = store.record_rows(connection_id, INVOICES, store.decode(page)["Invoices"], datetime(2026, 1, 1))
    written = store.upsert_rows(rows)
    db.session.commit()
    return written


def _stored(connection_id: int) -> dict[str, tuple[str, bool, dict]]:
    from wizard.extensions import db
    from wizard.models import XeroRecord

    db.session.expire_all()
    query = select(XeroRecord.xero_id, XeroRecord.status, XeroRecord.tombstoned, XeroRecord.payload).where(
        XeroRecord.connection_id == connection_id
    )
    return {
        xero_id: (status, tombstoned, orjson.loads(payload))
        for xero_id, status, tombstoned, payload in db.session.execute(query)
    }


def test_a_page_is_written_once_and_replaying_it_changes_nothing(app):
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        connection_id = bare_connection("Store test")
        page = [_invoice(n, 1_700_000_000_000 + n) for n in range(1500)]
        assert _write_page(connection_id, page) == 1500
        first = _stored(connection_id)
        assert _write_page(connection_id, page) == 1500
        assert _stored(connection_id) == first
        assert db.session.scalar(select(func.count()).select_from(XeroRecord)) == 1500
        assert first["inv-0007"][2] == page[7]


def test_an_older_copy_never_overwrites_a_newer_one(app):
    with app.app_context():
        connection_id = bare_connection("Store test")
        _write_page(connection_id, [_invoice(1, 2_000, reference="new"), _invoice(2, 1_000, reference="old")])
        _write_page(connection_id, [_invoice(1, 1_000, reference="stale"), _invoice(2, 2_000, reference="newer")])
        stored = _stored(connection_id)
        assert stored["inv-0001"][2]["Reference"] == "new"
        assert stored["inv-0002"][2]["Reference"] == "newer"


def test_voided_and_deleted_records_are_kept_as_tombstones(app):
    with app.app_context():
        connection_id = bare_connection("Store test")
        _write_page(connection_id, [_invoice(1, 1_000), _invoice(2, 1_000), _invoice(3, 1_000)])
        _write_page(connection_id, [_invoice(1, 2_000, status="VOIDED"), _invoice(2, 2_000, status="DELETED")])
        stored = _stored(connection_id)
        assert stored["inv-0001"][:2] == ("VOIDED", True)
        assert stored["inv-0002"][:2] == ("DELETED", True)
        assert stored["inv-0003"][:2] == ("AUTHORISED", False)


def test_the_last_copy_of_an_id_repeated_within_a_page_wins(app):
    with app.app_context():
        connection_id = bare_connection("Store test")
        written = _write_page(
            connection_id,
            [_invoice(1, 1_000, reference="first"), _invoice(2, 1_000), _invoice(1, 1_000, reference="second")],
        )
        assert written == 2
        assert _stored(connection_id)["inv-0001"][2]["Reference"] == "second"


@pytest.mark.parametrize(
    "value",
    [
        "/Date(1539993600000+0000)/",
        "/Date(1539993600123)/",
        "/Date(-86400000+0000)/",
        "/Date(1539993600000-0500)/",
        "2024-03-01T10:20:30",
        "2024-03-01T10:20:30Z",
        "2024-03-01T10:20:30+02:00",
        "/Date(garbage)/",
        "",
        None,
    ],
)
def test_xero_timestamps_parse_like_the_client_does(value):
    assert store.xero_timestamp(value) == parse_xero_date(value)


def test_text_with_backslashes_tabs_newlines_and_unicode_is_stored_exactly(app):
    """On PostgreSQL pages travel as COPY text, where these characters are escapes: none may be lost."""

    with app.app_context():
        connection_id = bare_connection("Store test")
        awkward = 'C:\\ledger\\new\ttab\nline\r\\N "quoted" \\\\ émoji 🧾 \\t'
        invoice = {**_invoice(1, 1_000, reference=awkward), "InvoiceID": "inv\\0001\tx", "Status": "PAID\\N"}
        _write_page(connection_id, [invoice, _invoice(2, 1_000, status="")])
        stored = _stored(connection_id)
        assert stored["inv\\0001\tx"] == ("PAID\\N", False, invoice)
        assert stored["inv-0002"][:2] == ("", False)


def test_a_failed_page_leaves_nothing_behind_and_the_next_page_writes(app):
    """A page's transaction that rolls back (the worker died mid-page) neither stores its rows nor
    breaks the next page written on the same database connection."""
    from wizard.extensions import db

    with app.app_context():
        connection_id = bare_connection("Store test")
        rows = store.record_rows(connection_id, INVOICES, [_invoice(1, 1_000)], datetime(2026, 1, 1))
        store.upsert_rows(rows)
        db.session.rollback()
        assert _stored(connection_id) == {}
        assert _write_page(connection_id, [_invoice(2, 1_000)]) == 1
        assert _write_page(connection_id, [_invoice(3, 1_000)]) == 1
        assert set(_stored(connection_id)) == {"inv-0002", "inv-0003"}


def test_a_page_looked_up_as_new_but_stored_meanwhile_still_only_moves_forward(app, monkeypatch):
    """On PostgreSQL a page whose ids were not stored is COPYed straight into the table; should
    another execution store one of them between the look-up and the COPY, the page must still be
    written by the move-forward rule, and the transaction stay usable."""
    from wizard.books import totals

    with app.app_context():
        connection_id = bare_connection("Store test")
        _write_page(connection_id, [_invoice(1, 2_000, reference="new")])
        monkeypatch.setattr(totals, "stored_copies", lambda *args, **kwargs: {})  # the look-up saw none
        assert _write_page(connection_id, [_invoice(1, 1_000, reference="stale"), _invoice(2, 1_000)]) == 2
        monkeypatch.undo()
        assert _write_page(connection_id, [_invoice(3, 1_000)]) == 1
        stored = _stored(connection_id)
        assert stored["inv-0001"][2]["Reference"] == "new"
        assert set(stored) == {"inv-0001", "inv-0002", "inv-0003"}
