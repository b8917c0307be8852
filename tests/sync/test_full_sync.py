"""A full sync through a real RQ worker: every stream, the exact record set, no duplicates."""

from __future__ import annotations

import pytest

from tests.faults.invariants import holds_jwt
from tests.sync.helpers import (
    SANDBOX_STREAMS,
    assert_row_counts_match,
    connect_org,
    sandbox_ids,
    start_sync,
    stored_ids,
    wait_for_run,
)


def test_full_sync_stores_exactly_the_sandbox_records(app, sandbox, worker):
    org = connect_org(app, sandbox, records=400)
    run_id = start_sync(app, org.connection_id)
    assert wait_for_run(app, run_id) == "succeeded", worker.output()[-3000:]
    for sandbox_stream, (ours, _key) in SANDBOX_STREAMS.items():
        expected = sandbox_ids(sandbox, org.tenant_id, sandbox_stream)
        assert set(stored_ids(app, org.connection_id, ours)) == expected, ours
    assert_row_counts_match(app, sandbox, org)


def test_row_count_check_sees_a_missing_record(app, sandbox, worker):
    """The per-stream check can fail: one stored row fewer than the sandbox's records is caught."""
    from sqlalchemy import delete, select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    org = connect_org(app, sandbox, records=60)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded", worker.output()[-3000:]
    assert_row_counts_match(app, sandbox, org)
    with app.app_context():
        one = select(XeroRecord.id).where(
            XeroRecord.connection_id == org.connection_id, XeroRecord.stream == "Invoices"
        )
        db.session.execute(delete(XeroRecord).where(XeroRecord.id == db.session.scalar(one.limit(1))))
        db.session.commit()
    with pytest.raises(AssertionError, match="Invoices"):
        assert_row_counts_match(app, sandbox, org)


def test_full_sync_uses_the_fewest_calls_and_logs_each_one(app, sandbox, worker):
    from wizard.extensions import db
    from wizard.models import SyncRun
    from wizard.xero.streams import STREAMS, fixed_calls

    org = connect_org(app, sandbox, records=2500)
    run_id = start_sync(app, org.connection_id)
    assert wait_for_run(app, run_id) == "succeeded", worker.output()[-3000:]
    calls = [r for r in sandbox.state.requests(tenant=org.tenant_id) if r["path"].startswith("/api.xro/")]
    books = sandbox.state.books(org.tenant_id)
    paged = (
        "contacts",
        "invoices",
        "credit_notes",
        "payments",
        "overpayments",
        "prepayments",
        "bank_transactions",
        "manual_journals",
    )
    from xero_sandbox.data import TRACKING
    from xero_sandbox.planning import planning

    fixed = fixed_calls(tuple(s for s in STREAMS if s.name not in ("Journals", "Budgets", "BudgetSummary")))
    offers = planning(books)
    floor = sum(-(-books.count(s) // 1000) for s in paged) + fixed
    floor += -(-len(offers["quotes"]) // 100) + -(-len(offers["purchase_orders"]) // 1000)
    # the P&L by tracking option: one call per option (12 monthly columns), no second TrackingCategories
    floor += sum(len(options) for _name, options in TRACKING)
    assert len(calls) == floor
    assert [r["path"] for r in calls].count("/api.xro/2.0/TrackingCategories") == 1
    assert all(r["status"] == 200 for r in calls)
    assert {r["page_size"] for r in calls if r["page"] and "/Quotes" not in r["path"]} == {1000}
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        assert run.calls == floor and run.records > 2500
        journals = next(s for s in run.streams if s.stream == "Journals")
        assert journals.state == "skipped" and "accounting.journals.read" in journals.note
        budgets = next(s for s in run.streams if s.stream == "Budgets")
        assert budgets.state == "skipped" and "accounting.budgets.read" in budgets.note
    log_lines = [line for line in worker.output().splitlines() if "xero.call" in line and org.tenant_id in line]
    assert len(log_lines) == floor
    assert "Bearer" not in worker.output() and not holds_jwt(worker.output())


def test_incremental_run_fetches_only_changes_and_tombstones_voids(app, sandbox, workers):
    workers(SYNC_WATERMARK_MARGIN_SECONDS=0)
    org = connect_org(app, sandbox, records=600)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    sandbox.state.advance(60)
    edited = sandbox.state.modify_records(org.tenant_id, "invoices", 7)
    voided = sandbox.state.void_records(org.tenant_id, "bank_transactions", 3)
    sandbox.state.clear_requests()
    # Two runs back to back can pass Xero's 60 calls a minute for one organisation (the first
    # fetches every report, one P&L per tracking option): the second may wait out the minute.
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=150) == "succeeded"
    fetched = {r["path"].rsplit("/", 1)[-1]: r["rows"] for r in sandbox.state.requests(tenant=org.tenant_id)}
    assert fetched["Invoices"] == 7 and fetched["BankTransactions"] == 3 and fetched["Contacts"] == 0
    invoices = stored_ids(app, org.connection_id, "Invoices")
    assert all(invoices[i]["Reference"].endswith("(edited)") for i in edited)
    assert set(invoices) == sandbox_ids(sandbox, org.tenant_id, "invoices")
    tombstones = stored_ids(app, org.connection_id, "BankTransactions", tombstoned=True)
    assert set(voided) <= set(tombstones)
    assert all(tombstones[i]["Status"] == "DELETED" for i in voided)
    assert_row_counts_match(app, sandbox, org)


def test_second_sync_request_joins_the_active_run_and_the_database_refuses_two(app, sandbox):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.exc import IntegrityError

    from wizard.extensions import db
    from wizard.models import SyncRun

    org = connect_org(app, sandbox, records=50)
    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(lambda _: start_sync(app, org.connection_id), range(4)))
    assert len(ids) == 1
    with app.app_context():
        db.session.add(SyncRun(connection_id=org.connection_id, state="queued"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_one_fetcher_reads_the_tracking_options_it_stored_and_calls_no_more_than_the_floor(app, sandbox, workers):
    """With a single fetcher the per-option P&L (which waits for this run's TrackingCategories)
    still runs, last, and is driven by the stored categories: one P&L per option, no extra call."""
    from urllib.parse import parse_qs

    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import XeroReport

    workers(SYNC_THREADS=1)
    org = connect_org(app, sandbox, records=60)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    calls = [r for r in sandbox.state.requests(tenant=org.tenant_id) if r["path"].startswith("/api.xro/")]
    assert [r["path"] for r in calls].count("/api.xro/2.0/TrackingCategories") == 1
    tracked = [parse_qs(r["query"]) for r in calls if "trackingOptionID" in r["query"]]
    stored = stored_ids(app, org.connection_id, "TrackingCategories")
    options = {o["TrackingOptionID"] for c in stored.values() for o in c["Options"]}
    assert sorted(q["trackingOptionID"][0] for q in tracked) == sorted(options) and len(options) == 8
    assert all(q["periods"] == ["11"] and q["timeframe"] == ["MONTH"] for q in tracked)
    with app.app_context():
        periods = db.session.scalars(
            select(XeroReport.period).where(
                XeroReport.connection_id == org.connection_id, XeroReport.report == "ProfitAndLossByTracking"
            )
        ).all()
    assert {p.split(":")[0] for p in periods} == options
