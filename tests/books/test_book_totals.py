"""Books totals kept as pages are committed equal a full recomputation from the stored records:
after full, incremental and interrupted syncs, replayed pages, older copies, voids and deletes."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import wait_until
from tests.sync.helpers import bare_connection, connect_org, start_sync, wait_for_run
from wizard.xero.streams import stream
from workers.sync import store

JOURNAL_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read accounting.journals.read"
)


def _invoice(number: int, updated_ms: int, amount: float, status: str = "AUTHORISED") -> dict:
    return {
        "InvoiceID": f"inv-{number}",
        "Type": "ACCREC" if number % 2 else "ACCPAY",
        "Status": status,
        "Date": f"/Date({1_700_000_000_000 + number * 86_400_000}+0000)/",
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"AccountCode": "200", "LineAmount": amount, "TaxAmount": amount * 0.15}],
        "TotalTax": amount * 0.15,
        "Total": amount * 1.15,
    }


def _payment(number: int, updated_ms: int, amount: float) -> dict:
    return {
        "PaymentID": f"pay-{number}",
        "Status": "AUTHORISED",
        "Date": f"/Date({1_700_000_000_000 + number * 86_400_000}+0000)/",
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
        "Amount": amount,
        "Account": {"AccountID": "bank-1", "Code": "090"},
        "Invoice": {"Type": "ACCREC"},
    }


def _write(connection_id: int, name: str, items: list[dict], run_id: int | None = None, commit: bool = True) -> None:
    from wizard.extensions import db

    rows = store.record_rows(connection_id, stream(name), items, datetime(2026, 1, 1), run_id)
    store.upsert_rows(rows)
    if commit:
        db.session.commit()


def _assert_totals_match(connection_id: int) -> dict:
    from wizard.books import totals
    from wizard.extensions import db

    db.session.expire_all()
    kept, recomputed = totals.stored(connection_id), totals.recompute(connection_id)
    assert kept == recomputed
    return kept


def test_totals_follow_every_kind_of_page_write(app):
    from wizard.extensions import db

    with app.app_context():
        connection_id = bare_connection("Totals test")
        _write(connection_id, "Invoices", [_invoice(n, 1_000, 100.0 + n) for n in range(6)])
        _write(connection_id, "Payments", [_payment(n, 1_000, 50.0) for n in range(3)])
        first = _assert_totals_match(connection_id)
        assert first, "the page posted nothing"
        # A replayed page (a resumed run) and an older copy change nothing.
        _write(connection_id, "Invoices", [_invoice(n, 1_000, 100.0 + n) for n in range(6)])
        _write(connection_id, "Invoices", [_invoice(1, 500, 999.0)])
        assert _assert_totals_match(connection_id) == first
        # A newer copy moves its amounts; a void takes it out; a new record adds.
        _write(connection_id, "Invoices", [_invoice(2, 2_000, 250.0), _invoice(3, 2_000, 103.0, "VOIDED")])
        _write(connection_id, "Invoices", [_invoice(7, 2_000, 70.0)])
        assert _assert_totals_match(connection_id) != first
        # A page whose transaction rolls back (the worker died mid-page) leaves the totals as they were.
        before = _assert_totals_match(connection_id)
        _write(connection_id, "Invoices", [_invoice(4, 3_000, 1.0)], commit=False)
        db.session.rollback()
        assert _assert_totals_match(connection_id) == before
        # The end of a complete full pass: rows this run did not see are tombstoned and leave the totals.
        _write(connection_id, "Invoices", [_invoice(n, 3_000, 100.0 + n) for n in (0, 1, 2)], run_id=42)
        store.tombstone_unseen(connection_id, "Invoices", 42)
        db.session.commit()
        final = _assert_totals_match(connection_id)
        assert final != before


def _totals_equal_recomputation(app, connection_id: int) -> dict:
    with app.app_context():
        return _assert_totals_match(connection_id)


@pytest.mark.slow
def test_totals_equal_a_recomputation_after_full_incremental_and_interrupted_syncs(app, sandbox, workers):
    sandbox.state.limits.configure(minute=100_000)
    workers(
        SYNC_PAGE_SIZE=40,
        SYNC_THREADS=2,
        SYNC_RETRY_BACKOFF=0.01,
        XERO_CALLS_PER_MINUTE=100_000,
        SYNC_WATERMARK_MARGIN_SECONDS=0,
    )
    org = connect_org(app, sandbox, records=400, scopes=JOURNAL_SCOPES)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    full = _totals_equal_recomputation(app, org.connection_id)
    assert {basis for basis, _ref, _day in full} == {"journals", "transactions"}

    sandbox.state.advance(60)
    for name in ("invoices", "payments", "bank_transactions", "manual_journals"):
        sandbox.state.modify_records(org.tenant_id, name, 5)
    sandbox.state.void_records(org.tenant_id, "invoices", 4)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    incremental = _totals_equal_recomputation(app, org.connection_id)
    assert incremental != full  # voided invoices left the transactions basis

    # Interrupted: Xero fails until the job gives up mid-run; RQ's retry resumes and replays pages.
    sandbox.state.advance(60)
    sandbox.state.void_records(org.tenant_id, "invoices", 3)
    sandbox.state.faults.set_latency(0.05, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: any(r["path"].endswith("/Invoices") for r in sandbox.state.requests(tenant=org.tenant_id)))
    sandbox.state.faults.fail_next_requests(5, 500, org.tenant_id)
    wait_until(lambda: sum(r["status"] == 500 for r in sandbox.state.requests(tenant=org.tenant_id)) == 5, timeout=30)
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id, timeout=120) == "succeeded"
    assert _totals_equal_recomputation(app, org.connection_id) != incremental


def test_rebuild_command_fills_totals_for_books_synced_before_they_existed(app):
    from sqlalchemy import delete

    from wizard.books import totals
    from wizard.extensions import db
    from wizard.models import BookTotal, SyncRun

    with app.app_context():
        idle = bare_connection("Synced before totals")
        _write(idle, "Invoices", [_invoice(n, 1_000, 100.0 + n) for n in range(4)])
        expected = totals.stored(idle)
        busy = bare_connection("Syncing now")
        _write(busy, "Invoices", [_invoice(1, 1_000, 10.0)])
        db.session.add(SyncRun(connection_id=busy, state="running"))
        db.session.execute(delete(BookTotal))  # as after the upgrade: records, no totals
        db.session.commit()
        assert totals.stored(idle) == {}

    result = app.test_cli_runner().invoke(args=["rebuild-book-totals"])
    assert "books totals rebuilt for 1 connection(s)" in result.output
    assert f"syncing now, run again when done: connection(s) {busy}" in result.output
    with app.app_context():
        assert totals.stored(idle) == expected == totals.recompute(idle)
        assert totals.stored(busy) == {}
