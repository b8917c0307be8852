"""T-26: an invoice Xero voids or deletes is kept locally as a tombstone, not left AUTHORISED.
A row Xero no longer returns at all is tombstoned only by a complete full pass."""

from __future__ import annotations

import pytest

from tests.sync.helpers import connect_org, start_sync, stored_ids, wait_for_run


@pytest.mark.slow
def test_t26_voided_invoices_become_tombstones(app, sandbox, workers):
    workers(SYNC_WATERMARK_MARGIN_SECONDS=0)
    org = connect_org(app, sandbox, records=300)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    sandbox.state.advance(60)
    voided = sandbox.state.void_records(org.tenant_id, "invoices", 4)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    tombstones = stored_ids(app, org.connection_id, "Invoices", tombstoned=True)
    assert set(voided) <= set(tombstones)
    assert all(tombstones[i]["Status"] == "VOIDED" for i in voided)
    assert not set(voided) & set(stored_ids(app, org.connection_id, "Invoices", tombstoned=False))


def _forget_watermarks(app, connection_id: int) -> None:
    from sqlalchemy import update

    from wizard.extensions import db
    from wizard.models import StreamCursor

    with app.app_context():
        db.session.execute(
            update(StreamCursor).where(StreamCursor.connection_id == connection_id).values(watermark=None)
        )
        db.session.commit()


@pytest.mark.slow
def test_t26_rows_gone_from_a_complete_full_pass_are_tombstoned(app, sandbox, workers):
    workers()
    org = connect_org(app, sandbox, records=300)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    before = set(stored_ids(app, org.connection_id, "Invoices"))
    sandbox.state.resize_org(org.tenant_id, 150)  # Xero-side hard delete of about half the records
    _forget_watermarks(app, org.connection_id)  # the next run is a full pass over every stream
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    in_xero = set(_statuses(sandbox, org.tenant_id))
    # (Resizing regenerates the remaining records' history too, so only presence is compared.)
    assert in_xero <= set(stored_ids(app, org.connection_id, "Invoices"))
    gone = before - in_xero
    assert gone and gone <= set(stored_ids(app, org.connection_id, "Invoices", tombstoned=True))
    assert not gone & set(stored_ids(app, org.connection_id, "Invoices", tombstoned=False))


def _statuses(sandbox, tenant_id: str) -> dict[str, str]:
    books = sandbox.state.books(tenant_id)
    with books.lock:
        return {books.record_id("invoices", r.idx): r.status for r in books.invoices}
