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


def _tags(*options: str) -> list[dict]:
    return [{"TrackingCategoryID": f"cat-{o[:1]}", "TrackingOptionID": o, "Name": "C", "Option": o} for o in options]


def _invoice(number: int, updated_ms: int, amount: float, status: str = "AUTHORISED", tags=("north", "retail")) -> dict:
    return {
        "InvoiceID": f"inv-{number}",
        "Type": "ACCREC" if number % 2 else "ACCPAY",
        "Status": status,
        "Date": f"/Date({1_700_000_000_000 + number * 86_400_000}+0000)/",
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {"AccountCode": "200", "LineAmount": amount, "TaxAmount": amount * 0.15, "Tracking": _tags(*tags)}
        ],
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
        # each tagged line also counts under each of its options, the tax and control lines do not
        assert {option for _b, _r, _d, option in first} == {"", "north", "retail"}
        tagged = {key: v for key, v in first.items() if key[3] == "north"}
        assert {ref for _b, ref, _d, _o in tagged} == {"a||200"}
        assert tagged == {(b, r, d, "north"): v for (b, r, d, o), v in first.items() if o == "" and r == "a||200"}
        # A replayed page (a resumed run) and an older copy change nothing.
        _write(connection_id, "Invoices", [_invoice(n, 1_000, 100.0 + n) for n in range(6)])
        _write(connection_id, "Invoices", [_invoice(1, 500, 999.0)])
        assert _assert_totals_match(connection_id) == first
        # A newer copy moves its amounts; a void takes it out; a new record adds.
        _write(connection_id, "Invoices", [_invoice(2, 2_000, 250.0), _invoice(3, 2_000, 103.0, "VOIDED")])
        _write(connection_id, "Invoices", [_invoice(7, 2_000, 70.0)])
        assert _assert_totals_match(connection_id) != first
        # a newer copy that moves a line to another option moves its tracked total with it
        _write(connection_id, "Invoices", [_invoice(5, 2_500, 105.0, tags=("south",))])
        moved = _assert_totals_match(connection_id)
        assert any(key[3] == "south" for key in moved) and "retail" in {key[3] for key in moved}
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
def test_totals_equal_a_recomputation_after_full_incremental_and_interrupted_syncs(app, sandbox, fast_sync_worker):
    org = connect_org(app, sandbox, records=400, scopes=JOURNAL_SCOPES)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    full = _totals_equal_recomputation(app, org.connection_id)
    assert {(basis, option != "") for basis, _ref, _day, option in full} == {
        ("journals", False),
        ("journals", True),
        ("transactions", False),
        ("transactions", True),
    }
    assert _tracking_view_equals_the_records(app, org.connection_id)

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
    assert _tracking_view_equals_the_records(app, org.connection_id)


def _tracking_view_equals_the_records(app, connection_id: int) -> int:
    """The P&L by tracking view (read from the totals) equals the tagged P&L lines summed from the
    stored records; returns how many option x month cells carry an amount."""
    import json
    from collections import Counter

    from sqlalchemy import select

    from wizard.books import postings
    from wizard.books.ledger import _Chart, chart_of_accounts
    from wizard.books.tracking_pnl import PL_TYPES, categories, tracking_pnl
    from wizard.clock import utcnow
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        today = utcnow().date()
        chart = _Chart(chart_of_accounts(connection_id))
        expected: Counter = Counter()
        query = select(XeroRecord.stream, XeroRecord.payload).where(
            XeroRecord.connection_id == connection_id,
            XeroRecord.tombstoned.is_(False),
            XeroRecord.stream.in_(postings.TRANSACTION_STREAMS),
        )
        for name, payload in db.session.execute(query):
            for ref, day, amount, option in postings.postings(name, json.loads(payload)):
                account = postings.resolve(ref, chart).account
                if option and day <= today and account is not None and account.type in PL_TYPES:
                    expected[(option, f"{day.year}-{day.month:02d}")] -= amount
        cells = 0
        for category in categories(connection_id):
            view = tracking_pnl(connection_id, category.category_id, today)
            names = {name: option_id for option_id, name in category.options}
            for check in view.checks:
                for month, value in zip(view.months, check.ours, strict=True):
                    assert value == expected[(names[check.name], month)], (check.name, month)
                    cells += value != 0
        return cells


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


def test_totals_keep_references_and_options_with_any_characters(app):
    """On PostgreSQL the totals travel as array literals: quotes, backslashes, commas, braces,
    spaces and empty strings in a reference or option id must come back as written."""
    from collections import Counter
    from datetime import date

    from wizard.books import totals
    from wizard.extensions import db

    odd = ['a|id|"quoted"', "a|id|back\\slash", "a|{braced},comma", "a| spaced |", "s|NULL", "a||"]
    delta = Counter({("transactions", ref, date(2025, 1, 1), option): 100 for ref in odd for option in ("", "o,{1}")})
    with app.app_context():
        connection_id = bare_connection("Odd references")
        totals.apply(connection_id, delta)
        totals.apply(connection_id, Counter({key: 5 for key in delta}))
        db.session.commit()
        assert totals.stored(connection_id) == {key: 105 for key in delta}
