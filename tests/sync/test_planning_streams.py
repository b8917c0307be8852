"""The planning streams (issue 14 item 5): budgets, repeating invoices, quotes, purchase orders,
contact groups and users are synced with tracking on their lines; budgets need their scope."""

from __future__ import annotations

from tests.sync.helpers import SYNC_SCOPES, connect_org, sandbox_ids, start_sync, stored_ids, wait_for_run


def test_planning_streams_are_synced_exactly_with_tracking_on_lines(app, sandbox, worker):
    from wizard.extensions import db
    from wizard.models import SyncRun
    from xero_sandbox.planning import planning

    org = connect_org(app, sandbox, records=600, scopes=SYNC_SCOPES + " accounting.budgets.read")
    run_id = start_sync(app, org.connection_id)
    assert wait_for_run(app, run_id) == "succeeded", worker.output()[-3000:]
    books = sandbox.state.books(org.tenant_id)
    derived = planning(books)
    expected = {
        "Quotes": {books.record_id("quotes", q.idx) for q in derived["quotes"]},
        "PurchaseOrders": {books.record_id("purchase_orders", p.idx) for p in derived["purchase_orders"]},
        "Budgets": {books.record_id("budgets", b.idx) for b in derived["budgets"]},
        "ContactGroups": {books.record_id("contact_groups", i) for i in range(len(derived["contact_groups"]))},
        "RepeatingInvoices": sandbox_ids(sandbox, org.tenant_id, "repeating_invoices"),
    }
    for stream, ids in expected.items():
        assert set(stored_ids(app, org.connection_id, stream)) == ids and ids, stream
    assert stored_ids(app, org.connection_id, "Users")
    invoices = stored_ids(app, org.connection_id, "Invoices").values()
    tracked = {t["Name"] for i in invoices for line in i["LineItems"] for t in line["Tracking"]}
    assert tracked == {"Region", "Department"}
    budgets = stored_ids(app, org.connection_id, "Budgets").values()
    assert {b["Type"] for b in budgets} == {"OVERALL", "TRACKING"}
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        assert next(s for s in run.streams if s.stream == "Budgets").state == "done"
